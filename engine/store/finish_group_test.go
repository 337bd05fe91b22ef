package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// claimN stores n events with a delivery each and claims them all.
func claimN(t *testing.T, st *Store, n int) []Delivery {
	t.Helper()
	ctx := context.Background()
	cfg := newConfig(t, st)
	var batch []*NewEvent
	for i := range n {
		batch = append(batch, newEvent(fmt.Sprint("e", i), NewDelivery{ConfigID: cfg.ID, Plugin: "p", MaxAttempts: 3}))
	}
	if _, err := st.InsertEvents(ctx, batch, nil); err != nil {
		t.Fatal(err)
	}
	ds, err := st.Claim(ctx, "p", n, "w", time.Minute, time.Now())
	if err != nil || len(ds) != n {
		t.Fatalf("claim: %d of %d (%v)", len(ds), n, err)
	}
	return ds
}

// finishQueued finishes each of fs on its own goroutine while the group is
// held (busy on PostgreSQL; on SQLite no event commit comes and the timer
// is far off), waits until all of them wait, then lets the group write
// them and returns each one's result.
func finishQueued(t *testing.T, st *Store, fs []Finish) []error {
	t.Helper()
	g := &st.finishes
	g.mu.Lock()
	riding := g.wait > 0
	if riding {
		g.wait = time.Hour
	} else {
		g.busy = true
	}
	g.mu.Unlock()
	errs := make([]error, len(fs))
	var wg sync.WaitGroup
	for i, f := range fs {
		wg.Go(func() { errs[i] = st.FinishAttempt(context.Background(), f) })
	}
	waitFinishes(t, st, len(fs))
	if riding {
		g.mu.Lock()
		gen := g.gen
		g.mu.Unlock()
		g.expire(st, gen)
	} else {
		g.handOff()
	}
	wg.Wait()
	return errs
}

// waitFinishes waits until n finishes wait in st's group.
func waitFinishes(t *testing.T, st *Store, n int) {
	t.Helper()
	g := &st.finishes
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		g.mu.Lock()
		got := len(g.waiting)
		g.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d finishes waiting", got, n)
		}
	}
}

// Finishes that arrive together share one transaction, and each is still
// fenced on its own: the one whose token is stale writes nothing and hears
// ErrLeaseLost, the others are recorded with their attempts.
func TestFinishesArrivingTogetherShareATransaction(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		ds := claimN(t, st, 6)
		var fs []Finish
		for i, d := range ds {
			token := d.LeaseToken
			if i == 2 {
				token = "stale"
			}
			fs = append(fs, Finish{ID: d.ID, Token: token, State: StateDone, Outcome: "done", Result: fmt.Sprint("r", i), Started: time.Now()})
		}
		before := st.WriteTransactions()
		errs := finishQueued(t, st, fs)
		if got := st.WriteTransactions() - before; got != 1 {
			t.Errorf("%d write transactions for 6 finishes arriving together; want 1", got)
		}
		for i, d := range ds {
			got, _ := st.GetDelivery(ctx, d.ID)
			as, _ := st.Attempts(ctx, d.ID)
			if i == 2 {
				if !errors.Is(errs[i], ErrLeaseLost) || got.State != StateRunning || len(as) != 0 {
					t.Errorf("stale finish: %v, state %s, %d attempts; want ErrLeaseLost and nothing written", errs[i], got.State, len(as))
				}
				continue
			}
			if errs[i] != nil || got.State != StateDone || got.Result != fmt.Sprint("r", i) || len(as) != 1 {
				t.Errorf("finish %d: %v, state %s, result %q, %d attempts", i, errs[i], got.State, got.Result, len(as))
			}
		}
	})
}

// A finish the database refuses for its own data fails alone: the
// transaction it shared is written again finish by finish.
func TestARefusedFinishFailsAlone(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	ds := claimN(t, st, 4)
	if err := st.w.Exec(`CREATE TRIGGER refuse BEFORE UPDATE OF state ON deliveries
		WHEN NEW.result = 'refuse' BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END`).Error; err != nil {
		t.Fatal(err)
	}
	var fs []Finish
	for i, d := range ds {
		result := "ok"
		if i == 1 {
			result = "refuse"
		}
		fs = append(fs, Finish{ID: d.ID, Token: d.LeaseToken, State: StateDone, Outcome: "done", Result: result, Started: time.Now()})
	}
	errs := finishQueued(t, st, fs)
	for i, d := range ds {
		got, _ := st.GetDelivery(ctx, d.ID)
		if i == 1 {
			if errs[i] == nil || errors.Is(errs[i], ErrLeaseLost) || got.State != StateRunning {
				t.Errorf("refused finish: %v, state %s; want its own error and the delivery still running", errs[i], got.State)
			}
			continue
		}
		if errs[i] != nil || got.State != StateDone {
			t.Errorf("finish %d beside a refused one: %v, state %s", i, errs[i], got.State)
		}
	}
}
