package pmcloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"switchboard/engine/sources/pmcloud/pmcloudtest"
	"switchboard/engine/store"
)

func newAuditFixture(t *testing.T) *fixture {
	f := newFixture(t)
	f.tgt.Settings.Streams = []string{StreamAudits}
	return f
}

// addAudits stores n audits in the simulator, created one every step from at.
func (f *fixture) addAudits(n int, at time.Time, step time.Duration) {
	f.t.Helper()
	for i := range n {
		f.added++
		if err := f.sim.AddAudits(pmcloudtest.Audit(int64(48000+f.added), at.Add(time.Duration(i)*step))); err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *fixture) pollAudits() (Cycle, error) {
	f.t.Helper()
	return f.p.PollAudits(context.Background(), f.tgt)
}

func (f *fixture) mustPollAudits() Cycle {
	f.t.Helper()
	return f.must(f.pollAudits())
}

// auditsStored returns each stored audit id with how often it is stored.
func (f *fixture) auditsStored() map[string]int {
	f.t.Helper()
	return f.storedIDs(AuditEventName, "audit_id")
}

// checkAuditsOnce fails unless every added audit is stored and delivered once.
func (f *fixture) checkAuditsOnce() {
	f.t.Helper()
	_, deliveries := f.stored()
	f.checkOnce("audit", f.auditsStored(), deliveries)
}

func TestAuditsReadTheWindowInPagesOf200(t *testing.T) {
	t.Parallel()
	f := newAuditFixture(t)
	f.addAudits(450, f.clock.Now().Add(-50*time.Minute), 5*time.Second)
	f.addAudits(3, f.clock.Now().Add(-3*time.Hour), time.Second) // before the first-fetch window
	c := f.mustPollAudits()
	if c.Fetched != 450 || c.New != 450 || c.Pages != 3 || c.Capped {
		t.Fatalf("cycle %+v, want 450 read in 3 pages", c)
	}
	reqs := f.sim.AuditRequests()
	for i, r := range reqs {
		q, _ := url.ParseQuery(r.Query)
		if r.Status != http.StatusOK || r.Size != "200" || r.Page != fmt.Sprint(i+1) || q.Get("Filter.Created.SelectionMode") != "Range" || len(r.Dates) != 2 {
			t.Errorf("request %d: %+v", i, r)
		}
	}
	// The first window: first fetch less the overlap, to the poll's time.
	if want := []string{"2026-03-02 07:55:00.0000000 +00:00", "2026-03-02 09:00:00.0000000 +00:00"}; fmt.Sprint(reqs[0].Dates) != fmt.Sprint(want) {
		t.Errorf("dates %q, want %q", reqs[0].Dates, want)
	}
	if !f.cursor().Cursor().Equal(f.clock.Now()) {
		t.Errorf("cursor %s, want the window's end", f.cursor().Cursor())
	}
	f.added -= 3
	f.checkAuditsOnce()
	list, _ := f.st.ListEvents(context.Background(), store.EventFilter{Name: AuditEventName, Limit: 1})
	var doc map[string]any
	if err := json.Unmarshal([]byte(list[0].Values().Get(DocumentField)), &doc); err != nil || doc["auditType"] != "Modify" || list[0].Source != Source {
		t.Errorf("stored %+v (%v)", list[0], err)
	}
}

// An audit recorded late, with a created time inside the last window, is
// read by the overlap; the audits read again are stored once.
func TestAuditOverlapFindsALateAuditAndDropsRepeats(t *testing.T) {
	t.Parallel()
	f := newAuditFixture(t)
	f.addAudits(20, f.clock.Now().Add(-10*time.Minute), 20*time.Second)
	f.mustPollAudits()
	f.addAudits(1, f.clock.Now().Add(-2*time.Minute), 0) // recorded after the poll, created before it
	f.addAudits(5, f.clock.Now().Add(time.Minute), time.Second)
	f.clock.Add(5 * time.Minute)
	c := f.mustPollAudits()
	if c.New != 6 || c.Fetched <= 6 {
		t.Fatalf("second poll %+v, want the late audit, the 5 new ones, and repeats read in the overlap", c)
	}
	f.checkAuditsOnce()
}

func TestAuditsAcrossFaults(t *testing.T) {
	t.Parallel()
	f := newAuditFixture(t)
	f.addAudits(500, f.clock.Now().Add(-40*time.Minute), time.Second)
	f.mustPollAudits()
	cur := f.cursor().Cursor()
	for i, fault := range []struct{ status, n int }{{500, 1}, {503, 1}, {401, 2}} {
		f.clock.Add(5 * time.Minute)
		f.addAudits(300, f.clock.Now().Add(-4*time.Minute), 500*time.Millisecond)
		f.sim.Fail(pmcloudtest.AuditsPath, fault.status, fault.n, `{"title":"Server Error"}`)
		if _, err := f.pollAudits(); err == nil || !strings.Contains(err.Error(), fmt.Sprint(fault.status)) {
			t.Fatalf("fault %d: %v, want the %d", i, err, fault.status)
		}
		if got := f.cursor(); !got.Cursor().Equal(cur) || got.LastError == "" {
			t.Fatalf("fault %d: cursor %s error %q, want it kept with an error", i, got.Cursor(), got.LastError)
		}
	}
	f.clock.Add(time.Minute)
	c, err := f.pollAudits()
	if err != nil || c.New != 900 {
		t.Fatalf("after the outage %+v %v, want the 900 audits", c, err)
	}
	f.checkAuditsOnce()

	// A 429 pauses the budget for 100 s (no Retry-After) and keeps the cursor.
	f.clock.Add(5 * time.Minute)
	f.addAudits(10, f.clock.Now().Add(-time.Minute), time.Second)
	cur = f.cursor().Cursor()
	f.sim.Fail(pmcloudtest.AuditsPath, http.StatusTooManyRequests, 1, "")
	if _, err := f.pollAudits(); err == nil || !f.cursor().Cursor().Equal(cur) {
		t.Fatalf("429: %v, cursor %s", err, f.cursor().Cursor())
	}
	if until := f.budget.PausedUntil(); !until.Equal(f.clock.Now().Add(100 * time.Second)) {
		t.Errorf("paused until %s, want 100 s on", until)
	}
	var paused *PausedError
	if _, err := f.pollAudits(); !errors.As(err, &paused) {
		t.Errorf("a poll during the pause: %v", err)
	}
	f.clock.Add(101 * time.Second)
	f.mustPollAudits()
	f.checkAuditsOnce()
}

func TestAFailedAuditPageKeepsTheOnesBefore(t *testing.T) {
	t.Parallel()
	f := newAuditFixture(t)
	f.addAudits(450, f.clock.Now().Add(-30*time.Minute), time.Second)
	f.sim.RateLimit = 3 // the token and pages 1 and 2; page 3 gets 429
	c, err := f.pollAudits()
	start := f.clock.Now().Add(-time.Hour)
	if err == nil || c.New != 400 || !f.cursor().Cursor().Equal(start) {
		t.Fatalf("poll %+v %v cursor %s, want 400 stored, the cursor at the window's start, an error", c, err, f.cursor().Cursor())
	}
	f.sim.RateLimit = -1
	f.clock.Add(101 * time.Second)
	if c := f.mustPollAudits(); c.New != 50 {
		t.Fatalf("again: %+v, want the 50 left", c)
	}
	f.checkAuditsOnce()
}

func TestAuditAnswersOfOddShapes(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		"<html>gateway</html>", "", `{}`, `{"data":{}}`, `{"data":[1]}`, `{"data":[{"id":1}`, `[]`, `{"data":null}`,
	} {
		f := newAuditFixture(t)
		f.addAudits(5, f.clock.Now().Add(-10*time.Minute), time.Second)
		f.sim.Fail(pmcloudtest.AuditsPath, http.StatusOK, 1, body)
		_, err := f.pollAudits()
		if err == nil || !errors.Is(err, ErrShape) {
			t.Errorf("body %q: %v, want a shape error", body, err)
		}
		if len(f.auditsStored()) != 0 || f.cursor().CursorAt != 0 {
			t.Errorf("body %q: something stored or the cursor moved", body)
		}
	}
	// Shapes that are read: an id as a string, no id (keyed by the
	// document), an unreadable created, no counts, an empty page.
	f := newAuditFixture(t)
	f.sim.Fail(pmcloudtest.AuditsPath, http.StatusOK, 1,
		`{"data":[{"id":"a-7","created":"2026-03-02T08:59:00Z"},{"details":"no id","created":"yesterday"},{"id":9,"created":"2026-03-02 08:58:00.1234567 +00:00"}]}`)
	c := f.mustPollAudits()
	ids := f.auditsStored()
	if c.New != 3 || ids["a-7"] != 1 || ids["9"] != 1 {
		t.Fatalf("read %+v stored %v", c, ids)
	}
	f.clock.Add(time.Minute)
	f.sim.Fail(pmcloudtest.AuditsPath, http.StatusOK, 1, `{"pageNumber":1,"pageSize":200,"totalRecordCount":0,"pageCount":0,"data":[]}`)
	if c := f.mustPollAudits(); c.Fetched != 0 || !f.cursor().Cursor().Equal(f.clock.Now()) {
		t.Fatalf("empty page: %+v cursor %s", c, f.cursor().Cursor())
	}
}

