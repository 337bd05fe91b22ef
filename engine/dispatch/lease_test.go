package dispatch

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/store"
)

// A worker of this very process whose lease ran out (a VM pause, a stuck
// remote call) while the delivery was rescued and claimed again by the same
// dispatcher: the zombie's context is cancelled before it writes again, and
// nothing it writes lands, so the ticket gets one note.
func TestZombieOfTheSameProcessIsStoppedBeforeItWrites(t *testing.T) {
	t.Parallel()
	var notes atomic.Int32
	zombieStarted, liveStarted, zombieDone := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var zombieCause, zombieLinkErr, zombieCheckpointErr, zombieCheckErr atomic.Value
	var calls atomic.Int32
	r := newRigWith(t, &testPlugin{id: "t", concurrency: 2, handle: func(ctx context.Context, job *engine.Job) error {
		if calls.Add(1) == 1 {
			close(zombieStarted)
			// The remote call hangs; the heartbeat finds the delivery
			// claimed by another attempt and cancels this one.
			<-ctx.Done()
			zombieCause.Store(context.Cause(ctx))
			zombieCheckErr.Store(errors.Join(job.CheckLease(ctx), errors.New("checked")))
			zombieCheckpointErr.Store(errors.Join(job.Checkpoint.Set(ctx, "note", "zombie"), errors.New("set")))
			zombieLinkErr.Store(errors.Join(job.Links.SetLink(ctx, job.ConfigID, job.Event.LSID, "ticket", "zombie"), errors.New("link")))
			close(zombieDone)
			return ctx.Err()
		}
		close(liveStarted)
		<-zombieDone
		if err := job.CheckLease(ctx); err != nil {
			return err
		}
		notes.Add(1)
		if err := job.Links.SetLink(ctx, job.ConfigID, job.Event.LSID, "ticket", "live"); err != nil {
			return err
		}
		return job.Checkpoint.Set(ctx, "note", "live")
	}}, nil, func(o *Options) {
		o.Lease = 2 * time.Second         // long enough to survive a loaded machine; the zombie learns of the new claim at its next heartbeat
		o.MaintenanceInterval = time.Hour // the test rescues by hand
		o.Backoff = func(int) time.Duration { return -2 * time.Hour }
	})
	ev := r.enqueue(t, engine.EventSessionEnd, "s1", engine.SourceOutbound)
	r.run(t)
	<-zombieStarted
	// As another engine's maintenance would after this one paused for an
	// hour: the lease has run out; the (test) backoff makes it due now.
	if n, err := r.st.Rescue(context.Background(), time.Now().Add(time.Hour), r.disp.opts.Backoff); err != nil || n != 1 {
		t.Fatalf("rescue: %d %v", n, err)
	}
	r.disp.Wake()
	<-liveStarted
	d := r.waitFinal(t, ev)

	if cause, _ := zombieCause.Load().(error); !errors.Is(cause, engine.ErrLeaseLost) {
		t.Errorf("zombie's context ended with %v, want ErrLeaseLost", cause)
	}
	for name, v := range map[string]*atomic.Value{"lease check": &zombieCheckErr, "checkpoint": &zombieCheckpointErr, "link": &zombieLinkErr} {
		if err, _ := v.Load().(error); !errors.Is(err, engine.ErrLeaseLost) {
			t.Errorf("zombie's %s: %v, want ErrLeaseLost", name, err)
		}
	}
	if d.State != store.StateDone || notes.Load() != 1 || d.CheckpointValues()["note"] != "live" {
		t.Fatalf("state %s notes %d checkpoint %v; want done, one note, the live attempt's checkpoint", d.State, notes.Load(), d.CheckpointValues())
	}
	if v, _, _ := r.st.Link(context.Background(), r.cfg, "s1", "ticket"); v != "live" {
		t.Fatalf("link %q, want the live attempt's", v)
	}
	for _, a := range r.attempts(t, d.ID) {
		if a.Outcome == "retry" {
			t.Errorf("the zombie's outcome was recorded: %+v", a)
		}
	}
}

// A plugin that works for several lease lengths is never rescued: its
// heartbeat keeps extending the lease while rescue runs every 20 ms.
func TestSlowPluginKeepsItsLease(t *testing.T) {
	t.Parallel()
	const lease = 2 * time.Second
	var calls atomic.Int32
	var r *rig
	r = newRigWith(t, &testPlugin{id: "t", timeout: time.Minute, handle: func(ctx context.Context, job *engine.Job) error {
		calls.Add(1)
		first, err := r.st.GetDelivery(ctx, job.DeliveryID)
		if err != nil {
			return err
		}
		// The slow remote: work until the lease was extended by two
		// lease lengths.
		for {
			d, err := r.st.GetDelivery(ctx, job.DeliveryID)
			if err != nil {
				return err
			}
			if d.State != store.StateRunning || d.LeaseUntil >= first.LeaseUntil+2*lease.Milliseconds() {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := job.CheckLease(ctx); err != nil {
			return err
		}
		return job.Checkpoint.Set(ctx, "note", "1")
	}}, nil, func(o *Options) { o.Lease = lease })
	r.run(t)
	d := r.waitFinal(t, r.enqueue(t, engine.EventSessionEnd, "s1", engine.SourceOutbound))
	if d.State != store.StateDone || d.Attempts != 1 || calls.Load() != 1 {
		t.Fatalf("state %s attempts %d calls %d; want done at the first attempt", d.State, d.Attempts, calls.Load())
	}
	if as := r.attempts(t, d.ID); len(as) != 1 || as[0].Outcome != "done" {
		t.Fatalf("history %+v; want one attempt, never rescued", as)
	}
}
