package pmcloud

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"switchboard/engine/sources/pmcloud/pmcloudtest"
)

// page writes a FromStartDate answer holding docs.
func page(docs ...json.RawMessage) string {
	b, _ := json.Marshal(map[string]any{"totalRecordsReturned": len(docs), "events": docs})
	return string(b)
}

// A remote that ignores StartDate (a proxy that drops the query, say) and
// answers every page with the same full page of old events, each id twice: the poll
// ends with a clear error instead of asking forever, stores each event
// once and never moves the cursor back before where it started.
func TestARemoteIgnoringStartDateDoesNotLoopOrMoveTheCursorBack(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.tgt.Settings.MaxPerCycle = 4
	old := f.clock.Now().Add(-3 * time.Hour)
	a, b := pmcloudtest.Event("old-1", old), pmcloudtest.Event("old-2", old.Add(time.Second))
	// Each id twice: a full page of 4 that counts 2 against the cap, so
	// that the next page (2 asked) is full of ids read already.
	body := page(a, b, a, b)
	f.sim.Fail(pmcloudtest.EventsPath, http.StatusOK, 50, body)
	start := f.clock.Now().Add(-time.Duration(f.tgt.Settings.FirstFetch) * time.Minute).Truncate(time.Millisecond)

	done := make(chan error, 1)
	go func() { _, err := f.poll(); done <- err }()
	var err error
	select {
	case err = <-done:
	case <-time.After(time.Minute): // a hang guard, not a timing assertion
		t.Fatal("the poll still asks for pages")
	}
	if err == nil || !errors.Is(err, ErrShape) || !strings.Contains(err.Error(), "pmcloud") {
		t.Errorf("error %v, want a clear pmcloud ErrShape error", err)
	}
	if cur := f.cursor(); cur.CursorAt != 0 && cur.Cursor().Before(start) {
		t.Errorf("cursor moved back to %s, before the start %s", FormatStart(cur.Cursor()), FormatStart(start))
	}
	ids, _ := f.stored()
	if ids["old-1"] != 1 || ids["old-2"] != 1 {
		t.Errorf("stored %v, want each old event once", ids)
	}
}

// A short page whose events were ingested before StartDate (a clock going
// backwards on the remote) does not move the cursor back.
func TestAShortPageOfOlderEventsKeepsTheCursor(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.add(3, f.clock.Now().Add(-10*time.Minute), time.Second)
	f.mustPoll()
	before := f.cursor().Cursor()
	old := before.Add(-2 * time.Hour)
	f.sim.Fail(pmcloudtest.EventsPath, http.StatusOK, 1, page(pmcloudtest.Event("late-1", old)))
	f.mustPoll()
	if after := f.cursor().Cursor(); after.Before(before) {
		t.Fatalf("cursor moved back from %s to %s", FormatStart(before), FormatStart(after))
	}
	if ids, _ := f.stored(); ids["late-1"] != 1 {
		t.Fatalf("the late event is not stored once: %v", ids)
	}
}

// Error answers that echo what was sent (the form with the secret, the
// bearer token, the secret URL-encoded) leave none of it in the error or
// in the error stored for the status page.
func TestEchoedCredentialsStayOutOfErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok, err := f.tgt.Client.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	f.sim.Fail(pmcloudtest.EventsPath, http.StatusBadRequest, 1, "bad request; Authorization: Bearer "+tok)
	_, perr := f.poll()
	f.tgt.Client = f.client(secret)
	f.sim.Fail(pmcloudtest.TokenPath, http.StatusInternalServerError, 1, "failed: "+url.Values{"client_secret": {secret}}.Encode()+" raw "+secret)
	_, terr := f.poll()
	for _, e := range []error{perr, terr} {
		if e == nil {
			t.Fatal("a failing answer gave no error")
		}
	}
	for _, s := range []string{perr.Error(), terr.Error(), f.cursor().LastError} {
		for _, leak := range []string{secret, url.QueryEscape(secret), tok} {
			if strings.Contains(s, leak) {
				t.Errorf("error %q holds a credential", s)
			}
		}
	}
}

// One event stamped far in the future (a remote clock gone wrong) does
// not carry the cursor past every event still to come.
func TestAnEventFromTheFutureDoesNotSkipWhatFollows(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.add(3, f.clock.Now().Add(-5*time.Minute), time.Second)
	if err := f.sim.Add(pmcloudtest.Event("from-2036", f.clock.Now().AddDate(10, 0, 0))); err != nil {
		t.Fatal(err)
	}
	f.added++
	f.mustPoll()
	if c := f.cursor().Cursor(); c.After(f.clock.Now().Add(time.Millisecond)) {
		t.Errorf("cursor at %s, past the poll's time %s", FormatStart(c), FormatStart(f.clock.Now()))
	}
	f.clock.Add(time.Minute)
	f.add(5, f.clock.Now().Add(-30*time.Second), time.Second)
	f.clock.Add(time.Minute)
	f.mustPoll()
	f.checkAllOnce()
}

// A token answer with an absurd expires_in (overflowing a Duration) is
// still reused, not fetched again before every request.
func TestAHugeTokenLifetimeIsReused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.sim.Fail(pmcloudtest.TokenPath, http.StatusOK, 1, `{"access_token":"forged-token-1","token_type":"Bearer","expires_in":10000000000}`)
	first, err := f.tgt.Client.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.tgt.Client.Token(context.Background())
	if err != nil || again != first {
		t.Fatalf("second Token: %q %v, want the first one (%q) reused", again, err, first)
	}
}

// A 200 answer that is not in the documented shape but echoes the bearer
// token (an echoing proxy) leaves no token in the shape error, for events
// and for audits.
func TestEchoedTokenInA200AnswerStaysOutOfShapeErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok, err := f.tgt.Client.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now()
	f.sim.Fail(pmcloudtest.EventsPath, http.StatusOK, 1, "Bearer "+tok)
	_, eerr := f.tgt.Client.Events(context.Background(), now.Add(-time.Hour), 1)
	f.sim.Fail(pmcloudtest.AuditsPath, http.StatusOK, 1, "Bearer "+tok)
	_, aerr := f.tgt.Client.Audits(context.Background(), now.Add(-time.Hour), now, 1, 1)
	for _, e := range []error{eerr, aerr} {
		if e == nil || !errors.Is(e, ErrShape) {
			t.Fatalf("error %v, want ErrShape", e)
		}
		if strings.Contains(e.Error(), tok) {
			t.Errorf("error %q holds the bearer token", e)
		}
	}
}
