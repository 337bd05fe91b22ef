package pmcloud

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"switchboard/engine/outbound"
)

// The API's documented rate limit: 1000 requests per 100 seconds.
const (
	DefaultBudget       = 1000
	DefaultBudgetWindow = 100 * time.Second
)

// PausedError is returned by Budget.Take while a 429 pause lasts: the poll
// ends there (committing what it read) rather than sleeping through it.
type PausedError struct{ Until time.Time }

func (e *PausedError) Error() string {
	return fmt.Sprintf("pmcloud: rate limited by PM Cloud (HTTP 429); paused until %s", e.Until.UTC().Format(time.RFC3339))
}

// RetryAfterDelay lets engine.Classify read the pause.
func (e *PausedError) RetryAfterDelay() (time.Duration, bool) {
	return time.Until(e.Until), true
}

// Budget spends at most n requests in any window (a sliding log of the
// last n request times), and holds every request while a 429 pause lasts.
// One budget is shared by every client of one tenant, since the reference
// does not say whether the limit is per API account or per tenant.
type Budget struct {
	n      int
	window time.Duration
	// Now and Sleep are the clock (tests replace them).
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error

	// shared, when set, also counts every request in a governor's
	// window budget (see Share).
	shared *outbound.Budget
	gov    *outbound.Governor

	mu     sync.Mutex
	times  []time.Time // ring of the last n request times
	next   int
	paused time.Time
}

// NewBudget returns a budget of n requests per window.
func NewBudget(n int, window time.Duration) *Budget {
	return &Budget{n: max(n, 1), window: window, Now: time.Now, Sleep: sleep}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// sharedSlices is how many windows of the governor's budget make up
// one window of the remote's limit.
const sharedSlices = 10

// Share makes b count every request in g's window budget named key as
// well, and returns b. The governor's windows are fixed, not sliding: a
// budget of n per window allowing n in each of its windows would let
// 2n through across the edge of two. So it allows n/11 in each tenth of
// the window: any span of one window meets at most 11 of those, hence
// never more than n requests. On PostgreSQL the governor keeps the
// window in the database, so the engines of a cluster share it; a
// request the database cannot count is not sent (an *outbound.Error of
// class Retry).
func (b *Budget) Share(g *outbound.Governor, key string) *Budget {
	b.gov = g
	b.shared = &outbound.Budget{Key: key, PerWindow: max(b.n/(sharedSlices+1), 1), Window: b.window / sharedSlices}
	return b
}

// Take spends one request, waiting for the window to free a slot. It
// returns a *PausedError at once while a pause lasts.
func (b *Budget) Take(ctx context.Context) error {
	if err := b.takeLocal(ctx); err != nil {
		return err
	}
	return b.takeShared(ctx)
}

// takeShared counts the request in the governor's window, waiting for
// the next window while this one is spent.
func (b *Budget) takeShared(ctx context.Context) error {
	if b.gov == nil {
		return nil
	}
	for {
		release, err := b.gov.Acquire(ctx, *b.shared)
		var oe *outbound.Error
		if errors.As(err, &oe) && oe.Verdict.Class == outbound.RetryLater {
			if err := b.Sleep(ctx, oe.Verdict.Wait); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		release(0) // a window holds no slot
		return nil
	}
}

func (b *Budget) takeLocal(ctx context.Context) error {
	for {
		b.mu.Lock()
		now := b.Now()
		if now.Before(b.paused) {
			until := b.paused
			b.mu.Unlock()
			return &PausedError{Until: until}
		}
		if len(b.times) < b.n {
			b.times = append(b.times, now)
			b.mu.Unlock()
			return nil
		}
		free := b.times[b.next].Add(b.window) // when the oldest leaves the window
		if !now.Before(free) {
			b.times[b.next] = now
			b.next = (b.next + 1) % b.n
			b.mu.Unlock()
			return nil
		}
		b.mu.Unlock()
		if err := b.Sleep(ctx, free.Sub(now)); err != nil {
			return err
		}
	}
}

// Pause holds every request until until (a 429's Retry-After, or 100 s).
func (b *Budget) Pause(until time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if until.After(b.paused) {
		b.paused = until
	}
}

// PausedUntil returns when the current pause ends (zero when none).
func (b *Budget) PausedUntil() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.Now().Before(b.paused) {
		return b.paused
	}
	return time.Time{}
}
