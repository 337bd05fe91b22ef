package autotask

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/plugins/autotask/autotasktest"
)

// lostLease is a lease the store says is gone, while the attempt's context
// is still alive: the heartbeat saw it before the dispatcher cancelled.
type lostLease struct{}

func (lostLease) Check(context.Context) error {
	return fmt.Errorf("delivery 1: %w", engine.ErrLeaseLost)
}

// A job whose lease was lost writes nothing to Autotask or the appliance:
// every remote write asks the lease first (invariant 8).
func TestLostLeaseWritesNothing(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		event string
		setup func(h *harness) *engine.Job
	}{
		{"session end: note and time entry", engine.EventSessionEnd, func(h *harness) *engine.Job {
			h.set.UpdateTimeEntry = true
			h.set.TimeEntryDefaults = `{"defaultDomain": "msp.example", "roleName": "Technician", "summaryNotes": "Remote support session"}`
			return h.job(engine.EventSessionEnd, h.ended(autotasktest.TicketOpenNumber), nil)
		}},
		{"customer survey: note", engine.EventCustomerSurveyDone, func(h *harness) *engine.Job {
			s := h.ended(autotasktest.TicketOpenNumber).CustomerSurvey(bt.SurveyAnswer{Name: "rating", Label: "Rating", Value: "5"})
			return h.job(engine.EventCustomerSurveyDone, s, nil)
		}},
		{"representative joins: ticket", engine.EventMemberAdded, func(h *harness) *engine.Job {
			autoTicket(h.set)
			live := h.app.Begin(bttest.SessionSpec{
				Customer: &bttest.Customer{Name: "Jane Doe", Issue: "Printer"},
				Rep:      bttest.Rep{Username: "alice", DisplayName: "Alice Tech"},
			})
			return h.job(engine.EventMemberAdded, live, repJoined)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, autotasktest.Options{})
			job := tc.setup(h)
			job.Lease = lostLease{}
			tickets := len(h.sim.Tickets())
			err := h.plugin.Handle(context.Background(), job)
			if !errors.Is(err, engine.ErrLeaseLost) {
				t.Fatalf("want the lost lease reported, got %v", err)
			}
			if n := len(h.sim.Notes(autotasktest.TicketOpen)); n != 0 {
				t.Errorf("%d notes written after the lease was lost", n)
			}
			if n := len(h.sim.TimeEntries(autotasktest.TicketOpen)); n != 0 {
				t.Errorf("%d time entries written after the lease was lost", n)
			}
			if n := len(h.sim.Tickets()); n != tickets {
				t.Errorf("%d tickets created after the lease was lost", n-tickets)
			}
			if len(job.Checkpoint.Values()) != 0 {
				t.Errorf("checkpoint written: %v", job.Checkpoint.Values())
			}
		})
	}
}
