package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// openRiding opens a SQLite store whose finishes wait an hour for an event
// commit, so that a test decides which commit carries them.
func openRiding(t *testing.T) *Store {
	t.Helper()
	st, err := Open(context.Background(), filepath.Join(t.TempDir(), "sb.db"), Options{FinishWait: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// postClaiming stores one event of session lsid with a delivery to cfg,
// claiming it at insert if it may run, and returns the claimed delivery
// (ok false when it was left pending).
func postClaiming(t *testing.T, st *Store, cfg *Config, key, lsid string) (Delivery, bool) {
	t.Helper()
	ws := &slots{free: map[string]int{"p": 8}}
	e := newEvent(key, NewDelivery{ConfigID: cfg.ID, Plugin: "p", MaxAttempts: 3})
	e.Event.LSID = lsid
	res, err := st.InsertEventsClaiming(context.Background(), []*NewEvent{e}, ws.claim("w", time.Now()))
	if err != nil || len(res) != 1 || res[0].Deliveries != 1 {
		t.Fatalf("insert %s: %+v %v", key, res, err)
	}
	if len(res[0].Claimed) == 0 {
		return Delivery{}, false
	}
	return res[0].Claimed[0], true
}

// runningOne stores one event of session "a" on a fresh configuration and
// returns its delivery, claimed at insert.
func runningOne(t *testing.T, st *Store) Delivery {
	t.Helper()
	d, ok := postClaiming(t, st, newConfig(t, st), "a", "a")
	if !ok {
		t.Fatal("the delivery was not claimed at insert")
	}
	return d
}

// finishLater finishes d's attempt on its own goroutine and returns where
// its result arrives.
func finishLater(st *Store, d Delivery, token, result string) <-chan error {
	out := make(chan error, 1)
	go func() {
		out <- st.FinishAttempt(context.Background(), Finish{ID: d.ID, Token: token, State: StateDone, Outcome: "done", Result: result, Started: time.Now()})
	}()
	return out
}

// An appliance posting the events of one session one at a time: each
// post's commit carries the finish of the delivery before it, so the
// sequence costs one write transaction per post, and the next event of
// the session is claimed at insert because its predecessor is finished in
// that same transaction.
func TestFinishRidesOnTheNextEventCommit(t *testing.T) {
	t.Parallel()
	st := openRiding(t)
	ctx := context.Background()
	cfg := newConfig(t, st)
	const posts = 10
	before := st.WriteTransactions()
	d, ok := postClaiming(t, st, cfg, "e0", "s")
	if !ok {
		t.Fatal("the first post's delivery was not claimed at insert")
	}
	var prev []Delivery
	for i := 1; i < posts; i++ {
		finished := finishLater(st, d, d.LeaseToken, "ok")
		waitFinishes(t, st, 1)
		next, ok := postClaiming(t, st, cfg, "e"+string(rune('0'+i)), "s")
		if err := <-finished; err != nil {
			t.Fatalf("finish %d: %v", i-1, err)
		}
		if !ok {
			t.Fatalf("post %d of the session was not claimed at insert behind a finished delivery", i)
		}
		prev = append(prev, d)
		d = next
	}
	if got := st.WriteTransactions() - before; got != posts {
		t.Errorf("%d write transactions for %d posts and %d finishes; want %d (one per post)", got, posts, posts-1, posts)
	}
	for _, p := range prev {
		got, _ := st.GetDelivery(ctx, p.ID)
		as, _ := st.Attempts(ctx, p.ID)
		if got.State != StateDone || len(as) != 1 || got.FinishedAt == 0 {
			t.Errorf("delivery %d: %s, %d attempts recorded; want done and one", p.ID, got.State, len(as))
		}
	}
}

// Without a commit of new events to carry it, a finish is written in a
// transaction of its own (after the store's short wait).
func TestALoneFinishIsWrittenWithoutAnEventCommit(t *testing.T) {
	t.Parallel()
	st := open(t)
	ctx := context.Background()
	d := runningOne(t, st)
	before := st.WriteTransactions()
	if err := <-finishLater(st, d, d.LeaseToken, "ok"); err != nil {
		t.Fatal(err)
	}
	if got := st.WriteTransactions() - before; got != 1 {
		t.Errorf("%d write transactions for a lone finish; want 1", got)
	}
	if got, _ := st.GetDelivery(ctx, d.ID); got.State != StateDone {
		t.Errorf("lone finish: %s, want done", got.State)
	}
}

// A rider that fails fails alone and never fails the post it rides with.
// One whose attempt lost its lease hears ErrLeaseLost and writes nothing,
// and the finish beside it commits with the post. One the database refuses
// for its own data undoes the riders to their savepoint, the post commits
// without them, and they are written on their own, where the refused one
// fails alone. Either way the next event of an unfinished delivery's
// session is not claimed at insert, and that of a finished one is only
// when its finish was in the same transaction.
func TestAFailingRiderFailsAlone(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, token, result string
		lost, carried       bool
	}{
		{name: "lease lost", token: "stale", result: "ok", lost: true, carried: true},
		{name: "refused", result: "refuse"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := openRiding(t)
			ctx := context.Background()
			cfg := newConfig(t, st)
			if err := st.w.Exec(`CREATE TRIGGER refuse BEFORE UPDATE OF state ON deliveries
				WHEN NEW.result = 'refuse' BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END`).Error; err != nil {
				t.Fatal(err)
			}
			a, _ := postClaiming(t, st, cfg, "a", "a")
			b, _ := postClaiming(t, st, cfg, "b", "b")
			token := tc.token
			if token == "" {
				token = b.LeaseToken
			}
			good := finishLater(st, a, a.LeaseToken, "ok")
			bad := finishLater(st, b, token, tc.result)
			waitFinishes(t, st, 2)
			if _, ok := postClaiming(t, st, cfg, "a2", "a"); ok != tc.carried {
				t.Errorf("the event behind the good rider claimed at insert: %v, want %v", ok, tc.carried)
			}
			if _, ok := postClaiming(t, st, cfg, "b2", "b"); ok {
				t.Error("an event was claimed at insert behind its session's unfinished delivery")
			}
			err := <-bad
			if tc.lost != errors.Is(err, ErrLeaseLost) || err == nil {
				t.Errorf("failing rider: %v; want ErrLeaseLost %v", err, tc.lost)
			}
			if err := <-good; err != nil {
				t.Errorf("rider beside a failing one: %v", err)
			}
			if got, _ := st.GetDelivery(ctx, a.ID); got.State != StateDone {
				t.Errorf("rider beside a failing one: %s, want done", got.State)
			}
			if got, _ := st.GetDelivery(ctx, b.ID); got.State != StateRunning {
				t.Errorf("failing rider's delivery: %s, want still running", got.State)
			}
			if ev, err := st.ListEvents(ctx, EventFilter{}); err != nil || len(ev) != 4 {
				t.Errorf("%d events stored (%v), want 4: the posts committed", len(ev), err)
			}
		})
	}
}

// A finish that rode an event commit which then failed is written on its
// own, and its caller hears the result of that write.
func TestARiderOfAFailedEventCommitIsWrittenAlone(t *testing.T) {
	t.Parallel()
	st := openRiding(t)
	ctx := context.Background()
	a := runningOne(t, st)
	finished := finishLater(st, a, a.LeaseToken, "ok")
	waitFinishes(t, st, 1)
	boom := errors.New("boom")
	if _, err := st.InsertEvents(ctx, []*NewEvent{newEvent("b")}, func(*sql.Tx) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("insert: %v, want the after func's error", err)
	}
	if err := <-finished; err != nil {
		t.Fatalf("finish: %v", err)
	}
	if got, _ := st.GetDelivery(ctx, a.ID); got.State != StateDone {
		t.Errorf("delivery: %s, want done", got.State)
	}
}

// Closing the store writes the finishes still waiting for an event commit
// before it closes the database.
func TestCloseWritesWaitingFinishes(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sb.db")
	ctx := context.Background()
	st, err := Open(ctx, path, Options{FinishWait: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	a := runningOne(t, st)
	finished := finishLater(st, a, a.LeaseToken, "ok")
	waitFinishes(t, st, 1)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-finished; err != nil {
		t.Fatalf("finish waiting at close: %v", err)
	}
	st = openDSN(t, path)
	if got, _ := st.GetDelivery(ctx, a.ID); got.State != StateDone {
		t.Errorf("after close and reopen: %s, want done", got.State)
	}
}

// Finishes that find no event commit, and arrive while a transaction of
// finishes waits for the writer, are written together in the next one,
// not each in its own as their timers run out.
func TestFinishesWithoutAnEventCommitShareTheNextTransaction(t *testing.T) {
	t.Parallel()
	st := open(t)
	ctx := context.Background()
	ds := claimN(t, st, 6)
	if err := st.gate.enter(ctx, false); err != nil {
		t.Fatal(err)
	}
	var leave sync.Once
	defer leave.Do(st.gate.leave)
	before := st.WriteTransactions()
	var results []<-chan error
	for i, d := range ds {
		results = append(results, finishLater(st, d, d.LeaseToken, "ok"))
		if i == 0 {
			// Taken by its timer, waiting for the writer.
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
				st.finishes.mu.Lock()
				taken := st.finishes.busy
				st.finishes.mu.Unlock()
				if taken {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the first finish was not taken by its timer")
				}
			}
		} else {
			// Longer than the wait: each one's timer runs out.
			time.Sleep(4 * finishRideWait)
		}
	}
	waitFinishes(t, st, len(ds)-1)
	leave.Do(st.gate.leave)
	for i, r := range results {
		if err := <-r; err != nil {
			t.Errorf("finish %d: %v", i, err)
		}
	}
	if got := st.WriteTransactions() - before; got != 2 {
		t.Errorf("%d write transactions for a finish and five arriving while it waited; want 2", got)
	}
}
