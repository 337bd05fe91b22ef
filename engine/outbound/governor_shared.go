package outbound

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"time"
)

// Ledger keeps budgets where every engine of a cluster counts them: the
// store on PostgreSQL (*store.Store implements it). A slot is a row held
// by one engine for one request under a lease that the engine renews while
// the request runs, so the slots of an engine that died come back when
// their leases expire.
type Ledger interface {
	// TakeBudgetSlot takes a free slot of budget (limit slots) for
	// holder's request lease until now+ttl; false when none is free.
	TakeBudgetSlot(ctx context.Context, budget string, limit int, holder, lease string, now time.Time, ttl time.Duration) (int, bool, error)
	// RenewBudgetSlots extends the slots holder holds under leases to
	// until. A row of holder under another lease (a take whose answer
	// was lost) is left to expire.
	RenewBudgetSlots(ctx context.Context, holder string, leases []string, until time.Time) error
	// ReleaseBudgetSlot gives the slot back, now (zero until) or at until;
	// a negative slot gives back now whichever slot lease took, if any.
	ReleaseBudgetSlot(ctx context.Context, budget string, slot int, lease string, until time.Time) error
	// StartInBudgetWindow counts one request against budget's window;
	// false, with the wait until the window ends, when it is spent.
	StartInBudgetWindow(ctx context.Context, budget string, perWindow int, window time.Duration, now time.Time) (time.Duration, bool, error)
	// BudgetUse reads the slots taken and the requests of the current
	// window of budgets.
	BudgetUse(ctx context.Context, budgets []string, now time.Time) (taken, used map[string]int, err error)
}

// Defaults of Shared.
const (
	DefaultSlotLease = 30 * time.Second
	// DefaultSlotPoll caps the pause between two tries of a request
	// waiting for a slot held by another engine; a slot given back in
	// this engine wakes its waiters at once.
	DefaultSlotPoll = 200 * time.Millisecond
)

// Shared configures a Governor whose budgets live in a Ledger.
type Shared struct {
	Ledger Ledger
	// Holder names this engine in the slots it takes (unique in the
	// cluster).
	Holder string
	// Lease is how long a slot outlives an engine that stopped renewing
	// it (default DefaultSlotLease); it is renewed every third of it.
	Lease time.Duration
	// Poll caps the pause between tries for a slot (default
	// DefaultSlotPoll); pauses start at a tenth of it and double.
	Poll time.Duration
	Log  *slog.Logger
}

type shared struct {
	Shared
	mu sync.Mutex
	// held are the leases of the slots this engine's requests hold now,
	// or are taking: the ones it renews.
	held map[string]struct{}
	// freed holds, per budget, a channel closed (and forgotten) when this
	// engine gives a slot of it back, to wake the requests waiting here at
	// once.
	freed map[string]chan struct{}
}

// Share makes g keep its budgets in s.Ledger from now on, so that they
// hold across every engine sharing it, and starts renewing the leases of
// the slots this engine holds. stop ends the renewal and returns g to
// in-process budgets; slots still held then expire after s.Lease.
func (g *Governor) Share(s Shared) (stop func()) {
	if s.Lease <= 0 {
		s.Lease = DefaultSlotLease
	}
	if s.Poll <= 0 {
		s.Poll = DefaultSlotPoll
	}
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	sh := &shared{Shared: s, held: map[string]struct{}{}, freed: map[string]chan struct{}{}}
	g.mu.Lock()
	g.shared = sh
	g.mu.Unlock()
	done := make(chan struct{})
	go sh.renew(done, g.now)
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			g.mu.Lock()
			if g.shared == sh {
				g.shared = nil
			}
			g.mu.Unlock()
		})
	}
}

// renew extends this engine's slots every third of the lease while it
// holds any.
func (sh *shared) renew(done <-chan struct{}, now func() time.Time) {
	t := time.NewTicker(sh.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		leases := sh.leases()
		if len(leases) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), sh.Lease/3)
		if err := sh.Ledger.RenewBudgetSlots(ctx, sh.Holder, leases, now().Add(sh.Lease)); err != nil {
			sh.Log.Warn("renew the leases of budget slots", "err", err)
		}
		cancel()
	}
}

type heldSlot struct {
	budget, lease string
	slot          int
}

func (sh *shared) acquire(ctx context.Context, budgets []Budget) (Release, error) {
	var taken []heldSlot
	give := func(hold time.Duration) {
		if len(taken) == 0 {
			return
		}
		// The slots go back even when the request's context has ended.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		var until time.Time
		if hold > 0 {
			until = time.Now().Add(hold)
		}
		for _, h := range taken {
			if err := sh.Ledger.ReleaseBudgetSlot(rctx, h.budget, h.slot, h.lease, until); err != nil {
				sh.Log.Warn("give back a budget slot; its lease will expire", "budget", h.budget, "err", err)
			}
		}
		for _, h := range taken {
			sh.hold(h.lease, false)
			sh.wake(h.budget)
		}
	}
	for _, b := range budgets {
		if b.PerWindow > 0 && b.Window > 0 {
			wait, ok, err := sh.Ledger.StartInBudgetWindow(ctx, b.Key, b.PerWindow, b.Window, time.Now())
			if err != nil {
				give(0)
				return nil, ledgerError(ctx, b, err)
			}
			if !ok {
				give(0)
				return nil, spent(b, wait)
			}
		}
		if b.Limit <= 0 {
			continue
		}
		h, err := sh.take(ctx, b)
		if err != nil {
			give(0)
			return nil, err
		}
		taken = append(taken, h)
	}
	return give, nil
}

