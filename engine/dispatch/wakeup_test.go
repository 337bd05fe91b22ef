package dispatch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/service"
	"switchboard/engine/store"
)

// Every way a delivery becomes claimable after the worker loop went to
// sleep wakes the loop: a retry's backoff running out, a finish that
// unblocks the next delivery of its session, a slot given back by a claim
// at insert that found its delivery blocked, and a lease rescued from an
// engine that claimed at insert and died. Nothing is posted after the
// first moments, so no later post can hide a lost wake-up; the loop's idle
// backstop is 30 s, and the test gives the lot 10.
func TestNoWakeUpIsLost(t *testing.T) {
	gate := make(chan struct{})
	var (
		mu    sync.Mutex
		order []string
		tries = map[string]int{}
	)
	p := &testPlugin{id: "test", concurrency: 1, handle: func(ctx context.Context, job *engine.Job) error {
		key := fmt.Sprintf("%s#%s", job.Event.LSID, job.Event.Fields.Get("seq"))
		mu.Lock()
		tries[key]++
		n := tries[key]
		mu.Unlock()
		if key == "S#1" && n == 1 {
			// Hold the only slot while the rest is posted, then fail
			// once: the retry waits out its backoff.
			select {
			case <-gate:
			case <-ctx.Done():
			}
			return errors.New("try again")
		}
		mu.Lock()
		order = append(order, key)
		mu.Unlock()
		return nil
	}}
	r := newRigWith(t, p, func(a map[string]any) { a["retry_attempt_limit"] = 3 }, func(o *Options) {
		o.Backoff = func(int) time.Duration { return 300 * time.Millisecond }
		o.MaintenanceInterval = 50 * time.Millisecond
	})
	r.run(t)
	u := intakeFor(t, r)
	ctx := context.Background()

	// A delivery claimed at insert by an engine that died at once: its
	// lease runs out and it is rescued, with nobody posting meanwhile.
	cfgs, err := r.svc.LoadAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ds, reason := service.Route(cfgs, "Default", engine.EventMemberAdded, engine.SourceOutbound)
	if len(ds) == 0 {
		t.Fatal(reason)
	}
	dead := &store.NewEvent{Event: store.Event{DedupeKey: "dead", ApplianceID: "Default", Name: engine.EventMemberAdded,
		Source: engine.SourceOutbound, LSID: "D", OccurredAt: 1, Fields: "event=" + engine.EventMemberAdded + "&seq=1", Routing: store.Routed},
		Deliveries: ds}
	res, err := r.st.InsertEventsClaiming(ctx, []*store.NewEvent{dead}, &store.InsertClaim{Owner: "dead-engine", Lease: 200 * time.Millisecond,
		At: time.Now(), Take: func(string) bool { return true }, Give: func(string) {}})
	if err != nil || len(res[0].Claimed) != 1 {
		t.Fatalf("claim at insert for the dead engine: %+v %v", res, err)
	}

	postEvent(t, u, "S", 1) // claimed at insert: the only slot
	postEvent(t, u, "S", 2) // waits behind S#1 (the slot is taken anyway)
	postEvent(t, u, "T", 1) // waits for the slot
	close(gate)

	deadline := time.Now().Add(10 * time.Second)
	for {
		ds, err := r.st.ListDeliveries(ctx, store.DeliveryFilter{ConfigID: r.cfg})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 4 && allFinished(ds) {
			break
		}
		if time.Now().After(deadline) {
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("a delivery waits for a wake-up that never came: ran %v, deliveries %+v", order, ds)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Every slot taken, at insert or by a claim, is back: none leaked.
	l := r.disp.byPlugin["test"]
	for {
		l.mu.Lock()
		busy := l.busy
		l.mu.Unlock()
		if busy == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d worker slots still taken with nothing running", busy)
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	pos := map[string]int{}
	for i, k := range order {
		if _, twice := pos[k]; twice {
			t.Errorf("%s succeeded twice: %v", k, order)
		}
		pos[k] = i
	}
	if len(pos) != 4 || pos["S#1"] > pos["S#2"] {
		t.Errorf("ran %v; want S#1, S#2, T#1 and D#1 once each, S#1 before S#2", order)
	}
}
