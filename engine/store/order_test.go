package store

import (
	"context"
	"testing"
	"time"
)

// sessionPair stores two events of one session for one configuration and
// returns their deliveries, oldest first.
func sessionPair(t *testing.T, st *Store) (cfg *Config, first, second int64) {
	t.Helper()
	cfg = newConfig(t, st)
	a, b := newEvent("member"), newEvent("end")
	a.Event.LSID, b.Event.LSID = "s1", "s1"
	a.Deliveries = []NewDelivery{{ConfigID: cfg.ID, Plugin: "p", MaxAttempts: 1}}
	b.Deliveries = []NewDelivery{{ConfigID: cfg.ID, Plugin: "p", MaxAttempts: 1}}
	if _, err := st.InsertEvents(context.Background(), []*NewEvent{a, b}, nil); err != nil {
		t.Fatal(err)
	}
	ds, err := st.ListDeliveries(context.Background(), DeliveryFilter{ConfigID: cfg.ID})
	if err != nil || len(ds) != 2 {
		t.Fatalf("deliveries: %v %v", ds, err)
	}
	return cfg, ds[1].ID, ds[0].ID
}

// claimOne claims the next due delivery and checks it is want.
func claimOne(t *testing.T, st *Store, want int64) Delivery {
	t.Helper()
	ds, err := st.Claim(context.Background(), "p", 10, "w", time.Minute, time.Now().Add(time.Second))
	if err != nil || len(ds) != 1 || ds[0].ID != want {
		t.Fatalf("claim: %+v %v; want delivery %d alone", ds, err, want)
	}
	return ds[0]
}

// An admin's Retry now or Replay of an older delivery of a session must not
// run beside a newer delivery of the same session that is running.
func TestOrderHoldsForRetryNowAndReplay(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		_, first, second := sessionPair(t, st)
		d := claimOne(t, st, first)
		if err := st.FinishAttempt(ctx, Finish{ID: first, Token: d.LeaseToken, State: StateFailed, Outcome: "permanent", Started: time.Now()}); err != nil {
			t.Fatal(err)
		}
		running := claimOne(t, st, second)

		if err := st.RetryNow(ctx, first, AuditEntry{Actor: "t", Action: "retry", Summary: "s"}); err != nil {
			t.Fatal(err)
		}
		if ds, err := st.Claim(ctx, "p", 10, "w", time.Minute, time.Now().Add(time.Second)); err != nil || len(ds) != 0 {
			t.Fatalf("retry now: claimed %+v (%v) while delivery %d of the same session runs", ds, err, second)
		}
		first0, _ := st.GetDelivery(ctx, first)
		replayed, err := st.Replay(ctx, first0.EventID, "s1", []NewDelivery{{ConfigID: first0.ConfigID, Plugin: "p", MaxAttempts: 1}},
			AuditEntry{Actor: "t", Action: "replay", Summary: "s"})
		if err != nil || len(replayed) != 1 || replayed[0].Action != ReplayRerun {
			t.Fatalf("replay: %+v %v", replayed, err)
		}
		if ds, err := st.Claim(ctx, "p", 10, "w", time.Minute, time.Now().Add(time.Second)); err != nil || len(ds) != 0 {
			t.Fatalf("replay: claimed %+v (%v) while delivery %d of the same session runs", ds, err, second)
		}
		if _, ok, err := st.NextDue(ctx, []string{"p"}); err != nil || ok {
			t.Fatalf("a delivery blocked behind a running one counts as due (%v)", err)
		}
		if err := st.FinishAttempt(ctx, Finish{ID: second, Token: running.LeaseToken, State: StateDone, Outcome: "done", Started: time.Now()}); err != nil {
			t.Fatal(err)
		}
		claimOne(t, st, first)
	})
}

// A delivery blocked behind an earlier one of its session that waits for a
// retry is not due: the next due time is the earlier one's retry time.
func TestBlockedIsNotDue(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		_, first, second := sessionPair(t, st)
		d := claimOne(t, st, first)
		retryAt := time.Now().Add(time.Hour)
		if err := st.FinishAttempt(ctx, Finish{ID: first, Token: d.LeaseToken, State: StateRetrying, RunAt: retryAt, Outcome: "retry", Started: time.Now()}); err != nil {
			t.Fatal(err)
		}
		next, ok, err := st.NextDue(ctx, []string{"p"})
		if err != nil || !ok || next.UnixMilli() != retryAt.UnixMilli() {
			t.Fatalf("next due %v (%v, %v); want the blocking delivery's retry at %v, not delivery %d", next, ok, err, retryAt, second)
		}
	})
}
