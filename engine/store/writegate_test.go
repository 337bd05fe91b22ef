package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
)

// waitingWriters is how many write transactions wait for the writer: in
// the gate, or in database/sql's pool for the one writer connection.
func waitingWriters(t *testing.T, s *Store) int {
	t.Helper()
	s.gate.mu.Lock()
	n := len(s.gate.events) + len(s.gate.other)
	s.gate.mu.Unlock()
	sqlDB, err := s.w.DB()
	if err != nil {
		t.Fatal(err)
	}
	return n + int(sqlDB.Stats().WaitCount)
}

// untilWaiting polls until n write transactions wait for the writer.
func untilWaiting(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for waitingWriters(t, s) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d write transactions waiting, want %d", waitingWriters(t, s), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestEventCommitWaitsForAtMostOneOtherWrite: with eight other write
// transactions queued for the writer (a busy dispatcher's claims and
// finishes), a commit of new events, queued last, runs after at most one of
// them, and the others still run, in the order they came.
func TestEventCommitWaitsForAtMostOneOtherWrite(t *testing.T) {
	t.Parallel()
	st := open(t)
	ctx := context.Background()
	var mu sync.Mutex
	var order []string
	ran := func(name string) {
		mu.Lock()
		order = append(order, name)
		mu.Unlock()
	}
	hold, held := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		_ = st.writeTx(ctx, func(*gorm.DB) error {
			close(held)
			<-hold
			ran("holder")
			return nil
		})
	})
	<-held
	const others = 8
	for i := range others {
		wg.Go(func() {
			if err := st.writeTx(ctx, func(*gorm.DB) error { ran(fmt.Sprint("other", i)); return nil }); err != nil {
				t.Error(err)
			}
		})
		untilWaiting(t, st, i+1)
	}
	wg.Go(func() {
		_, err := st.InsertEvents(ctx, []*NewEvent{newEvent("post")}, func(*sql.Tx) error { ran("events"); return nil })
		if err != nil {
			t.Error(err)
		}
	})
	untilWaiting(t, st, others+1)
	close(hold)
	wg.Wait()
	if i := slices.Index(order, "events"); i < 0 || i > 2 {
		t.Fatalf("the event commit ran at turn %d of %v, want right after the holder or after one other write", i, order)
	}
	var rest []string
	for _, name := range order {
		if name != "holder" && name != "events" {
			rest = append(rest, name)
		}
	}
	for i, name := range rest {
		if want := fmt.Sprint("other", i); name != want {
			t.Fatalf("other writes ran in the order %v, want the order they came", rest)
		}
	}
}

// TestWriteGateTakesTurns: while both queues have waiters, event commits
// and other writes alternate, so neither starves; a waiter whose context
// ends leaves its queue and the turns go on without it.
func TestWriteGateTakesTurns(t *testing.T) {
	t.Parallel()
	var g writeGate
	ctx := context.Background()
	if err := g.enter(ctx, false); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	queue := func(events bool, name string, ctx context.Context) {
		before := queued(&g)
		wg.Go(func() {
			if err := g.enter(ctx, events); err != nil {
				mu.Lock()
				order = append(order, name+" gave up")
				mu.Unlock()
				return
			}
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			g.leave()
		})
		for queued(&g) == before {
			time.Sleep(time.Millisecond)
		}
	}
	queue(false, "o1", ctx)
	queue(false, "o2", ctx)
	gone, cancel := context.WithCancel(ctx)
	queue(true, "e0", gone)
	queue(true, "e1", ctx)
	queue(true, "e2", ctx)
	queue(false, "o3", ctx)
	cancel()
	for queued(&g) != 5 {
		time.Sleep(time.Millisecond)
	}
	g.leave()
	wg.Wait()
	want := []string{"e0 gave up", "e1", "o1", "e2", "o2", "o3"}
	if !slices.Equal(order, want) {
		t.Fatalf("turns %v, want %v", order, want)
	}
	if err := g.enter(ctx, true); err != nil || !g.busy {
		t.Fatalf("after the last leave the gate is not free: %v", err)
	}
}

func queued(g *writeGate) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.events) + len(g.other)
}
