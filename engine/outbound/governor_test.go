package outbound

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func freeOf(g *Governor, key string) int {
	for _, s := range g.States() {
		if s.Key == key {
			return s.Free
		}
	}
	return -2
}

// A request that timed out keeps its slot for the grace period: the
// remote may still be working on it and counts it against its limit.
func TestTimedOutRequestHoldsItsSlot(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	g := NewGovernor()
	b := Budget{Key: "t|TicketNotes", Limit: 3}
	c := New(Options{Name: "autotask", Timeout: 500 * time.Millisecond, Governor: g, TimeoutGrace: time.Hour})
	_, err := c.Do(context.Background(), Request{Method: http.MethodPost, URL: srv.URL, Op: "POST TicketNotes", Budgets: []Budget{b}})
	if !TimedOut(err) || err.Error() != "autotask: POST TicketNotes timed out after 500ms" {
		t.Fatalf("want the timeout named: %v", err)
	}
	if got := freeOf(g, b.Key); got != 2 {
		t.Fatalf("free slots after a timeout: %d, want 2 (one held for the grace)", got)
	}
	// An answered request gives its slot back at once.
	fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{}`)) }))
	defer fast.Close()
	patient := New(Options{Governor: g, Timeout: 30 * time.Second})
	if _, err := patient.Do(context.Background(), Request{Method: http.MethodGet, URL: fast.URL, Budgets: []Budget{b}}); err != nil {
		t.Fatal(err)
	}
	if got := freeOf(g, b.Key); got != 2 {
		t.Fatalf("free slots after an answer: %d, want 2", got)
	}
}

func TestGraceEnds(t *testing.T) {
	t.Parallel()
	g := NewGovernor()
	b := Budget{Key: "k", Limit: 1}
	rel, err := g.Acquire(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	rel(time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rel, err = g.Acquire(ctx, b) // waits for the grace, however slow the machine
	if err != nil {
		t.Fatalf("the held slot never came back: %v", err)
	}
	rel(0)
}

// The limit holds across clients naming the same budget, and a waiting
// request gives up with its context's cause.
func TestBudgetSharedAndCancellable(t *testing.T) {
	t.Parallel()
	g := NewGovernor()
	b := Budget{Key: "shared", Limit: 2}
	r1, _ := g.Acquire(context.Background(), b)
	r2, _ := g.Acquire(context.Background(), b)
	cause := errors.New("lease lost")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(cause)
	if _, err := g.Acquire(ctx, b); !errors.Is(err, cause) {
		t.Fatalf("a third request got a slot or the wrong error: %v", err)
	}
	if freeOf(g, "shared") != 0 {
		t.Fatal("a cancelled wait took a slot")
	}
	r1(0)
	r2(0)
	if freeOf(g, "shared") != 2 {
		t.Fatal("released slots not free")
	}
}

func TestWindowSpentIsRetryLater(t *testing.T) {
	t.Parallel()
	g := NewGovernor()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g.now = func() time.Time { return now }
	b := Budget{Key: "tenant", PerWindow: 2, Window: time.Hour}
	for range 2 {
		rel, err := g.Acquire(context.Background(), b)
		if err != nil {
			t.Fatal(err)
		}
		rel(0)
	}
	now = now.Add(20 * time.Minute)
	_, err := g.Acquire(context.Background(), b)
	var e *Error
	if !errors.As(err, &e) || e.Verdict.Class != RetryLater || e.Verdict.Wait != 40*time.Minute {
		t.Fatalf("third request in the window: %#v", err)
	}
	if s := g.States()[0]; s.WindowLeft != 0 || s.Free != -1 {
		t.Fatalf("state: %+v", s)
	}
	now = now.Add(40 * time.Minute)
	if _, err := g.Acquire(context.Background(), b); err != nil {
		t.Fatalf("a new window: %v", err)
	}
}

// An idempotent request that timed out is sent again within the same Do;
// a create is not.
func TestTimeoutRetriedInsideDoOnlyWhenIdempotent(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			<-r.Context().Done()
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	// Long enough that the answered retry never misses it on a loaded machine.
	c := New(Options{Timeout: time.Second, Governor: NewGovernor()})
	var out struct{ OK bool }
	if _, err := c.Do(context.Background(), Request{Method: http.MethodGet, URL: srv.URL, Idempotent: true, Out: &out}); err != nil || !out.OK || n.Load() != 2 {
		t.Fatalf("idempotent: %v, %+v, %d requests", err, out, n.Load())
	}
	n.Store(0)
	if _, err := c.Do(context.Background(), Request{Method: http.MethodPost, URL: srv.URL}); !TimedOut(err) || n.Load() != 1 {
		t.Fatalf("a create is sent once: %v, %d requests", err, n.Load())
	}
}

func TestServerErrorRetriedInsideDoOnlyWhenIdempotent(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	status := atomic.Int32{}
	status.Store(http.StatusInternalServerError)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			if st := int(status.Load()); st == http.StatusServiceUnavailable {
				w.Header().Set("Retry-After", "5")
				w.WriteHeader(st)
				return
			} else {
				w.WriteHeader(st)
				return
			}
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	c := New(Options{ServerErrorRetries: 2, ServerErrorPause: time.Millisecond})
	var out struct{ OK bool }
	if _, err := c.Do(context.Background(), Request{Method: http.MethodGet, URL: srv.URL, Idempotent: true, Out: &out}); err != nil || !out.OK || n.Load() != 2 {
		t.Fatalf("a read answered 500 once: %v, %+v, %d requests", err, out, n.Load())
	}
	n.Store(0)
	if _, err := c.Do(context.Background(), Request{Method: http.MethodPost, URL: srv.URL}); StatusOf(err) != 500 || n.Load() != 1 {
		t.Fatalf("a create is sent once: %v, %d requests", err, n.Load())
	}
	// A 503 with Retry-After is the dispatcher's to honour, not Do's.
	n.Store(0)
	status.Store(http.StatusServiceUnavailable)
	if _, err := c.Do(context.Background(), Request{Method: http.MethodGet, URL: srv.URL, Idempotent: true}); StatusOf(err) != 503 || n.Load() != 1 {
		t.Fatalf("503 with Retry-After: %v, %d requests", err, n.Load())
	}
	// Without the option nothing is sent twice.
	n.Store(0)
	status.Store(http.StatusInternalServerError)
	if _, err := New(Options{}).Do(context.Background(), Request{Method: http.MethodGet, URL: srv.URL, Idempotent: true}); StatusOf(err) != 500 || n.Load() != 1 {
		t.Fatalf("default: %v, %d requests", err, n.Load())
	}
}

func TestServerErrorRetriesEndAndStopOnCancel(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer srv.Close()
	c := New(Options{ServerErrorRetries: 2, ServerErrorPause: time.Millisecond})
	if _, err := c.Do(context.Background(), Request{Method: http.MethodGet, URL: srv.URL, Idempotent: true}); StatusOf(err) != 502 || n.Load() != 3 {
		t.Fatalf("always 502: %v, %d requests, want 3", err, n.Load())
	}
	n.Store(0)
	ctx, cancel := context.WithCancel(context.Background())
	slow := New(Options{ServerErrorRetries: 2, ServerErrorPause: time.Hour})
	done := make(chan error, 1)
	go func() {
		_, err := slow.Do(ctx, Request{Method: http.MethodGet, URL: srv.URL, Idempotent: true})
		done <- err
	}()
	for n.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		// The cancel may land before the answer is read (a cancellation)
		// or during the pause (the 502): either way one request, at once.
		if (StatusOf(err) != 502 && !errors.Is(err, context.Canceled)) || n.Load() != 1 {
			t.Fatalf("cancelled during the pause: %v, %d requests", err, n.Load())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Do did not return when its context ended during the pause")
	}
}
