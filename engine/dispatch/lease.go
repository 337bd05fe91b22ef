package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"switchboard/engine"
	"switchboard/engine/store"
)

// DefaultLease is how long a claim holds a delivery without a heartbeat.
// A running attempt renews it every third of that, so a slow but alive
// plugin is never rescued; a stopped or paused worker loses it within one
// lease.
const DefaultLease = 30 * time.Second

// attemptLease is one running attempt's hold on its delivery: it renews the
// lease in the store while the plugin works, and cancels the plugin's
// context (cause engine.ErrLeaseLost) the moment the hold is gone: when a
// renewal finds the token replaced, or when renewals have failed for so
// long that the lease may have run out and been rescued. Every write the
// attempt makes goes through it.
type attemptLease struct {
	st     *store.Store
	fence  store.Fence
	ttl    time.Duration
	log    *slog.Logger
	cancel context.CancelCauseFunc

	mu sync.Mutex
	// until is when the lease surely still holds by this process's clock:
	// the time the last renewal was sent plus the lease, less a margin.
	until time.Time
	lost  bool
}

func newAttemptLease(st *store.Store, d *store.Delivery, ttl time.Duration, claimedAt time.Time, cancel context.CancelCauseFunc, log *slog.Logger) *attemptLease {
	a := &attemptLease{st: st, fence: d.Fence(), ttl: ttl, log: log, cancel: cancel}
	a.until = claimedAt.Add(ttl - a.margin())
	return a
}

// margin is how much earlier than the store's lease end this attempt gives
// up its own hold, so that it stops before a rescue can hand the delivery
// to anyone else.
func (a *attemptLease) margin() time.Duration { return a.ttl / 6 }

// held returns an error wrapping engine.ErrLeaseLost once the hold is gone
// (by the store's word or by this process's clock), and nil while it holds.
func (a *attemptLease) held() error {
	a.mu.Lock()
	lost := a.lost || !time.Now().Before(a.until)
	a.mu.Unlock()
	if lost {
		a.lose()
		return fmt.Errorf("delivery %d: %w", a.fence.DeliveryID, engine.ErrLeaseLost)
	}
	return nil
}

// lose marks the hold gone and cancels the plugin's context.
func (a *attemptLease) lose() {
	a.mu.Lock()
	first := !a.lost
	a.lost = true
	a.mu.Unlock()
	if first {
		a.log.Warn("delivery lease lost; stopping the attempt before it writes again")
		a.cancel(engine.ErrLeaseLost)
	}
}

// wrote records the store's answer to a fenced write.
func (a *attemptLease) wrote(err error) error {
	if errors.Is(err, engine.ErrLeaseLost) {
		a.lose()
	}
	return err
}

// Check implements engine.Lease: the local hold, then the store's row.
func (a *attemptLease) Check(ctx context.Context) error {
	if err := a.held(); err != nil {
		return err
	}
	return a.wrote(a.st.HoldsLease(context.WithoutCancel(ctx), a.fence, time.Now()))
}

// keep renews the lease every third of its length until stop closes.
func (a *attemptLease) keep(stop <-chan struct{}) {
	every := a.ttl / 3
	timer := time.NewTimer(every)
	defer timer.Stop()
	for {
		select {
		case <-stop:
			return
		case <-timer.C:
		}
		if a.held() != nil {
			return
		}
		sent := time.Now()
		err := a.st.Heartbeat(context.Background(), a.fence, sent.Add(a.ttl))
		switch {
		case err == nil:
			a.mu.Lock()
			a.until = sent.Add(a.ttl - a.margin())
			a.mu.Unlock()
		case errors.Is(err, engine.ErrLeaseLost):
			a.lose()
			return
		default:
			a.log.Warn("extend delivery lease", "err", err)
		}
		// Wake at the next renewal, or when the hold would run out if
		// renewals keep failing, whichever comes first.
		a.mu.Lock()
		next := min(every, time.Until(a.until))
		a.mu.Unlock()
		timer.Reset(max(next, 0))
	}
}

// checkpointSaver persists the attempt's checkpoint under its fence.
func (a *attemptLease) checkpointSaver() func(ctx context.Context, v map[string]string) error {
	return func(ctx context.Context, v map[string]string) error {
		if err := a.held(); err != nil {
			return err
		}
		// The record of a remote write that happened must be kept even
		// when the plugin's context ends just after it.
		return a.wrote(a.st.SaveCheckpoint(context.WithoutCancel(ctx), a.fence, v))
	}
}

// links are the attempt's fenced links.
type links struct {
	a *attemptLease
	l *store.AttemptLinks
}

func (l links) Link(ctx context.Context, configID int64, lsid, kind string) (string, bool, error) {
	return l.l.Link(ctx, configID, lsid, kind)
}

func (l links) SetLink(ctx context.Context, configID int64, lsid, kind, value string) error {
	if err := l.a.held(); err != nil {
		return err
	}
	return l.a.wrote(l.l.SetLink(context.WithoutCancel(ctx), configID, lsid, kind, value))
}
