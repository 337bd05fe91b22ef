package pmcloud

import (
	"context"
	"fmt"
	"sync"
	"time"
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

// Take spends one request, waiting for the window to free a slot. It
// returns a *PausedError at once while a pause lasts.
func (b *Budget) Take(ctx context.Context) error {
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
