package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"switchboard/engine/rusage"
)

// slots is an InsertClaim's worker side: free slots per plugin, and what
// was taken and given back.
type slots struct {
	mu          sync.Mutex
	free        map[string]int
	taken, gave int
}

func (s *slots) claim(owner string, at time.Time) *InsertClaim {
	return &InsertClaim{Owner: owner, Lease: time.Minute, At: at,
		Take: func(p string) bool {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.free[p] == 0 {
				return false
			}
			s.free[p]--
			s.taken++
			return true
		},
		Give: func(p string) {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.free[p]++
			s.gave++
		}}
}

func (s *slots) counts() (free, taken, gave int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.free["p"], s.taken, s.gave
}

// A delivery claimed at insert is running under a lease and a fencing
// token exactly as one Claim took: nobody claims it again, a forged token
// cannot finish it, its own token can, and the attempt is counted once.
func TestClaimAtInsertLeasesAndFences(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		cfg := newConfig(t, st)
		ws := &slots{free: map[string]int{"p": 4}}
		at := time.Now()
		res, err := st.InsertEventsClaiming(ctx, []*NewEvent{newEvent("a", NewDelivery{ConfigID: cfg.ID, Plugin: "p", MaxAttempts: 2})}, ws.claim("engine-a", at))
		if err != nil || len(res) != 1 || len(res[0].Claimed) != 1 || res[0].Deliveries != 1 {
			t.Fatalf("insert: %+v %v; want one delivery claimed", res, err)
		}
		d := res[0].Claimed[0]
		if d.State != StateRunning || d.Attempts != 1 || d.LeaseOwner != "engine-a" || len(d.LeaseToken) != 32 ||
			d.LeaseUntil != ms(at.Add(time.Minute)) || d.EventID != res[0].EventID || d.ConfigID != cfg.ID || d.LSID != "a" {
			t.Fatalf("claimed at insert: %+v", d)
		}
		if free, taken, gave := ws.counts(); free != 3 || taken != 1 || gave != 0 {
			t.Fatalf("slots: %d free, %d taken, %d given back; want 3, 1, 0", free, taken, gave)
		}
		stored, _ := st.GetDelivery(ctx, d.ID)
		if stored.State != StateRunning || stored.LeaseToken != d.LeaseToken {
			t.Fatalf("stored: %+v", stored)
		}
		if again, err := st.Claim(ctx, "p", 5, "engine-b", time.Minute, time.Now()); err != nil || len(again) != 0 {
			t.Fatalf("a delivery claimed at insert was claimed again: %+v %v", again, err)
		}
		if err := st.HoldsLease(ctx, d.Fence(), time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := st.FinishAttempt(ctx, Finish{ID: d.ID, Token: "forged", State: StateDone}); !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("finish with a forged token: %v, want ErrLeaseLost", err)
		}
		if err := st.FinishAttempt(ctx, Finish{ID: d.ID, Token: d.LeaseToken, State: StateDone, Outcome: "done", Started: at}); err != nil {
			t.Fatal(err)
		}
		as, err := st.Attempts(ctx, d.ID)
		if err != nil || len(as) != 1 || as[0].Number != 1 {
			t.Fatalf("attempts: %+v %v; want one, numbered 1", as, err)
		}
		// A repost of the stored event adds no delivery and claims nothing.
		res, err = st.InsertEventsClaiming(ctx, []*NewEvent{newEvent("a", NewDelivery{ConfigID: cfg.ID, Plugin: "p", MaxAttempts: 2})}, ws.claim("engine-a", time.Now()))
		if err != nil || !res[0].Duplicate || len(res[0].Claimed) != 0 {
			t.Fatalf("repost: %+v %v", res, err)
		}
		if _, taken, _ := ws.counts(); taken != 1 {
			t.Fatalf("a repost took a slot")
		}
	})
}

// A later delivery of a session is not claimed at insert while an earlier
// one waits or runs, whether the earlier one was committed before or
// arrives in the same batch; its slot is given back and it stays pending
// until the earlier one finishes.
func TestClaimAtInsertKeepsSessionOrder(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		cfg := newConfig(t, st)
		ws := &slots{free: map[string]int{"p": 4}}
		ev := func(key string) *NewEvent {
			e := newEvent(key, NewDelivery{ConfigID: cfg.ID, Plugin: "p", MaxAttempts: 2})
			e.Event.LSID = "s1"
			return e
		}
		// Two of one session in one batch: the first is claimed, the second waits.
		res, err := st.InsertEventsClaiming(ctx, []*NewEvent{ev("a"), ev("b")}, ws.claim("w", time.Now()))
		if err != nil || len(res[0].Claimed) != 1 || len(res[1].Claimed) != 0 {
			t.Fatalf("batch: %+v %v; want the first claimed alone", res, err)
		}
		if free, taken, gave := ws.counts(); free != 3 || taken != 2 || gave != 1 {
			t.Fatalf("slots: %d free, %d taken, %d given back; want 3, 2, 1", free, taken, gave)
		}
		// A third while the first runs: waits too.
		res2, err := st.InsertEventsClaiming(ctx, []*NewEvent{ev("c")}, ws.claim("w", time.Now()))
		if err != nil || len(res2[0].Claimed) != 0 {
			t.Fatalf("behind a running delivery: %+v %v", res2, err)
		}
		first := res[0].Claimed[0]
		if err := st.FinishAttempt(ctx, Finish{ID: first.ID, Token: first.LeaseToken, State: StateDone, Outcome: "done", Started: time.Now()}); err != nil {
			t.Fatal(err)
		}
		// The second is now due; the third still waits behind it.
		ds, err := st.Claim(ctx, "p", 10, "w", time.Minute, time.Now().Add(time.Second))
		if err != nil || len(ds) != 1 || ds[0].EventID != res[1].EventID {
			t.Fatalf("after the first finished: claimed %+v %v; want the second alone", ds, err)
		}
		// Pending before, in an earlier commit: a new one of the session waits.
		res3, err := st.InsertEventsClaiming(ctx, []*NewEvent{ev("d")}, ws.claim("w", time.Now()))
		if err != nil || len(res3[0].Claimed) != 0 {
			t.Fatalf("behind a pending delivery: %+v %v", res3, err)
		}
	})
}