// take waits for a slot of b: it tries, then pauses (a tenth of Poll,
// doubling up to Poll, with jitter so that engines do not try in step)
// or until this engine gives a slot back.
func (sh *shared) take(ctx context.Context, b Budget) (heldSlot, error) {
	lease := newLease()
	pause := sh.Poll / 10
	for {
		freed := sh.freedOf(b.Key)
		// Held before the row exists, so that the renewal never skips
		// a slot taken while it reads the leases.
		sh.hold(lease, true)
		// Leased for the remote's hold at least: should this engine die
		// with the request sent, the remote still counts it that long.
		slot, ok, err := sh.Ledger.TakeBudgetSlot(ctx, b.Key, b.Limit, sh.Holder, lease, time.Now(), max(sh.Lease, b.RemoteHold))
		if err == nil && ok {
			return heldSlot{budget: b.Key, lease: lease, slot: slot}, nil
		}
		sh.hold(lease, false)
		if err != nil {
			// The take may have been made and only its answer lost
			// (the context ended, the connection broke): a row nobody
			// knows of, which this engine's renewals would keep taken.
			sh.forget(ctx, b.Key, lease)
			return heldSlot{}, ledgerError(ctx, b, err)
		}
		t := time.NewTimer(pause/2 + rand.N(pause))
		select {
		case <-ctx.Done():
			t.Stop()
			return heldSlot{}, context.Cause(ctx)
		case <-freed:
		case <-t.C:
		}
		t.Stop()
		pause = min(pause*2, sh.Poll)
	}
}

// forget gives back whatever slot of budget lease may hold, even when ctx
// has ended.
func (sh *shared) forget(ctx context.Context, budget, lease string) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := sh.Ledger.ReleaseBudgetSlot(rctx, budget, -1, lease, time.Time{}); err != nil {
		sh.Log.Warn("give back a budget slot whose take failed", "budget", budget, "err", err)
	}
}

// hold adds lease to the ones this engine renews, or takes it out.
func (sh *shared) hold(lease string, on bool) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if on {
		sh.held[lease] = struct{}{}
	} else {
		delete(sh.held, lease)
	}
}

// leases lists the leases this engine renews.
func (sh *shared) leases() []string {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	out := make([]string, 0, len(sh.held))
	for l := range sh.held {
		out = append(out, l)
	}
	return out
}

// freedOf returns the channel closed when this engine next gives back a
// slot of budget.
func (sh *shared) freedOf(budget string) chan struct{} {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	ch := sh.freed[budget]
	if ch == nil {
		ch = make(chan struct{})
		sh.freed[budget] = ch
	}
	return ch
}

func (sh *shared) wake(budget string) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if ch := sh.freed[budget]; ch != nil {
		close(ch)
		delete(sh.freed, budget)
	}
}

// ledgerError explains a budget the database could not count: the request
// is not sent, and the attempt is retried later.
func ledgerError(ctx context.Context, b Budget, err error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return &Error{Op: "budget " + b.Key, Verdict: Verdict{Class: Retry}, Err: fmt.Errorf("count the shared budget: %w", err)}
}

func spent(b Budget, wait time.Duration) error {
	return &Error{Op: "budget " + b.Key, Verdict: Verdict{Class: RetryLater, Wait: max(wait, MinRetryAfter)},
		Err: fmt.Errorf("%d requests in %s spent; the window ends in %s", b.PerWindow, b.Window, wait.Round(time.Second))}
}

func newLease() string {
	var b [16]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// states reads the use of every budget g has seen from the ledger. When
// the database does not answer it reports none, rather than a guess.
func (sh *shared) states(g *Governor) []BudgetState {
	g.mu.Lock()
	budgets := make(map[string]budgetState, len(g.budgets))
	keys := make([]string, 0, len(g.budgets))
	for k, st := range g.budgets {
		budgets[k] = budgetState{limit: st.limit, perWindow: st.perWindow, window: st.window}
		keys = append(keys, k)
	}
	g.mu.Unlock()
	sort.Strings(keys)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	taken, used, err := sh.Ledger.BudgetUse(ctx, keys, time.Now())
	if err != nil {
		sh.Log.Warn("read the shared budgets for the metrics", "err", err)
		return nil
	}
	out := make([]BudgetState, 0, len(keys))
	for _, k := range keys {
		st := budgets[k]
		s := BudgetState{Key: k, Free: -1, WindowLeft: -1}
		if st.limit > 0 {
			s.Free = max(st.limit-taken[k], 0)
		}
		if st.perWindow > 0 && st.window > 0 {
			s.WindowLeft = max(st.perWindow-used[k], 0)
		}
		out = append(out, s)
	}
	return out
}
