package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// Two engines store two events of one session at the same moment, each
// claiming its delivery at insert. Neither transaction sees the other's
// uncommitted delivery, so without more each would claim its own and the
// session's deliveries would run side by side on two engines. The second
// must wait behind the first.
//
// Engine A's transaction is held open after its claim by a row lock on an
// event it re-routes (the test holds that lock), which is where a slow
// commit would leave it; engine B then stores the session's next event.
func TestClusterClaimAtInsertKeepsSessionOrderAcrossEngines(t *testing.T) {
	t.Parallel()
	engines := openCluster(t, 2)
	a, b := engines[0], engines[1]
	ctx := context.Background()
	cfg := newConfig(t, a)
	// An event stored without a delivery: engine A's batch routes it, and
	// so must update its row, which the test keeps locked.
	held := newEvent("held")
	held.Event.Routing = Unrouted
	if _, err := a.InsertEvents(ctx, []*NewEvent{held}, nil); err != nil {
		t.Fatal(err)
	}
	raw, err := a.w.DB()
	if err != nil {
		t.Fatal(err)
	}
	lock, err := raw.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback() //nolint:errcheck // released below
	if _, err := lock.ExecContext(ctx, `SELECT id FROM events WHERE dedupe_key = 'held' FOR NO KEY UPDATE`); err != nil {
		t.Fatal(err)
	}

	first := newEvent("s-1", NewDelivery{ConfigID: cfg.ID, Plugin: "p", MaxAttempts: 3})
	first.Event.LSID = "S"
	route := newEvent("held", NewDelivery{ConfigID: cfg.ID, Plugin: "p", MaxAttempts: 3})
	wsA := &slots{free: map[string]int{"p": 4}}
	type result struct {
		res []Inserted
		err error
	}
	doneA := make(chan result, 1)
	go func() {
		res, err := a.InsertEventsClaiming(ctx, []*NewEvent{first, route}, wsA.claim("engine-a", time.Now()))
		doneA <- result{res, err}
	}()
	// Wait until engine A has claimed and waits for the lock to commit.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var waiting int
		if err := raw.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE events SET routing%'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		select {
		case r := <-doneA:
			t.Fatalf("engine A committed while its event row was locked: %+v %v", r.res, r.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("engine A never waited for the locked event row")
		}
		time.Sleep(10 * time.Millisecond)
	}

	second := newEvent("s-2", NewDelivery{ConfigID: cfg.ID, Plugin: "p", MaxAttempts: 3})
	second.Event.LSID = "S"
	wsB := &slots{free: map[string]int{"p": 4}}
	doneB := make(chan result, 1)
	go func() {
		res, err := b.InsertEventsClaiming(ctx, []*NewEvent{second}, wsB.claim("engine-b", time.Now()))
		doneB <- result{res, err}
	}()
	// Engine B may commit before A, or wait for it; either way it must
	// not run the session's second delivery beside the first.
	var rb result
	bDone := false
	select {
	case rb = <-doneB:
		bDone = true
		if rb.err != nil {
			t.Fatal(rb.err)
		}
		if len(rb.res[0].Claimed) != 0 {
			t.Errorf("engine B claimed the session's second delivery at insert while engine A holds the first: %+v", rb.res[0].Claimed)
		}
	case <-time.After(500 * time.Millisecond):
	}
	if err := lock.Commit(); err != nil {
		t.Fatal(err)
	}
	ra := <-doneA
	if !bDone {
		rb = <-doneB
	}
	if ra.err != nil || rb.err != nil {
		t.Fatalf("inserts: %v, %v", ra.err, rb.err)
	}
	claimed := len(ra.res[0].Claimed) + len(rb.res[0].Claimed)
	if claimed != 1 {
		t.Fatalf("%d of the session's deliveries claimed at insert (A %+v, B %+v); want one", claimed, ra.res[0].Claimed, rb.res[0].Claimed)
	}
	if len(ra.res[0].Claimed) != 1 {
		t.Errorf("engine A's first delivery was not claimed: %+v", ra.res[0])
	}
	// Slots: what was not claimed was given back.
	if free, _, _ := wsA.counts(); free != 4-len(ra.res[0].Claimed)-len(ra.res[1].Claimed) {
		t.Errorf("engine A: %d slots free", free)
	}
	if free, _, _ := wsB.counts(); free != 4-len(rb.res[0].Claimed) {
		t.Errorf("engine B: %d slots free", free)
	}
	var running int
	if err := raw.QueryRowContext(ctx, `SELECT count(*) FROM deliveries WHERE lsid = 'S' AND state = 'running'`).Scan(&running); err != nil {
		t.Fatal(err)
	}
	if running != 1 {
		t.Fatalf("%d deliveries of session S running at once; want 1", running)
	}
}

// Two engines store batches of events of the same few sessions at once,
// claiming at insert, in every order: no batch deadlocks on another, and
// since nothing finishes, each session ends with exactly one delivery
// running and the others waiting behind it.
func TestClusterClaimAtInsertFloodOneRunningPerSession(t *testing.T) {
	t.Parallel()
	engines := openCluster(t, 2)
	ctx := context.Background()
	cfg := newConfig(t, engines[0])
	const sessions, posters, batches = 5, 6, 10
	var wg sync.WaitGroup
	for p := range posters {
		st := engines[p%2]
		ws := &slots{free: map[string]int{"p": 1000}}
		wg.Go(func() {
			for b := range batches {
				var batch []*NewEvent
				for i := range sessions {
					// Each poster walks the sessions in its own order:
					// odd ones backwards.
					s := (i + p + b) % sessions
					if p%2 == 1 {
						s = sessions - 1 - s
					}
					e := newEvent(fmt.Sprintf("p%d-b%d-s%d", p, b, s), NewDelivery{ConfigID: cfg.ID, Plugin: "p", MaxAttempts: 3})
					e.Event.LSID = fmt.Sprint("S", s)
					batch = append(batch, e)
				}
				if _, err := st.InsertEventsClaiming(ctx, batch, ws.claim(fmt.Sprint("engine", p%2), time.Now())); err != nil {
					t.Errorf("poster %d batch %d: %v", p, b, err)
					return
				}
			}
		})
	}
	wg.Wait()
	raw, err := engines[0].w.DB()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := raw.QueryContext(ctx, `SELECT lsid, count(*) FILTER (WHERE state = 'running'), count(*) FROM deliveries GROUP BY lsid ORDER BY lsid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var lsid string
		var running, all int
		if err := rows.Scan(&lsid, &running, &all); err != nil {
			t.Fatal(err)
		}
		n++
		if running != 1 || all != posters*batches {
			t.Errorf("session %s: %d of %d deliveries running; want 1 of %d", lsid, running, all, posters*batches)
		}
	}
	if err := rows.Err(); err != nil || n != sessions {
		t.Fatalf("%d sessions, %v; want %d", n, err, sessions)
	}
}
