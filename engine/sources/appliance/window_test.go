package appliance

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"switchboard/engine/beyondtrust"
)

// asked records the time parameters of every report request.
type asked struct {
	Reports
	mu    sync.Mutex
	forms []url.Values
}

func (a *asked) Report(ctx context.Context, name string, form url.Values, parse func(io.Reader) error) error {
	a.mu.Lock()
	a.forms = append(a.forms, form)
	a.mu.Unlock()
	return a.Reports.Report(ctx, name, form, parse)
}

// Team and Vault are asked in windows of at most Window minutes: a first
// poll three days back, or a poll after a long outage, never asks for an
// unbounded report, and every activity of the span is stored once.
func TestTeamAndVaultAreAskedInBoundedWindows(t *testing.T) {
	t.Parallel()
	f := newFixture(t, beyondtrust.ProductPRA)
	rec := &asked{Reports: f.tgt.Client}
	f.tgt.Client = rec
	f.tgt.Settings.FirstFetch = 3 * 24 * 60
	now := f.clock.Now()
	for h := 1; h < 72; h += 5 {
		f.team(now.Add(-time.Duration(h)*time.Hour), "Conference Member Added", [2]string{"user_id", strconv.Itoa(h)})
		f.vault(now.Add(-time.Duration(h)*time.Hour), "Password Changed")
	}
	for _, stream := range []string{StreamTeam, StreamVault} {
		rec.forms = nil
		// 72 hours are more than one poll's 48 windows: two polls.
		c1, c2 := f.mustPoll(stream), f.mustPoll(stream)
		if c1.New+c2.New != 15 || c1.New == 15 {
			t.Errorf("%s: %d then %d new, want 15 in two polls", stream, c1.New, c2.New)
		}
		if len(rec.forms) < 72/(DefaultWindow/60) {
			t.Errorf("%s: %d requests for 72 hours in windows of %d minutes", stream, len(rec.forms), DefaultWindow)
		}
		for _, form := range rec.forms {
			from, _ := strconv.ParseInt(form.Get("end_time"), 10, 64)
			dur, _ := strconv.ParseInt(form.Get("duration"), 10, 64)
			switch {
			case dur < 0 || dur > DefaultWindow*60:
				t.Errorf("%s: asked %v", stream, form)
			case dur == 0 && now.Unix()-from > DefaultWindow*60:
				t.Errorf("%s: asked up to now from %s: %v", stream, time.Unix(from, 0).UTC(), form)
			}
		}
		if got, want := f.cursor(stream).Cursor(), now.Add(-time.Hour); !got.Equal(want) {
			t.Errorf("%s: cursor %s, want the latest record's time %s", stream, got, want)
		}
	}
}

// A quiet appliance: with nothing to read for days, the cursor still moves
// (to the end of the windows read, at most to a window before now), so
// that polls do not ask the same empty days again and again.
func TestQuietSpansMoveTheCursorByWholeWindows(t *testing.T) {
	t.Parallel()
	f := newFixture(t, beyondtrust.ProductPRA)
	f.tgt.Settings.FirstFetch = 7 * 24 * 60
	start := f.clock.Now().Add(-7 * 24 * time.Hour)
	f.mustPoll(StreamTeam)
	first := f.cursor(StreamTeam).Cursor()
	if want := start.Add(MaxWindowsPerPoll * DefaultWindow * time.Minute); !first.Equal(want) {
		t.Fatalf("cursor after a quiet poll %s, want %s", first, want)
	}
	for range 5 {
		f.mustPoll(StreamTeam)
	}
	if got, want := f.cursor(StreamTeam).Cursor(), f.clock.Now().Add(-DefaultWindow*time.Minute); !got.Equal(want) {
		t.Fatalf("cursor %s, want one window before now %s", got, want)
	}
	// An activity in the last window is still found.
	f.team(f.clock.Now().Add(-10*time.Minute), "Conference Member Added")
	if c := f.mustPoll(StreamTeam); c.New != 1 {
		t.Fatalf("late activity: %+v", c)
	}
}

// A message whose segments are split across two downloads is stored once,
// complete, when its last segment arrives; a message after it in the first
// download is stored at once, and the cursor waits for the open message.
func TestASyslogMessageSplitAcrossDownloadsIsStoredOnceComplete(t *testing.T) {
	t.Parallel()
	f := newFixture(t, beyondtrust.ProductPRA)
	at := f.clock.Now().Add(-2 * time.Minute)
	f.sim.AddSyslog(
		syslogLine(at, 77178, 1430, 1, 3, fmt.Sprintf("site=test.beyondtrustcloud.com;when=%d;", at.Unix())),
		syslogLine(at, 77178, 1430, 2, 3, "event=user_changed;"),
	)
	f.syslog(at.Add(time.Minute), 1431, "login")
	if c := f.mustPoll(StreamSyslog); c.New != 1 {
		t.Fatalf("first poll stored %d, want the complete message only", c.New)
	}
	if got := f.cursor(StreamSyslog).Cursor(); got.After(at) {
		t.Fatalf("cursor %s passed the open message at %s", got, at)
	}
	f.clock.Add(time.Minute)
	f.sim.AddSyslog(syslogLine(at, 77178, 1430, 3, 3, "old_username=jane.doe@example.com"))
	if c := f.mustPoll(StreamSyslog); c.New != 1 {
		t.Fatalf("second poll stored %d, want the completed message", c.New)
	}
	docs, _ := f.docs(StreamSyslog)
	n := 0
	for _, d := range docs {
		if d["number"] == float64(1430) {
			n++
			if d["incomplete"] != nil || d["segments"] != float64(3) {
				t.Errorf("stored %v", d)
			}
		}
	}
	if n != 1 || len(docs) != 2 {
		t.Fatalf("message 1430 stored %d times; %d documents", n, len(docs))
	}
}

// A message whose segment never comes is stored once, incomplete, when it
// is older than the wait (an interval and five minutes).
func TestASyslogMessageMissingASegmentForGoodIsStoredIncompleteOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, beyondtrust.ProductPRA)
	at := f.clock.Now().Add(-time.Minute)
	f.sim.AddSyslog(syslogLine(at, 77178, 1430, 1, 2, fmt.Sprintf("when=%d;event=x;", at.Unix())))
	if c := f.mustPoll(StreamSyslog); c.New != 0 {
		t.Fatalf("stored %d while the message may still complete", c.New)
	}
	f.clock.Add(time.Duration(f.tgt.Settings.Interval)*time.Second + 5*time.Minute)
	if c := f.mustPoll(StreamSyslog); c.New != 1 {
		t.Fatalf("stored %d once the wait was over", c.New)
	}
	f.clock.Add(time.Hour)
	if c := f.mustPoll(StreamSyslog); c.New != 0 {
		t.Fatalf("stored again: %+v", c)
	}
	docs, _ := f.docs(StreamSyslog)
	if len(docs) != 1 || docs[0]["incomplete"] != true {
		t.Fatalf("docs %v", docs)
	}
}
