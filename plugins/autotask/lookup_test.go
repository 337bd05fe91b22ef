package autotask

import (
	"fmt"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/plugins/autotask/autotasktest"
)

// timeEntryHarness is a harness whose session ends also add a time entry.
func timeEntryHarness(t *testing.T) *harness {
	h := newHarness(t, autotasktest.Options{})
	h.set.UpdateTimeEntry = true
	h.set.TimeEntryDefaults = `{"defaultDomain": "msp.example", "roleName": "Technician", "summaryNotes": "Remote support session"}`
	return h
}

// aliceSessionEnd scripts a ten-minute session of alice's on the open
// ticket, ended.
func aliceSessionEnd(h *harness, lsid string) *bttest.LiveSession {
	return h.app.Begin(bttest.SessionSpec{
		LSID:        lsid,
		ExternalKey: autotasktest.TicketOpenNumber,
		Customer:    &bttest.Customer{Name: "Jane Doe", Issue: "Printer"},
		Rep:         bttest.Rep{ID: "3", Username: "alice", DisplayName: "Alice Tech"},
	}).After(10 * time.Minute).End()
}

// TestTimeEntryLookupsReused: the resource and the role of a time entry are
// looked up once for many session ends (they were two of a session end's
// seven requests, against the tenant's hourly budget), and a refused time
// entry makes the next one look them up again.
func TestTimeEntryLookupsReused(t *testing.T) {
	t.Parallel()
	h := timeEntryHarness(t)
	end := func(i int) (engine.Outcome, error) {
		s := aliceSessionEnd(h, fmt.Sprintf("5e55104c0ffee00000000000000001%02d", i))
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

// TestStaleResourceIDIsLookedUpAgain: the representative's resource is
// deactivated and a new one made for the same e-mail (an admin recreating
// an account) while the old id is remembered. Autotask refuses the time
// entry for the inactive resource; the plugin must look again and write
// the entry for the new resource, once, in the same attempt, rather than
// fail the delivery for good on an id it only remembered.
func TestStaleResourceIDIsLookedUpAgain(t *testing.T) {
	t.Parallel()
	h := timeEntryHarness(t)
	end := func(i int) (engine.Outcome, error) {
		s := aliceSessionEnd(h, fmt.Sprintf("5e55104c0ffee00000000000000002%02d", i))
		return h.handle(h.job(engine.EventSessionEnd, s, nil))
	}
	if out, err := end(0); out != engine.OutcomeDone {
		t.Fatalf("first session: outcome %v: %v", out, err)
	}
	h.sim.Deactivate("Resources", autotasktest.ResourceAlice)
	newAlice := h.sim.Add("Resources", map[string]any{"firstName": "Alice", "lastName": "Tech", "email": "alice@msp.example",
		"userName": "alice2", "isActive": true, "roles": []int64{autotasktest.RoleTechnician}})
	if out, err := end(1); out != engine.OutcomeDone {
		t.Fatalf("after the resource was recreated: outcome %v (%v), want done: a remembered id failed the delivery", out, err)
	}
	entries := h.sim.TimeEntries(autotasktest.TicketOpen)
	if len(entries) != 2 {
		t.Fatalf("%d time entries, want 2 (one per session)", len(entries))
	}
	if entries[1].ResourceID != newAlice {
		t.Errorf("the second time entry is for resource %d, want the new one %d", entries[1].ResourceID, newAlice)
	}
}

// TestTimeEntryUnderAnEarlierResourceIsFound: an attempt writes the time
// entry and the engine dies before it is recorded; after the restart the
// representative's resource has been made again (a new id for the same
// e-mail). The retried delivery must find the entry by its marker on the
// ticket, whoever it was written for, and not write a second one.
func TestTimeEntryUnderAnEarlierResourceIsFound(t *testing.T) {
	t.Parallel()
	h := timeEntryHarness(t)
	s := aliceSessionEnd(h, "5e55104c0ffee0000000000000000301")
	if out, err := h.handle(h.job(engine.EventSessionEnd, s, nil)); out != engine.OutcomeDone {
		t.Fatalf("first attempt: outcome %v: %v", out, err)
	}
	// The restart: a new plugin (nothing remembered), a fresh checkpoint
	// (the record of the write was lost with the engine).
	zone := h.plugin.ZoneInformationURL
	h.plugin = New()
	h.plugin.ZoneInformationURL = zone
	h.sim.Deactivate("Resources", autotasktest.ResourceAlice)
	h.sim.Add("Resources", map[string]any{"firstName": "Alice", "lastName": "Tech", "email": "alice@msp.example",
		"userName": "alice2", "isActive": true, "roles": []int64{autotasktest.RoleTechnician}})
	if out, err := h.handle(h.job(engine.EventSessionEnd, s, nil)); out != engine.OutcomeDone {
		t.Fatalf("retried attempt: outcome %v: %v", out, err)
	}
	if entries := h.sim.TimeEntries(autotasktest.TicketOpen); len(entries) != 1 {
		t.Fatalf("%d time entries for one session, want 1: the entry written for the earlier resource was not found", len(entries))
	}
}
