package dispatch

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/store"
)

// While a delivery waits behind an earlier one of its session that waits
// an hour for its retry, the dispatcher takes no write transaction: nothing
// is due, so it does not claim, and rescue finds nothing by reading.
func TestBlockedDeliveryDoesNotSpinTheWriter(t *testing.T) {
	t.Parallel()
	r := newRigWith(t, &testPlugin{id: "t", handle: func(_ context.Context, job *engine.Job) error {
		if job.Event.Name == engine.EventMemberAdded {
			return errors.New("503 from the PSA")
		}
		return nil
	}}, func(a map[string]any) { a["retry_outbound_events"] = []string{engine.EventMemberAdded} },
		func(o *Options) { o.Backoff = func(int) time.Duration { return time.Hour } })
	first := r.enqueue(t, engine.EventMemberAdded, "s1", engine.SourceOutbound)
	second := r.enqueue(t, engine.EventSessionEnd, "s1", engine.SourceOutbound)
	r.run(t)
	for {
		ds, err := r.st.ListDeliveries(context.Background(), store.DeliveryFilter{EventID: first})
		if err != nil {
			t.Fatal(err)
		}
		if ds[0].State == store.StateRetrying {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Let the wakes that followed the first attempt's finish settle.
	before := r.st.WriteTransactions()
	for {
		time.Sleep(time.Second)
		n := r.st.WriteTransactions()
		if n == before {
			break
		}
		before = n
	}
	// A window in which the old loop claimed once a second and rescue
	// wrote every 20 ms.
	time.Sleep(2 * time.Second)
	if n := r.st.WriteTransactions() - before; n != 0 {
		t.Fatalf("%d write transactions while the only waiting delivery was blocked", n)
	}
	ds, _ := r.st.ListDeliveries(context.Background(), store.DeliveryFilter{EventID: second})
	if ds[0].State != store.StatePending || ds[0].Attempts != 0 {
		t.Fatalf("the blocked delivery is %s after %d attempts; want pending, untried", ds[0].State, ds[0].Attempts)
	}
}

// "Retry-After: 0" must not turn into an immediate re-claim loop.
func TestRetryAfterZeroWaitsAtLeastTheFloor(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	var snoozedAt, retriedAt atomic.Int64
	r := newRig(t, &testPlugin{id: "t", handle: func(context.Context, *engine.Job) error {
		if calls.Add(1) == 1 {
			snoozedAt.Store(time.Now().UnixNano())
			return engine.RetryAfter(0, errors.New("429 Retry-After: 0"))
		}
		retriedAt.Store(time.Now().UnixNano())
		return nil
	}}, nil)
	r.run(t)
	d := r.waitFinal(t, r.enqueue(t, engine.EventSessionEnd, "s1", engine.SourceOutbound))
	if d.State != store.StateDone || calls.Load() != 2 {
		t.Fatalf("state %s calls %d", d.State, calls.Load())
	}
	if gap := time.Duration(retriedAt.Load() - snoozedAt.Load()); gap < MinRetryAfter {
		t.Fatalf("ran again %v after Retry-After 0; want at least %v", gap, MinRetryAfter)
	}
}

// A remote that always answers "wait" ends the delivery, with the reason,
// after the cap of snoozes in a row.
func TestSnoozesInARowAreCapped(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	r := newRigWith(t, &testPlugin{id: "t", handle: func(context.Context, *engine.Job) error {
		calls.Add(1)
		return engine.RetryAfter(0, errors.New("429 thread limit"))
	}}, nil, func(o *Options) { o.MaxSnoozes = 1 })
	r.run(t)
	d := r.waitFinal(t, r.enqueue(t, engine.EventSessionEnd, "s1", engine.SourceOutbound))
	if d.State != store.StateFailed || calls.Load() != 2 || !strings.Contains(d.LastError, "asked to retry later 2 times in a row") {
		t.Fatalf("state %s calls %d error %q; want failed after 2 snoozes, saying so", d.State, calls.Load(), d.LastError)
	}
}
