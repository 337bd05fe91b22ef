package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A worker whose lease expired (a VM pause, a plugin that ignored its
// context) is a zombie: the delivery was rescued and claimed again, by the
// same process. Nothing the zombie writes may land.
func TestZombieOfTheSameOwnerCannotWrite(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		cfg := newConfig(t, st)
		if _, err := st.InsertEvents(ctx, []*NewEvent{newEvent("z", NewDelivery{ConfigID: cfg.ID, Plugin: "p", MaxAttempts: 5})}, nil); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		zombie, err := st.Claim(ctx, "p", 1, "host-1", time.Minute, now)
		if err != nil || len(zombie) != 1 {
			t.Fatalf("first claim: %v %v", zombie, err)
		}
		later := now.Add(2 * time.Minute)
		if n, err := st.Rescue(ctx, later, func(int) time.Duration { return time.Hour }); err != nil || n != 1 {
			t.Fatalf("rescue: %d %v", n, err)
		}
		// Rescue reschedules with the retry policy's backoff, not at once.
		if early, err := st.Claim(ctx, "p", 1, "host-1", time.Minute, later.Add(time.Hour-time.Second)); err != nil || len(early) != 0 {
			t.Fatalf("claimed before its backoff ran out: %v %v", early, err)
		}
		live, err := st.Claim(ctx, "p", 1, "host-1", time.Minute, later.Add(time.Hour))
		if err != nil || len(live) != 1 {
			t.Fatalf("second claim: %v %v", live, err)
		}
		id := live[0].ID
		old := zombie[0].Fence()

		if err := st.Heartbeat(ctx, old, later.Add(time.Hour)); !errors.Is(err, ErrLeaseLost) {
			t.Errorf("zombie heartbeat: %v, want ErrLeaseLost", err)
		}
		if err := st.HoldsLease(ctx, old, later); !errors.Is(err, ErrLeaseLost) {
			t.Errorf("zombie lease check: %v, want ErrLeaseLost", err)
		}
		if err := st.SaveCheckpoint(ctx, old, map[string]string{"note": "zombie"}); !errors.Is(err, ErrLeaseLost) {
			t.Errorf("zombie checkpoint: %v, want ErrLeaseLost", err)
		}
		if err := st.AttemptLinks(old).SetLink(ctx, cfg.ID, "z", "ticket", "zombie"); !errors.Is(err, ErrLeaseLost) {
			t.Errorf("zombie link: %v, want ErrLeaseLost", err)
		}
		if err := st.FinishAttempt(ctx, Finish{ID: id, Token: old.Token, State: StateDone, Outcome: "done", Started: now}); !errors.Is(err, ErrLeaseLost) {
			t.Errorf("zombie finish: %v, want ErrLeaseLost", err)
		}
		if err := st.HoldsLease(ctx, live[0].Fence(), later.Add(time.Hour)); err != nil {
			t.Errorf("live lease check: %v", err)
		}
		if err := st.FinishAttempt(ctx, Finish{ID: id, Token: live[0].LeaseToken, State: StateDone, Outcome: "done", Started: later}); err != nil {
			t.Fatalf("live finish: %v", err)
		}
		if _, ok, _ := st.Link(ctx, cfg.ID, "z", "ticket"); ok {
			t.Error("the zombie's link was stored")
		}
		d, _ := st.GetDelivery(ctx, id)
		if d.State != StateDone || d.Checkpoint != "{}" {
			t.Fatalf("after the live attempt: state %s checkpoint %s", d.State, d.Checkpoint)
		}
	})
}
