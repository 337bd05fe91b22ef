package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard/engine/store/pgtest"
)

// openCluster opens n stores on one fresh PostgreSQL schema: n engines,
// each with its own connection pool, sharing one database.
func openCluster(t *testing.T, n int) []*Store {
	t.Helper()
	dsn := pgtest.URL(t)
	out := make([]*Store, n)
	for i := range out {
		out[i] = openDSN(t, dsn)
	}
	return out
}

// Three engines claim from one queue at once, as fast as they can: every
// delivery runs exactly once, and the deliveries of a session never run
// side by side or out of order, whichever engine claims them.
func TestClusterClaimsEachDeliveryOnceInSessionOrder(t *testing.T) {
	t.Parallel()
	engines := openCluster(t, 3)
	ctx := context.Background()
	cfg := newConfig(t, engines[0])
	const sessions, perSession = 40, 5
	var batch []*NewEvent
	for i := range perSession {
		for s := range sessions {
			e := newEvent(fmt.Sprintf("s%d-e%d", s, i), NewDelivery{ConfigID: cfg.ID, Plugin: "p", MaxAttempts: 3})
			e.Event.LSID = fmt.Sprint("s", s)
			batch = append(batch, e)
		}
	}
	if _, err := engines[0].InsertEvents(ctx, batch, nil); err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		ran     = map[int64]int{}
		running = map[string]int64{} // session → delivery running now
		last    = map[string]int64{} // session → last delivery finished
		total   atomic.Int64
		wg      sync.WaitGroup
	)
	deadline := time.Now().Add(60 * time.Second)
	for e, st := range engines {
		for w := range 4 {
			wg.Go(func() {
				owner := fmt.Sprintf("engine%d-worker%d", e, w)
				for total.Load() < sessions*perSession && time.Now().Before(deadline) {
					ds, err := st.Claim(ctx, "p", 2, owner, time.Minute, time.Now())
					if err != nil {
						t.Errorf("%s claim: %v", owner, err)
						return
					}
					if len(ds) == 0 {
						time.Sleep(2 * time.Millisecond)
						continue
					}
					for _, d := range ds {
						mu.Lock()
						ran[d.ID]++
						if other, busy := running[d.LSID]; busy {
							t.Errorf("session %s: delivery %d claimed while %d runs", d.LSID, d.ID, other)
						}
						if d.ID < last[d.LSID] {
							t.Errorf("session %s: delivery %d ran after %d", d.LSID, d.ID, last[d.LSID])
						}
						running[d.LSID] = d.ID
						mu.Unlock()
					}
					for _, d := range ds {
						mu.Lock()
						delete(running, d.LSID)
						last[d.LSID] = d.ID
						mu.Unlock()
						if err := st.FinishAttempt(ctx, Finish{ID: d.ID, Token: d.LeaseToken, State: StateDone, Outcome: "done", Started: time.Now()}); err != nil {
							t.Errorf("finish %d: %v", d.ID, err)
						}
						total.Add(1)
					}
				}
			})
		}
	}
	wg.Wait()
	if n := total.Load(); n != sessions*perSession {
		t.Fatalf("%d deliveries ran, want %d", n, sessions*perSession)
	}
	for id, n := range ran {
		if n != 1 {
			t.Errorf("delivery %d ran %d times", id, n)
		}
	}
	st, err := engines[1].Stats(ctx, time.Now())
	if err != nil || st.ByState[StateDone] != sessions*perSession {
		t.Fatalf("stats %+v %v; want every delivery done", st, err)
	}
}

// Of engines racing for the first admin account, one wins; the others
// are told an admin exists.
func TestClusterCreatesOneFirstAdmin(t *testing.T) {
	t.Parallel()
	engines := openCluster(t, 3)
	var wins, exists atomic.Int32
	var wg sync.WaitGroup
	for i, st := range engines {
		for j := range 3 {
			wg.Go(func() {
				u := &AdminUser{Username: fmt.Sprintf("admin%d-%d", i, j), PasswordHash: "x"}
				switch err := st.CreateFirstAdmin(context.Background(), u, ""); {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, ErrAdminExists):
					exists.Add(1)
				default:
					t.Errorf("create first admin: %v", err)
				}
			})
		}
	}
	wg.Wait()
	if n, _ := engines[0].CountAdminUsers(context.Background()); wins.Load() != 1 || n != 1 {
		t.Fatalf("%d winners, %d accounts; want exactly one", wins.Load(), n)
	}
}