// An engine that claimed at insert and died leaves the delivery to be
// rescued when its lease runs out, and claimed again (by any engine) with a
// new token: the dead attempt's token no longer finishes it, so the
// delivery is neither lost nor finished twice.
func TestClaimAtInsertIsRescuedAfterTheLease(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		cfg := newConfig(t, st)
		ws := &slots{free: map[string]int{"p": 1}}
		res, err := st.InsertEventsClaiming(ctx, []*NewEvent{newEvent("a", NewDelivery{ConfigID: cfg.ID, Plugin: "p", MaxAttempts: 3})}, ws.claim("dead", time.Now()))
		if err != nil || len(res[0].Claimed) != 1 {
			t.Fatalf("insert: %+v %v", res, err)
		}
		dead := res[0].Claimed[0]
		if n, err := st.Rescue(ctx, time.Now(), func(int) time.Duration { return 0 }); err != nil || n != 0 {
			t.Fatalf("rescued a live lease: %d %v", n, err)
		}
		later := time.Now().Add(2 * time.Minute)
		if n, err := st.Rescue(ctx, later, func(int) time.Duration { return 0 }); err != nil || n != 1 {
			t.Fatalf("rescue after the lease: %d %v; want 1", n, err)
		}
		ds, err := st.Claim(ctx, "p", 5, "alive", time.Minute, later)
		if err != nil || len(ds) != 1 || ds[0].ID != dead.ID || ds[0].Attempts != 2 || ds[0].LeaseToken == dead.LeaseToken {
			t.Fatalf("claim after rescue: %+v %v", ds, err)
		}
		if err := st.FinishAttempt(ctx, Finish{ID: dead.ID, Token: dead.LeaseToken, State: StateDone, Outcome: "done", Started: time.Now()}); !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("the dead attempt's finish: %v, want ErrLeaseLost", err)
		}
		if err := st.FinishAttempt(ctx, Finish{ID: dead.ID, Token: ds[0].LeaseToken, State: StateDone, Outcome: "done", Started: later}); err != nil {
			t.Fatal(err)
		}
		as, _ := st.Attempts(ctx, dead.ID)
		if len(as) != 2 || as[0].Outcome == as[1].Outcome {
			t.Fatalf("attempts: %+v; want a lease_expired one and a done one", as)
		}
	})
}

// A batch that does not commit claims nothing: every slot it took is
// given back and no delivery is left running.
func TestClaimAtInsertGivesBackOnRollback(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		cfg := newConfig(t, st)
		ws := &slots{free: map[string]int{"p": 4}}
		// The second event routes to a configuration that does not exist:
		// the foreign key refuses the batch.
		batch := []*NewEvent{newEvent("a", NewDelivery{ConfigID: cfg.ID, Plugin: "p", MaxAttempts: 2}),
			newEvent("b", NewDelivery{ConfigID: cfg.ID + 1000, Plugin: "p", MaxAttempts: 2})}
		if _, err := st.InsertEventsClaiming(ctx, batch, ws.claim("w", time.Now())); err == nil {
			t.Fatal("a batch with a delivery to a missing configuration was stored")
		}
		if free, taken, gave := ws.counts(); free != 4 || taken != gave {
			t.Fatalf("slots: %d free, %d taken, %d given back; want all given back", free, taken, gave)
		}
		if ds, _ := st.ListDeliveries(ctx, DeliveryFilter{ConfigID: cfg.ID}); len(ds) != 0 {
			t.Fatalf("deliveries stored by a refused batch: %+v", ds)
		}
	})
}

