package pmcloud

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/outbound"
	"switchboard/engine/sources/pmcloud/pmcloudtest"
	"switchboard/engine/store"
	"switchboard/engine/store/pgtest"
)

var errWouldWait = errors.New("the budget would wait")

// Two engines on one PostgreSQL database poll two sources of one tenant
// (each engine its own, as the poll leases hand them out): together they
// stay inside the tenant's request budget, so PM Cloud never answers 429.
func TestRequestBudgetSharedAcrossEngines(t *testing.T) {
	t.Parallel()
	const budget = 110
	sim := pmcloudtest.New(clientID, secret)
	sim.RateLimit = budget // the simulator refuses the 111th request in its window
	t.Cleanup(sim.Close)
	dsn := pgtest.URL(t)
	var clients []*Client
	var govs []*outbound.Governor
	for i := range 2 {
		st, err := store.Open(context.Background(), dsn, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		g := outbound.NewGovernor()
		t.Cleanup(g.Share(outbound.Shared{Ledger: st, Holder: fmt.Sprint("engine", i)}))
		cs := &Clients{HTTP: sim.Client(), Governor: g, Budget: budget, Window: time.Hour}
		set := NewSettings()
		set.Name, set.ServicesURL, set.ClientID, set.ClientSecret = fmt.Sprint("source", i), sim.ServicesURL(), clientID, engine.NewSecret(secret)
		c, err := cs.For(set)
		if err != nil {
			t.Fatal(err)
		}
		// A spent budget fails the request here instead of waiting for
		// the window to end.
		c.Budget().Sleep = func(context.Context, time.Duration) error { return errWouldWait }
		clients, govs = append(clients, c), append(govs, g)
	}
	var ok, waited atomic.Int64
	var wg sync.WaitGroup
	for _, c := range clients {
		for range 4 {
			wg.Go(func() {
				for range 20 {
					_, err := c.Events(context.Background(), time.Now().Add(-time.Hour), 10)
					switch {
					case err == nil:
						ok.Add(1)
					case errors.Is(err, errWouldWait):
						waited.Add(1)
					default:
						t.Error(err)
					}
				}
			})
		}
	}
	wg.Wait()
	refused := 0
	for _, r := range sim.Requests() {
		if r.Status == http.StatusTooManyRequests {
			refused++
		}
	}
	t.Logf("%d requests read, %d held back by the budget, %d refused by PM Cloud", ok.Load(), waited.Load(), refused)
	if refused > 0 {
		t.Fatalf("PM Cloud refused %d requests for its rate limit: the engines spent more than the tenant's budget together", refused)
	}
	if ok.Load() == 0 || ok.Load()+2 > budget { // +2: each engine's token
		t.Fatalf("%d requests read, want some and at most %d", ok.Load(), budget-2)
	}
	// The budget is the governor's, so the outbound metrics report it,
	// under the tenant's host (never the secret).
	for i, g := range govs {
		st := g.States()
		if len(st) != 1 || st[0].Key != "pmcloud|"+hostOf(sim.ServicesURL()) || st[0].WindowLeft < 0 {
			t.Errorf("engine %d: budget states %+v", i, st)
		}
	}
}
