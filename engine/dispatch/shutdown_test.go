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

// startAndStop runs the dispatcher until the plugin has started, then asks
// it to stop; the returned channel yields Run's result.
func startAndStop(t *testing.T, r *rig, started <-chan struct{}) <-chan error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.disp.Run(ctx) }()
	<-started
	cancel()
	return done
}

// Shutdown cancels a delivery that outlives the drain and waits for it to
// return before handing it back: its delivery is not released (nor the
// store closed) while its plugin may still write.
func TestShutdownWaitsForCancelledDeliveries(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	var released atomic.Bool
	setErr := make(chan error, 1)
	var r *rig
	r = newRigWith(t, &testPlugin{id: "t", handle: func(ctx context.Context, job *engine.Job) error {
		close(started)
		<-ctx.Done()
		// Wind down slowly, looking at the row meanwhile: it must stay
		// this attempt's until it returns.
		for range 50 {
			d, err := r.st.GetDelivery(context.Background(), job.DeliveryID)
			if err != nil || d.State != store.StateRunning {
				released.Store(true)
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		setErr <- job.Checkpoint.Set(ctx, "note", "written while winding down")
		return ctx.Err()
	}}, nil, func(o *Options) { o.DrainTimeout = time.Millisecond; o.CancelGrace = time.Minute })
	ev := r.enqueue(t, engine.EventSessionEnd, "s1", engine.SourceOutbound)
	if err := <-startAndStop(t, r, started); err != nil {
		t.Fatal(err)
	}
	if released.Load() {
		t.Fatal("the delivery was handed back while its cancelled plugin still ran")
	}
	if err := <-setErr; err != nil {
		t.Fatalf("checkpoint while winding down: %v", err)
	}
	ds, _ := r.st.ListDeliveries(context.Background(), store.DeliveryFilter{EventID: ev})
	if ds[0].State != store.StateRetrying || ds[0].Attempts != 0 || ds[0].CheckpointValues()["note"] == "" {
		t.Fatalf("after shutdown: state %s attempts %d checkpoint %v; want handed back uncounted, checkpoint kept",
			ds[0].State, ds[0].Attempts, ds[0].CheckpointValues())
	}
}

// A plugin that ignores cancellation past the grace is abandoned: its
// delivery is handed back, and nothing it writes afterwards lands.
func TestShutdownFencesOffAPluginThatIgnoresCancellation(t *testing.T) {
	t.Parallel()
	started, proceed, finished := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var setErr error
	r := newRigWith(t, &testPlugin{id: "t", handle: func(ctx context.Context, job *engine.Job) error {
		defer close(finished)
		close(started)
		<-proceed
		setErr = job.Checkpoint.Set(ctx, "note", "zombie")
		return nil
	}}, nil, func(o *Options) { o.DrainTimeout = time.Millisecond; o.CancelGrace = time.Millisecond })
	ev := r.enqueue(t, engine.EventSessionEnd, "s1", engine.SourceOutbound)
	if err := <-startAndStop(t, r, started); err != nil {
		t.Fatal(err)
	}
	close(proceed)
	<-finished
	if !errors.Is(setErr, engine.ErrLeaseLost) {
		t.Fatalf("checkpoint after the delivery was handed back: %v, want ErrLeaseLost", setErr)
	}
	ds, _ := r.st.ListDeliveries(context.Background(), store.DeliveryFilter{EventID: ev})
	if ds[0].State != store.StateRetrying || ds[0].Attempts != 0 || len(ds[0].CheckpointValues()) != 0 {
		t.Fatalf("after shutdown: state %s attempts %d checkpoint %v; want handed back uncounted, untouched",
			ds[0].State, ds[0].Attempts, ds[0].CheckpointValues())
	}
}
