package autotask

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/plugins/autotask/autotasktest"
)

// A create whose answer never comes in time costs a request, not the
// attempt: the note is looked for again, found, and the delivery is done
// in one attempt with one note.
func TestTimedOutCreateRetriedInsideTheAttempt(t *testing.T) {
	t.Parallel()
	h := ownBudgetHarness(t, "timeout-create-code")
	h.plugin.RequestTimeout, h.plugin.TimeoutGrace = time.Second, time.Millisecond
	h.sim.Inject(autotasktest.Fault{Method: "POST", Endpoint: "TicketNotes", WritesOnly: true, AfterWrite: true, Status: 200, Delay: 5 * time.Second})
	s := h.ended(autotasktest.TicketOpenNumber)
	job := h.job(engine.EventSessionEnd, s, nil)
	if out, err := h.handle(job); out != engine.OutcomeDone {
		t.Fatalf("outcome %v: %v", out, err)
	}
	if n := len(h.sim.Notes(autotasktest.TicketOpen)); n != 1 {
		t.Fatalf("%d notes, want 1", n)
	}
}

// When every try times out, the error names the request that timed out
// and its timeout, not the attempt's.
func TestTimeoutErrorNamesTheRequest(t *testing.T) {
	t.Parallel()
	h := ownBudgetHarness(t, "timeout-names-code")
	h.plugin.RequestTimeout, h.plugin.TimeoutGrace = time.Second, time.Millisecond
	h.sim.Inject(autotasktest.Fault{Endpoint: "TicketNotes", Status: 200, Delay: 5 * time.Second, Times: -1})
	s := h.ended(autotasktest.TicketOpenNumber)
	out, err := h.handle(h.job(engine.EventSessionEnd, s, nil))
	if out != engine.OutcomeRetry || err == nil || !strings.Contains(err.Error(), "autotask: POST /V1.0/TicketNotes/query timed out after 1s") {
		t.Fatalf("outcome %v: %v", out, err)
	}
}

// Requests that timed out keep their endpoint threads for the grace
// period, so Autotask, still working on them, never sees more than its
// thread limit from this integration, and refuses nothing.
func TestTimedOutRequestsKeepTheThreadLimit(t *testing.T) {
	t.Parallel()
	h := ownBudgetHarness(t, "grace-test-code")
	h.plugin.RequestTimeout, h.plugin.TimeoutGrace = time.Second, 4*time.Second
	const sessions = 4
	h.sim.Inject(autotasktest.Fault{Method: "POST", Endpoint: "TicketNotes", WritesOnly: true, AfterWrite: true, HoldThread: true,
		Status: 200, Delay: 3 * time.Second, Times: sessions})
	var wg sync.WaitGroup
	for range sessions {
		s := h.app.Begin(bttest.SessionSpec{
			ExternalKey: autotasktest.TicketOpenNumber,
			Customer:    &bttest.Customer{Name: "Jane Doe", Issue: "Printer"},
			Rep:         bttest.Rep{ID: "3", Username: "alice", DisplayName: "Alice Tech"},
		}).After(time.Minute).End()
		job := h.job(engine.EventSessionEnd, s, nil)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			for range 20 {
				err = h.plugin.Handle(context.Background(), job)
				if out, _ := engine.Classify(err); out == engine.OutcomeDone {
					return
				}
			}
			t.Errorf("a session did not finish in 20 attempts: %v", err)
		}()
	}
	wg.Wait()
	if st := h.sim.Stats("TicketNotes"); st.ThreadRejected > 0 || st.MaxConcurrent > ThreadLimit {
		t.Fatalf("TicketNotes: %+v; want no refusals and at most %d at once", st, ThreadLimit)
	}
	if n := len(h.sim.Notes(autotasktest.TicketOpen)); n != sessions {
		t.Fatalf("%d notes, want %d", n, sessions)
	}
}

// ownBudgetHarness is a harness with its own integration code: the thread
// budgets are shared by the whole process, per integration code, and these
// tests hold threads long enough to slow the other tests down.
func ownBudgetHarness(t *testing.T, code string) *harness {
	h := newHarness(t, autotasktest.Options{IntegrationCode: code})
	h.set.IntegrationCode = engine.NewSecret(code)
	return h
}
