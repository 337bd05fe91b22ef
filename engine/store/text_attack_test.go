package store

import (
	"context"
	"strings"
	"testing"
	"time"
)

// Text that PostgreSQL's TEXT refuses (a NUL byte, bytes that are not
// UTF-8) reaches the store from outside: a posted external_key or survey
// timestamp, and a remote's error body quoted in an attempt's error (cut
// at a byte count, so mid-character even when the remote sent good UTF-8).
// Refusing it would answer every resend of the post with a 503, which
// stalls the appliance (invariant 2), and leave a delivery running until
// its lease runs out with the outcome of its attempt lost. Both dialects
// store it, the same way.
func TestTextPostgresCannotHoldIsStored(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		cfg := newConfig(t, st)
		e := newEvent("odd\x1f\x00\xff", NewDelivery{ConfigID: cfg.ID, Plugin: "p", MaxAttempts: 3})
		e.Event.LSID, e.Event.ExternalKey = "odd", "T\x00\xff"
		e.Event.Reason = "r\xfe"
		for round := range 2 {
			res, err := st.InsertEvents(ctx, []*NewEvent{e}, nil)
			if err != nil || len(res) != 1 || res[0].Duplicate != (round == 1) {
				t.Fatalf("insert %d of an event with odd bytes: %+v %v; want stored once, then a duplicate", round, res, err)
			}
		}
		other := newEvent("odd\x1f\x00\xfe", NewDelivery{ConfigID: cfg.ID, Plugin: "p", MaxAttempts: 3})
		other.Event.LSID = "odd2"
		if res, err := st.InsertEvents(ctx, []*NewEvent{other}, nil); err != nil || res[0].Duplicate {
			t.Fatalf("another key differing only in its odd bytes: %+v %v; want a new event", res, err)
		}
		ds, err := st.Claim(ctx, "p", 2, "w", time.Minute, time.Now())
		if err != nil || len(ds) != 2 {
			t.Fatalf("claim: %d %v", len(ds), err)
		}
		cut := "autotask: add note: 500 Internal Server Error: " + strings.Repeat("ü", 200)[:299]
		f := Finish{ID: ds[0].ID, Token: ds[0].LeaseToken, State: StateRetrying, RunAt: time.Now().Add(time.Hour), Outcome: "retry",
			Error: cut, Result: "r\x00", Started: time.Now(), Checkpoint: map[string]string{"note": "n\x00\xff"}}
		if err := st.FinishAttempt(ctx, f); err != nil {
			t.Fatalf("finish quoting a body cut mid-character: %v", err)
		}
		got, _ := st.GetDelivery(ctx, ds[0].ID)
		as, _ := st.Attempts(ctx, ds[0].ID)
		if got.State != StateRetrying || !strings.HasPrefix(got.LastError, "autotask: add note: 500") || len(as) != 1 {
			t.Fatalf("after the finish: %s %q, %d attempts", got.State, got.LastError, len(as))
		}
	})
}