// A remote that ignores Pagination.PageNumber answers page 1 again and
// again: the poll ends with an error instead of asking forever.
func TestARemoteIgnoringThePageNumberDoesNotLoop(t *testing.T) {
	t.Parallel()
	f := newAuditFixture(t)
	var docs []json.RawMessage
	for i := range 200 {
		docs = append(docs, pmcloudtest.Audit(int64(i), f.clock.Now().Add(-time.Minute)))
	}
	body, _ := json.Marshal(map[string]any{"pageCount": 5, "totalRecordCount": 1000, "data": docs})
	f.sim.Fail(pmcloudtest.AuditsPath, http.StatusOK, 50, string(body))
	done := make(chan error, 1)
	go func() { _, err := f.pollAudits(); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrShape) {
			t.Fatalf("error %v, want a shape error", err)
		}
	case <-time.After(time.Minute): // a hang guard
		t.Fatal("the poll still asks for pages")
	}
	if n, start := len(f.auditsStored()), f.clock.Now().Add(-time.Hour); n != 200 || f.cursor().Cursor().After(start) {
		t.Fatalf("stored %d, cursor %s, want 200 and the cursor not past %s", n, f.cursor().Cursor(), start)
	}
}

// A window holding more audits than the cap is halved until it holds no
// more; the polls that follow read the rest, each audit once.
func TestAuditCapHalvesTheWindow(t *testing.T) {
	t.Parallel()
	f := newAuditFixture(t)
	f.tgt.Settings.MaxPerCycle = 150
	f.tgt.Settings.AuditOverlap = 0
	f.addAudits(400, f.clock.Now().Add(-55*time.Minute), 8*time.Second)
	for i := 0; ; i++ {
		c := f.mustPollAudits()
		if c.Fetched > 150 {
			t.Fatalf("poll %d read %d, over the cap", i, c.Fetched)
		}
		if !c.Capped {
			break
		}
		if i > 20 {
			t.Fatal("the capped polls do not end")
		}
	}
	f.checkAuditsOnce()
}

// Audit ids are integers and may equal an event id: both are stored.
func TestAnAuditAndAnEventWithOneIDAreBothStored(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.tgt.Settings.Streams = []string{StreamEvents, StreamAudits}
	if err := f.sim.Add(pmcloudtest.Event("48001", f.clock.Now().Add(-time.Minute))); err != nil {
		t.Fatal(err)
	}
	f.addAudits(1, f.clock.Now().Add(-time.Minute), 0)
	f.mustPoll()
	f.mustPollAudits()
	ids, deliveries := f.stored()
	if ids["48001"] != 1 || f.auditsStored()["48001"] != 1 || deliveries != 2 {
		t.Fatalf("events %v audits %v deliveries %d", ids, f.auditsStored(), deliveries)
	}
}
