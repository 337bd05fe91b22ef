package autotask

import (
	"fmt"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/plugins/autotask/autotasktest"
)

// TestTimeEntryLookupsReused: the resource and the role of a time entry are
// looked up once for many session ends (they were two of a session end's
// seven requests, against the tenant's hourly budget), and a refused time
// entry makes the next one look them up again.
func TestTimeEntryLookupsReused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, autotasktest.Options{})
	h.set.UpdateTimeEntry = true
	h.set.TimeEntryDefaults = `{"defaultDomain": "msp.example", "roleName": "Technician", "summaryNotes": "Remote support session"}`
	end := func(i int) (engine.Outcome, error) {
		s := h.app.Begin(bttest.SessionSpec{
			LSID:        fmt.Sprintf("5e55104c0ffee00000000000000001%02d", i),
			ExternalKey: autotasktest.TicketOpenNumber,
			Customer:    &bttest.Customer{Name: "Jane Doe", Issue: "Printer"},
			Rep:         bttest.Rep{ID: "3", Username: "alice", DisplayName: "Alice Tech"},
		}).After(10 * time.Minute).End()
		return h.handle(h.job(engine.EventSessionEnd, s, nil))
	}
	lookups := func() (int, int) { return h.sim.Stats("Resources").Requests, h.sim.Stats("Roles").Requests }
	for i := range 3 {
		if out, err := end(i); out != engine.OutcomeDone {
			t.Fatalf("session %d: outcome %v: %v", i, out, err)
		}
	}
	if n := len(h.sim.TimeEntries(autotasktest.TicketOpen)); n != 3 {
		t.Fatalf("%d time entries, want 3", n)
	}
	if res, roles := lookups(); res != 1 || roles != 1 {
		t.Errorf("three time entries looked up the resource %d times and the role %d times, want once each", res, roles)
	}
	h.sim.Inject(autotasktest.Fault{Method: "POST", Endpoint: "TimeEntries", WritesOnly: true, Status: 500})
	if out, err := end(3); out != engine.OutcomeRetry {
		t.Fatalf("refused time entry: outcome %v (%v), want retry", out, err)
	}
	if out, err := end(4); out != engine.OutcomeDone {
		t.Fatalf("after the refusal: outcome %v: %v", out, err)
	}
	if res, roles := lookups(); res != 2 || roles != 2 {
		t.Errorf("after a refused time entry the resource was looked up %d times and the role %d times in all, want twice each", res, roles)
	}
}
