package pmcloud

import (
	"errors"
	"strings"
	"testing"
	"time"

	"switchboard/engine/sources/pmcloud/pmcloudtest"
)

// A page over the body cap is asked for again smaller; the smaller page,
// full, is not taken for the last one: every event is stored in one poll.
func TestAnOversizedPageIsAskedForAgainSmaller(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	one := len(pmcloudtest.Event("evt-000001", f.clock.Now()))
	c, err := NewClient(f.sim.ServicesURL(), clientID, secret, ClientOptions{HTTP: f.sim.Client(), Budget: f.budget, Now: f.clock.Now, MaxBody: int64(300 * one)})
	if err != nil {
		t.Fatal(err)
	}
	f.tgt.Client = c
	f.add(1500, f.clock.Now().Add(-50*time.Minute), time.Second)
	cyc := f.mustPoll()
	if cyc.New != 1500 {
		t.Fatalf("cycle %+v, want all 1500 events in one poll", cyc)
	}
	var sizes []string
	for _, r := range f.sim.Requests() {
		sizes = append(sizes, r.RecordSize)
	}
	if sizes[0] != "1000" || sizes[1] != "500" || sizes[2] != "250" {
		t.Errorf("record sizes %v, want 1000, 500, 250 …", sizes)
	}
	f.checkAllOnce()
	last := f.clock.Now().Add(-50 * time.Minute).Add(1499 * time.Second).Add(123456 * time.Nanosecond)
	if want := last.Add(time.Millisecond).Truncate(time.Millisecond); !f.cursor().Cursor().Equal(want) {
		t.Errorf("cursor %s, want %s", f.cursor().Cursor(), want)
	}
}

// One event over the cap: the poll ends with a clear error, the cursor stays.
func TestAnEventOverTheBodyCapIsAClearError(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c, err := NewClient(f.sim.ServicesURL(), clientID, secret, ClientOptions{HTTP: f.sim.Client(), Budget: f.budget, Now: f.clock.Now, MaxBody: int64(len(pmcloudtest.Event("evt-000001", f.clock.Now())) / 2)})
	if err != nil {
		t.Fatal(err)
	}
	f.tgt.Client = c
	f.add(3, f.clock.Now().Add(-5*time.Minute), time.Second)
	_, err = f.poll()
	if !errors.Is(err, ErrPageTooLarge) || !strings.Contains(err.Error(), "RecordSize 1") {
		t.Fatalf("error %v, want a page too large at RecordSize 1", err)
	}
	if f.cursor().CursorAt != 0 {
		t.Errorf("cursor moved")
	}
}

// An audit page over the body cap is asked for again in smaller pages that
// continue where the read ones end.
func TestAnOversizedAuditPageIsAskedForAgainSmaller(t *testing.T) {
	t.Parallel()
	f := newAuditFixture(t)
	one := len(pmcloudtest.Audit(48001, f.clock.Now()))
	c, err := NewClient(f.sim.ServicesURL(), clientID, secret, ClientOptions{HTTP: f.sim.Client(), Budget: f.budget, Now: f.clock.Now, MaxBody: int64(60 * one)})
	if err != nil {
		t.Fatal(err)
	}
	f.tgt.Client = c
	f.addAudits(430, f.clock.Now().Add(-50*time.Minute), time.Second)
	if cyc := f.mustPollAudits(); cyc.New != 430 {
		t.Fatalf("cycle %+v, want all 430 audits", cyc)
	}
	var sizes []string
	for _, r := range f.sim.AuditRequests() {
		sizes = append(sizes, r.Size+"/"+r.Page)
	}
	if strings.Join(sizes[:4], " ") != "200/1 100/1 50/1 50/2" {
		t.Errorf("size/page %v", sizes)
	}
	f.checkAuditsOnce()
}