// A delivery claimed at insert carries its event exactly as GetEvent reads
// it back, field by field — with and without a session, with custom
// fields, a received time given or stamped — so that the worker need not
// read it; a delivery added to an event stored before carries none.
func TestClaimedAtInsertCarriesTheStoredEvent(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		cfg := newConfig(t, st)
		d := NewDelivery{ConfigID: cfg.ID, Plugin: "p", MaxAttempts: 3}
		old := newEvent("old")
		if _, err := st.InsertEvents(ctx, []*NewEvent{old}, nil); err != nil {
			t.Fatal(err)
		}
		custom := newEvent("custom", d)
		custom.Event.Fields = "event=support_conference_end&custom.ticket=T%C3%A9+1&lsid=custom&empty="
		custom.Event.ExternalKey, custom.Event.OccurredAt, custom.Event.ReceivedAt = "T20240101.0001", 1733240467000, 1733240468123
		noSession := newEvent("nosession", d)
		noSession.Event.LSID, noSession.Event.Name, noSession.Event.Source, noSession.Event.Fields = "", "pm_cloud_event", "pmcloud", ""
		noSession.Event.OccurredAt = 0
		again := newEvent("old", d) // stored before, gains a delivery now
		dup := newEvent("custom", d)
		ws := &slots{free: map[string]int{"p": 10}}
		res, err := st.InsertEventsClaiming(ctx, []*NewEvent{custom, noSession, again, dup}, ws.claim("engine-a", time.Now()))
		if err != nil {
			t.Fatal(err)
		}
		if len(res[0].Claimed) != 1 || len(res[1].Claimed) != 1 || len(res[2].Claimed) != 1 || len(res[3].Claimed) != 0 {
			t.Fatalf("claimed %d %d %d %d; want 1 1 1 0", len(res[0].Claimed), len(res[1].Claimed), len(res[2].Claimed), len(res[3].Claimed))
		}
		for _, r := range res[:2] {
			got := r.Claimed[0].Event
			if got == nil {
				t.Fatalf("event %d: claimed without its event", r.EventID)
			}
			want, err := st.GetEvent(ctx, r.EventID)
			if err != nil {
				t.Fatal(err)
			}
			if *got != *want {
				t.Errorf("event handed over\n%+v\nevent read back\n%+v", *got, *want)
			}
		}
		if ev := res[2].Claimed[0].Event; ev != nil {
			t.Errorf("an event stored before is handed over from the post: %+v", *ev)
		}
	})
}

// Batches of any size claim each of their deliveries once (the id list is
// padded with repeated ids), and on SQLite make only a few statement
// texts, which stay compiled.
func TestClaimAtInsertBatchSizes(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		cfg := newConfig(t, st)
		d := NewDelivery{ConfigID: cfg.ID, Plugin: "p", MaxAttempts: 3}
		var prepares int64
		for n := 1; n <= 9; n++ {
			if n == 5 {
				prepares = st.StatementStats().Prepares
			}
			batch := make([]*NewEvent, n)
			for i := range batch {
				batch[i] = newEvent(fmt.Sprintf("b%d-%d", n, i), d)
			}
			ws := &slots{free: map[string]int{"p": n}}
			res, err := st.InsertEventsClaiming(ctx, batch, ws.claim("engine-a", time.Now()))
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range res {
				if len(r.Claimed) != 1 || r.Claimed[0].Attempts != 1 || r.Claimed[0].State != StateRunning {
					t.Fatalf("batch of %d, event %d: claimed %+v; want one running, attempt 1", n, i, r.Claimed)
				}
			}
		}
		// Batches of 5 to 9 deliveries: two texts of the claim (8 and 16
		// ids) beside the inserts' (prepared once per batch size).
		if got := st.StatementStats().Prepares - prepares; !st.pg && got > 2+2*5 {
			t.Errorf("%d statements compiled for batches of 5 to 9", got)
		}
	})
}

// BenchmarkInsertClaiming stores one routed event per transaction, as a
// lone post does, with its delivery claimed at insert or left pending: the
// difference is what the claim at insert costs inside the commit.
// Process durability, so that no fsync hides it; cpu-µs/op is the
// process's CPU.
func BenchmarkInsertClaiming(b *testing.B) {
	for _, claim := range []bool{false, true} {
		b.Run(map[bool]string{false: "pending", true: "claimed"}[claim], func(b *testing.B) {
			ctx := context.Background()
			st, err := Open(ctx, filepath.Join(b.TempDir(), "sb.db"), Options{Durability: DurabilityProcess})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = st.Close() })
			cfg := &Config{Plugin: "p", Name: "c", ApplianceID: "Default", Settings: "{}"}
			if err := st.CreateConfig(ctx, cfg, AuditEntry{Actor: "t", Action: "create", Summary: "s"}, nil); err != nil {
				b.Fatal(err)
			}
			ws := &slots{free: map[string]int{"p": b.N}}
			b.ReportAllocs()
			b.ResetTimer()
			cpu := rusage.CPU()
			for i := range b.N {
				var ic *InsertClaim
				if claim {
					ic = ws.claim("engine-a", time.Now())
				}
				ne := newEvent(fmt.Sprint("e", i), NewDelivery{ConfigID: cfg.ID, Plugin: "p", MaxAttempts: 3})
				if _, err := st.InsertEventsClaiming(ctx, []*NewEvent{ne}, ic); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rusage.CPU()-cpu)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
		})
	}
}
