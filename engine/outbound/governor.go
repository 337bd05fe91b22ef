package outbound

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Budget is one remote allowance that every client naming the same Key
// shares, whatever configuration it serves: Autotask's three threads per
// endpoint and integration code, its 10,000 requests an hour per tenant,
// ConnectWise's requests in flight per API member. A Budget holds either
// a concurrency limit or a window, or both.
type Budget struct {
	// Key names the budget across the process; it is exported as a metric
	// label, so it must not hold a secret (hash credentials into it).
	Key string
	// Limit caps the requests in flight (0: no cap).
	Limit int
	// PerWindow caps the requests started in each Window (0: no cap). A
	// request over the cap is not sent: it fails as RetryLater until the
	// window ends, since a plugin never sleeps through a wait.
	PerWindow int
	Window    time.Duration
	// RemoteHold is how long the remote may go on with a request once it
	// was sent, whatever this side does: Client.Do sets it to its timeout
	// plus TimeoutGrace. A slot kept in a database (Share) is leased for
	// at least this from its take, so an engine that dies mid-request
	// does not hand its slot on while the remote still counts the request.
	RemoteHold time.Duration
}

// Governor hands out the slots of budgets. One process-wide Governor
// (DefaultGovernor) is shared by every Client, so configurations with the
// same remote account share its budget.
//
// Within one process the slots are channels and the windows counters; a
// cluster of engines on one PostgreSQL database keeps them in it instead
// (Share), behind the same Acquire, so no plugin knows which it gets.
type Governor struct {
	mu      sync.Mutex
	budgets map[string]*budgetState
	now     func() time.Time
	// shared, when set, keeps every budget in a database (see Share).
	shared *shared
}

type budgetState struct {
	sem         chan struct{}
	limit       int
	windowStart time.Time
	started     int
	perWindow   int
	window      time.Duration
}

// DefaultGovernor is the Governor clients use unless Options say otherwise.
var DefaultGovernor = NewGovernor()

// NewGovernor returns an empty Governor.
func NewGovernor() *Governor {
	return &Governor{budgets: map[string]*budgetState{}, now: time.Now}
}

// Release gives a slot back; hold > 0 keeps it taken that much longer. A
// request that timed out is given up by this side only: the remote may
// still be working on it, and counts it against its thread limit until it
// is done, so its slot is held for a grace period.
type Release func(hold time.Duration)

// Acquire waits for a slot of every budget in order and returns one
// Release for all of them. It fails when ctx ends first (its cause
// returned) or when a window's allowance is spent (an *Error of class
// RetryLater; no slot is held then).
func (g *Governor) Acquire(ctx context.Context, budgets ...Budget) (Release, error) {
	g.mu.Lock()
	sh := g.shared
	g.mu.Unlock()
	if sh != nil {
		for _, b := range budgets {
			g.state(b) // remembered for States
		}
		return sh.acquire(ctx, budgets)
	}
	var taken []chan struct{}
	give := func(hold time.Duration) {
		for _, sem := range taken {
			if hold > 0 {
				time.AfterFunc(hold, func() { <-sem })
			} else {
				<-sem
			}
		}
	}
	for _, b := range budgets {
		st := g.state(b)
		if wait, ok := g.startInWindow(st); !ok {
			give(0)
			return nil, spent(b, wait)
		}
		if st.sem == nil {
			continue
		}
		select {
		case st.sem <- struct{}{}:
			taken = append(taken, st.sem)
		case <-ctx.Done():
			give(0)
			return nil, context.Cause(ctx)
		}
	}
	return give, nil
}

func (g *Governor) state(b Budget) *budgetState {
	g.mu.Lock()
	defer g.mu.Unlock()
	st := g.budgets[b.Key]
	if st == nil || st.limit != b.Limit || st.perWindow != b.PerWindow || st.window != b.Window {
		// A changed limit starts a fresh budget; requests holding the old
		// one give their slots back to it.
		st = &budgetState{limit: b.Limit, perWindow: b.PerWindow, window: b.Window}
		if b.Limit > 0 {
			st.sem = make(chan struct{}, b.Limit)
		}
		g.budgets[b.Key] = st
	}
	return st
}

// startInWindow counts one request against st's window, or reports how
// long until the window ends when it is spent.
func (g *Governor) startInWindow(st *budgetState) (time.Duration, bool) {
	if st.perWindow <= 0 || st.window <= 0 {
		return 0, true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	if now.Sub(st.windowStart) >= st.window {
		st.windowStart, st.started = now, 0
	}
	if st.started >= st.perWindow {
		return st.windowStart.Add(st.window).Sub(now), false
	}
	st.started++
	return 0, true
}

// BudgetState is what is left of one budget.
type BudgetState struct {
	Key string
	// Free is the number of slots not taken (held slots of timed-out
	// requests count as taken); -1 when the budget has no Limit.
	Free int
	// WindowLeft is the requests the current window still allows; -1
	// when the budget has no window.
	WindowLeft int
}

// States returns every budget's remaining allowance, sorted by key: the
// metric switchboard_outbound_budget_free reads it.
func (g *Governor) States() []BudgetState {
	g.mu.Lock()
	sh := g.shared
	g.mu.Unlock()
	if sh != nil {
		return sh.states(g)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]BudgetState, 0, len(g.budgets))
	now := g.now()
	for key, st := range g.budgets {
		s := BudgetState{Key: key, Free: -1, WindowLeft: -1}
		if st.sem != nil {
			s.Free = st.limit - len(st.sem)
		}
		if st.perWindow > 0 {
			s.WindowLeft = st.perWindow
			if now.Sub(st.windowStart) < st.window {
				s.WindowLeft = st.perWindow - st.started
			}
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
