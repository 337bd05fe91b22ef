package connectwise

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
	"switchboard/plugins/connectwise/connectwisetest"
)

// prefetched serves sessions fetched beforehand, for tests about the
// ConnectWise side alone.
type prefetched map[string]*bt.Session

func (p prefetched) Session(_ context.Context, lsid string) (*bt.Session, error) { return p[lsid], nil }

func (p prefetched) SetSessionAttributes(context.Context, string, *string, map[string]string) error {
	return nil
}

// TestConcurrentSessionsStayWithinLimit: 200 sessions ending at once, each
// on its own ticket with a note and a time entry, never hold more requests
// in flight than the account's budget, so a front end with that limit
// refuses none.
func TestConcurrentSessionsStayWithinLimit(t *testing.T) {
	t.Parallel()
	const sessions, limit = 200, 3
	h := newHarness(t, connectwisetest.Options{MaxInFlight: limit})
	timeEntries(h.set)
	h.set.MaxInFlight = limit
	app := prefetched{}
	jobs := make([]*engine.Job, sessions)
	tickets := make([]int64, sessions)
	for i := range sessions {
		tickets[i] = h.sim.AddTicket(map[string]any{"summary": "Printer " + strconv.Itoa(i), "board": map[string]any{"id": connectwisetest.BoardHelpDesk},
			"status": map[string]any{"id": connectwisetest.StatusWorking}, "company": map[string]any{"id": connectwisetest.CompanyACME}})
		s := h.ended(strconv.FormatInt(tickets[i], 10))
		jobs[i] = h.job(engine.EventSessionEnd, s, nil)
		snap, err := h.btc.Session(context.Background(), s.LSID())
		if err != nil {
			t.Fatal(err)
		}
		app[s.LSID()] = snap
	}
	var wg sync.WaitGroup
	errs := make([]error, sessions)
	for i, job := range jobs {
		wg.Go(func() { errs[i] = h.plugin.handle(context.Background(), job, h.set, app) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
		if n, e := len(h.sim.Notes(tickets[i])), len(h.sim.TimeEntries(tickets[i])); n != 1 || e != 1 {
			t.Fatalf("ticket %d: %d notes, %d time entries", tickets[i], n, e)
		}
	}
	if h.sim.MaxInFlight() > limit || h.sim.Throttled() != 0 {
		t.Errorf("the simulator saw %d requests at once (limit %d) and refused %d", h.sim.MaxInFlight(), limit, h.sim.Throttled())
	}
}
