package store

import (
	"context"
	"testing"
	"time"
)

// An outbound event stored unrouted (no configuration took it then) and
// found later by a configuration's poll gains a delivery and becomes
// routed, its old reason gone.
func TestPollRoutesAnEventStoredUnrouted(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		posted := newEvent("session-1")
		posted.Event.Routing, posted.Event.Reason = Unrouted, "no configurations exist yet"
		if _, err := st.InsertEvents(ctx, []*NewEvent{posted}, nil); err != nil {
			t.Fatal(err)
		}
		cfg := newConfig(t, st)
		now := time.Now()
		if _, ok, err := st.AcquirePollLease(ctx, cfg.ID, "poller", now, now.Add(time.Minute)); err != nil || !ok {
			t.Fatalf("poll lease: %v %v", ok, err)
		}
		polled := newEvent("session-1", NewDelivery{ConfigID: cfg.ID, Plugin: "p", MaxAttempts: 1})
		polled.Event.Source = "poll"
		res, err := st.CommitPoll(ctx, PollResult{ConfigID: cfg.ID, Owner: "poller", Events: []*NewEvent{polled}, Cursor: now, PolledAt: now})
		if err != nil || len(res) != 1 || !res[0].Duplicate || res[0].Deliveries != 1 {
			t.Fatalf("commit poll: %+v %v", res, err)
		}
		e, err := st.GetEvent(ctx, res[0].EventID)
		if err != nil {
			t.Fatal(err)
		}
		if e.Routing != Routed || e.Reason != "" {
			t.Fatalf("event routing %q reason %q; want routed, no reason", e.Routing, e.Reason)
		}
	})
}
