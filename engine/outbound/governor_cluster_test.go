package outbound_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard/engine/outbound"
	"switchboard/engine/store"
	"switchboard/engine/store/pgtest"
)

// engines opens n stores on one fresh PostgreSQL schema, each with a
// Governor sharing its budgets through it, as n engines of a cluster have.
func engines(t testing.TB, n int, lease time.Duration) ([]*outbound.Governor, []func()) {
	t.Helper()
	dsn := pgtest.URL(t)
	out, stops := make([]*outbound.Governor, n), make([]func(), n)
	for i := range out {
		st, err := store.Open(context.Background(), dsn, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		g := outbound.NewGovernor()
		stop := g.Share(outbound.Shared{Ledger: st, Holder: fmt.Sprint("engine", i), Lease: lease, Poll: 50 * time.Millisecond})
		t.Cleanup(stop)
		out[i], stops[i] = g, stop
	}
	return out, stops
}

// Three engines sending through one budget of three slots, many requests
// at once each: the remote never sees more than three in flight.
func TestSharedBudgetHoldsAcrossEngines(t *testing.T) {
	t.Parallel()
	var inFlight, most, served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(2 * time.Millisecond)
		inFlight.Add(-1)
		served.Add(1)
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	govs, _ := engines(t, 3, 0)
	b := outbound.Budget{Key: "autotask|code|TicketNotes", Limit: 3}
	const perEngine, each = 8, 6
	var wg sync.WaitGroup
	errs := make(chan error, len(govs)*perEngine*each)
	for _, g := range govs {
		c := outbound.New(outbound.Options{Name: "autotask", Governor: g})
		for range perEngine {
			wg.Go(func() {
				for range each {
					_, err := c.Do(context.Background(), outbound.Request{Method: http.MethodPost, URL: srv.URL, Budgets: []outbound.Budget{b}})
					if err != nil {
						errs <- err
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got, want := served.Load(), int64(len(govs)*perEngine*each); got != want {
		t.Fatalf("served %d requests, want %d", got, want)
	}
	if m := most.Load(); m > 3 {
		t.Fatalf("the remote saw %d requests in flight at once; the budget allows 3", m)
	}
	t.Logf("at most %d in flight", most.Load())
	// Every slot was given back, and every engine's metric says so.
	for i, g := range govs {
		if st := g.States(); len(st) != 1 || st[0].Free != 3 {
			t.Errorf("engine %d: states %+v, want 3 free", i, st)
		}
	}
}

// A window's allowance is counted once across the cluster.
func TestSharedWindowAcrossEngines(t *testing.T) {
	t.Parallel()
	govs, _ := engines(t, 3, 0)
	b := outbound.Budget{Key: "autotask-hour|db", PerWindow: 10, Window: time.Hour}
	var ok, spent atomic.Int64
	var wg sync.WaitGroup
	for _, g := range govs {
		for range 10 {
			wg.Go(func() {
				rel, err := g.Acquire(context.Background(), b)
				var e *outbound.Error
				switch {
				case err == nil:
					ok.Add(1)
					rel(0)
				case errors.As(err, &e) && e.Verdict.Class == outbound.RetryLater && e.Verdict.Wait > 59*time.Minute:
					spent.Add(1)
				default:
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	if ok.Load() != 10 || spent.Load() != 20 {
		t.Fatalf("%d requests allowed and %d refused, want 10 and 20", ok.Load(), spent.Load())
	}
	for i, g := range govs {
		if st := g.States(); len(st) != 1 || st[0].WindowLeft != 0 || st[0].Free != -1 {
			t.Errorf("engine %d: states %+v, want the window spent", i, st)
		}
	}
}

// An engine that dies holding slots (its leases no longer renewed) gives
// them back when the leases expire; one that lives keeps them past the
// lease by renewing.
func TestDeadEngineSlotsComeBack(t *testing.T) {
	t.Parallel()
	const lease = 3 * time.Second
	govs, stops := engines(t, 3, lease)
	b := outbound.Budget{Key: "autotask|code|Tickets", Limit: 2}
	ctx := context.Background()
	living, err := govs[0].Acquire(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	defer living(0)
	if _, err := govs[1].Acquire(ctx, b); err != nil {
		t.Fatal(err)
	}
	if st := govs[0].States(); len(st) != 1 || st[0].Free != 0 {
		t.Fatalf("states %+v, want no slot free across the engines", st)
	}
	// Engine 1 dies: it stops renewing and never releases.
	stops[1]()
	wait, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	start := time.Now()
	rel, err := govs[2].Acquire(wait, b)
	if err != nil {
		t.Fatalf("the dead engine's slot never came back: %v", err)
	}
	t.Logf("the dead engine's slot came back after %s", time.Since(start).Round(time.Millisecond))
	// Engine 0 still holds its slot, renewed past its first lease: a
	// third request finds none free for longer than a lease.
	short, cancelShort := context.WithTimeout(ctx, lease+time.Second)
	defer cancelShort()
	if _, err := govs[2].Acquire(short, b); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a renewed slot was taken over: %v", err)
	}
	rel(0)
}

// lostAnswer is a ledger whose slot takes reach the database but whose
// answers are lost: the statement committed, and then the request's
// context ended or the connection broke before its reply was read.
type lostAnswer struct {
	outbound.Ledger
}

func (l lostAnswer) TakeBudgetSlot(ctx context.Context, budget string, limit int, holder, lease string, now time.Time, ttl time.Duration) (int, bool, error) {
	if _, _, err := l.Ledger.TakeBudgetSlot(ctx, budget, limit, holder, lease, now, ttl); err != nil {
		return 0, false, err
	}
	return 0, false, errors.New("read the answer: connection reset by peer")
}

// A take whose answer was lost leaves a row the engine does not know it
// holds; the failed request gives it back, else the engine's renewals
// would keep it taken for as long as any other request of the engine runs.
func TestLostTakeGivesItsSlotBack(t *testing.T) {
	t.Parallel()
	st, err := store.Open(context.Background(), pgtest.URL(t), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	g := outbound.NewGovernor()
	t.Cleanup(g.Share(outbound.Shared{Ledger: lostAnswer{st}, Holder: "engine0"}))
	b := outbound.Budget{Key: "autotask|code|TicketNotes", Limit: 3}
	if _, err := g.Acquire(context.Background(), b); err == nil {
		t.Fatal("the take's lost answer was taken for a slot")
	}
	taken, _, err := st.BudgetUse(context.Background(), []string{b.Key}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if taken[b.Key] != 0 {
		t.Fatalf("%d slots stay taken after a take whose answer was lost, want 0", taken[b.Key])
	}
}

// BenchmarkSharedAcquireRelease is the cost a shared budget adds to one
// Autotask request: a window count, a slot taken and given back.
func BenchmarkSharedAcquireRelease(b *testing.B) {
	govs, _ := engines(b, 1, 0)
	budgets := []outbound.Budget{
		{Key: "autotask|code|Tickets", Limit: 3},
		{Key: "autotask-hour|db", PerWindow: 1 << 30, Window: time.Hour},
	}
	ctx := context.Background()
	for b.Loop() {
		rel, err := govs[0].Acquire(ctx, budgets...)
		if err != nil {
			b.Fatal(err)
		}
		rel(0)
	}
}

// unreachableRelease is lostAnswer whose giving back fails too: the
// database went away between the two statements.
type unreachableRelease struct {
	lostAnswer
}

func (unreachableRelease) ReleaseBudgetSlot(context.Context, string, int, string, time.Time) error {
	return errors.New("dial tcp: connection refused")
}

// A slot the engine does not know it holds (a take whose answer was lost
// and could not be given back) comes back when its lease expires, even
// while the engine renews the slots of requests it does run.
func TestOrphanSlotExpiresWhileEngineRenews(t *testing.T) {
	t.Parallel()
	st, err := store.Open(context.Background(), pgtest.URL(t), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	const lease = 600 * time.Millisecond
	b := outbound.Budget{Key: "autotask|code|Tickets", Limit: 3}
	lost := outbound.NewGovernor()
	stopLost := lost.Share(outbound.Shared{Ledger: unreachableRelease{lostAnswer{st}}, Holder: "engine0", Lease: lease})
	if _, err := lost.Acquire(context.Background(), b); err == nil {
		t.Fatal("the take's lost answer was taken for a slot")
	}
	stopLost()
	// The same engine, its database back, runs a long request.
	g := outbound.NewGovernor()
	t.Cleanup(g.Share(outbound.Shared{Ledger: st, Holder: "engine0", Lease: lease}))
	rel, err := g.Acquire(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	defer rel(0)
	deadline := time.Now().Add(10 * lease)
	for {
		taken, _, err := st.BudgetUse(context.Background(), []string{b.Key}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if taken[b.Key] == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d slots still taken %s after the lost take, one request running: the orphan is renewed with the engine's slots", taken[b.Key], 10*lease)
		}
		time.Sleep(lease / 4)
	}
}

// An engine that dies while the remote still works on its request (sent
// just before the kill; the remote goes on for up to the client's timeout
// plus grace) keeps that slot counted for as long, although its lease,
// renewed until it died, is much shorter.
func TestDeadEngineSlotOutlivesTheRemoteHold(t *testing.T) {
	t.Parallel()
	const lease = time.Second
	govs, stops := engines(t, 2, lease)
	b := outbound.Budget{Key: "autotask|code|TicketNotes", Limit: 1, RemoteHold: time.Hour}
	if _, err := govs[0].Acquire(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	time.Sleep(lease) // the engine renews its lease (which must not shorten the hold) …
	stops[0]()        // … and dies
	wait, cancel := context.WithTimeout(context.Background(), 3*lease)
	defer cancel()
	if _, err := govs[1].Acquire(wait, b); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the dead engine's slot went to another while the remote may still work on its request: %v", err)
	}
}