// Two admins saving the same configuration version on two engines: one
// save lands, the other gets ErrConflict, never both.
func TestClusterConfigVersionCheck(t *testing.T) {
	t.Parallel()
	engines := openCluster(t, 2)
	cfg := newConfig(t, engines[0])
	var ok, conflict atomic.Int32
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			c := *cfg
			c.Name = fmt.Sprint("edit", i)
			switch err := engines[i%2].UpdateConfig(context.Background(), &c, AuditEntry{Actor: "t", Action: "update", Summary: "s"}); {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, ErrConflict):
				conflict.Add(1)
			default:
				t.Errorf("update: %v", err)
			}
		})
	}
	wg.Wait()
	got, _ := engines[1].GetConfig(context.Background(), cfg.ID)
	if ok.Load() != 1 || got.Version != 2 {
		t.Fatalf("%d saves landed (version %d); want exactly one", ok.Load(), got.Version)
	}
}

// Only one engine at a time holds a leader lease; it passes on when the
// holder resigns or lets it expire.
func TestClusterLeaderLease(t *testing.T) {
	t.Parallel()
	if ok, err := open(t).Leader(context.Background(), "maintenance", "x", time.Now(), time.Minute); !ok || err != nil {
		t.Fatalf("SQLite: the one engine is not the leader (%v)", err)
	}
	func(t *testing.T, st *Store) {
		ctx := context.Background()
		now := time.Now()
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				ok, err := st.Leader(ctx, "maintenance", fmt.Sprint("engine", i), now, time.Minute)
				if err != nil {
					t.Errorf("leader: %v", err)
				}
				if ok {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d leaders at once, want 1", wins.Load())
		}
		var holder string
		for i := range 8 {
			if ok, _ := st.Leader(ctx, "maintenance", fmt.Sprint("engine", i), now, time.Minute); ok {
				holder = fmt.Sprint("engine", i)
			}
		}
		if holder == "" {
			t.Fatal("the leader could not renew its lease")
		}
		if ok, _ := st.Leader(ctx, "maintenance", "newcomer", now.Add(2*time.Minute), time.Minute); !ok {
			t.Fatal("an expired lease was not taken over")
		}
		if err := st.Resign(ctx, "maintenance", "newcomer"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := st.Leader(ctx, "maintenance", holder, now.Add(2*time.Minute), time.Minute); !ok {
			t.Fatal("a resigned lease was not free")
		}
	}(t, openPG(t))
}

// Rescue run by two engines at once rescues each expired delivery once.
func TestClusterRescueOnce(t *testing.T) {
	t.Parallel()
	engines := openCluster(t, 2)
	ctx := context.Background()
	cfg := newConfig(t, engines[0])
	var batch []*NewEvent
	for i := range 30 {
		batch = append(batch, newEvent(fmt.Sprint("r", i), NewDelivery{ConfigID: cfg.ID, Plugin: "p", MaxAttempts: 5}))
	}
	if _, err := engines[0].InsertEvents(ctx, batch, nil); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if ds, err := engines[0].Claim(ctx, "p", 30, "dead", time.Second, now); err != nil || len(ds) != 30 {
		t.Fatalf("claim: %d %v", len(ds), err)
	}
	var rescued atomic.Int64
	var wg sync.WaitGroup
	for _, st := range engines {
		wg.Go(func() {
			n, err := st.Rescue(ctx, now.Add(time.Minute), func(int) time.Duration { return 0 })
			if err != nil {
				t.Errorf("rescue: %v", err)
			}
			rescued.Add(int64(n))
		})
	}
	wg.Wait()
	if rescued.Load() != 30 {
		t.Fatalf("rescued %d, want 30", rescued.Load())
	}
	ds, _ := engines[1].ListDeliveries(ctx, DeliveryFilter{ConfigID: cfg.ID})
	for _, d := range ds {
		as, _ := engines[1].Attempts(ctx, d.ID)
		if len(as) != 1 || as[0].Outcome != "lease_expired" {
			t.Fatalf("delivery %d attempts %+v; want one lease_expired", d.ID, as)
		}
	}
}

// A delivery queued on one engine wakes the workers of another at once
// (LISTEN/NOTIFY), not after their idle poll.
func TestClusterNotifiesOtherEngines(t *testing.T) {
	t.Parallel()
	engines := openCluster(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	woke := make(chan struct{}, 16)
	engines[1].OnWork(ctx, func() { woke <- struct{}{} })
	select { // the listener wakes once when it connects
	case <-woke:
	case <-time.After(10 * time.Second):
		t.Fatal("the listener never connected")
	}
	cfg := newConfig(t, engines[0])
	if _, err := engines[0].InsertEvents(ctx, []*NewEvent{newEvent("n", NewDelivery{ConfigID: cfg.ID, Plugin: "p", MaxAttempts: 1})}, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-woke:
	case <-time.After(5 * time.Second):
		t.Fatal("the other engine was not woken by the new delivery")
	}
}
