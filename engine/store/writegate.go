package store

import (
	"context"
	"slices"
	"sync"
)

// writeGate hands SQLite's one writer connection to the write
// transactions that wait for it. Without it database/sql gives a freed
// connection to a random waiter, and a post's commit, whose appliance waits
// for the 200, could wait behind every claim, heartbeat and finish queued
// before it (tens to hundreds of milliseconds once the dispatcher is busy).
//
// The gate keeps two queues, each first come first served: the commits of
// new events (the intake's group commit, and the poller's and sources'
// inserts) and every other write. When both have waiters they take turns,
// so an event commit waits for at most the transaction running and one
// other, and the dispatcher still gets every other turn under a flood of
// posts. It orders who goes next and nothing else: each transaction still
// syncs at its own commit.
type writeGate struct {
	mu   sync.Mutex
	busy bool
	// eventsLast is true when the last turn went to an event commit.
	eventsLast    bool
	events, other []chan struct{}
}

// enter waits for the writer's turn. events marks a commit of new events.
// Every successful enter is followed by one leave.
func (g *writeGate) enter(ctx context.Context, events bool) error {
	g.mu.Lock()
	if !g.busy {
		g.busy = true
		g.eventsLast = events
		g.mu.Unlock()
		return nil
	}
	turn := make(chan struct{}, 1)
	if events {
		g.events = append(g.events, turn)
	} else {
		g.other = append(g.other, turn)
	}
	g.mu.Unlock()
	select {
	case <-turn:
		return nil
	case <-ctx.Done():
	}
	g.mu.Lock()
	if i := slices.Index(g.events, turn); i >= 0 {
		g.events = slices.Delete(g.events, i, i+1)
		g.mu.Unlock()
		return ctx.Err()
	}
	if i := slices.Index(g.other, turn); i >= 0 {
		g.other = slices.Delete(g.other, i, i+1)
		g.mu.Unlock()
		return ctx.Err()
	}
	g.mu.Unlock()
	// The turn came as the context ended: pass it on.
	<-turn
	g.leave()
	return ctx.Err()
}

// leave gives the writer to the next waiter, or frees it.
func (g *writeGate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	events := len(g.events) > 0 && (len(g.other) == 0 || !g.eventsLast)
	var next chan struct{}
	switch {
	case events:
		next, g.events = g.events[0], g.events[1:]
	case len(g.other) > 0:
		next, g.other = g.other[0], g.other[1:]
	default:
		g.busy = false
		return
	}
	g.eventsLast = events
	next <- struct{}{}
}
