package outbound

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// A request the engine stops waiting for for any reason once it was sent
// (the caller's context ended: a shutdown, the attempt's deadline; the
// connection broke before the answer was read) keeps its slot for the
// grace, as a timed-out one does: the remote goes on working on it and
// counts it against its thread limit.
func TestAbandonedRequestHoldsItsSlot(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{}, 1)
	hold := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-r.Context().Done()
	}))
	defer hold.Close()
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close() // read the request, then drop it unanswered
		}
	}))
	defer broken.Close()

	g := NewGovernor()
	b := Budget{Key: "t|Tickets", Limit: 3}
	c := New(Options{Name: "autotask", Governor: g, TimeoutGrace: time.Hour, TimeoutRetries: -1})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }()
	if _, err := c.Do(ctx, Request{Method: http.MethodPost, URL: hold.URL, Budgets: []Budget{b}}); err == nil {
		t.Fatal("a cancelled request succeeded")
	}
	if got := freeOf(g, b.Key); got != 2 {
		t.Fatalf("free slots after the caller gave up on a sent request: %d, want 2 (one held for the grace)", got)
	}
	if _, err := c.Do(context.Background(), Request{Method: http.MethodPost, URL: broken.URL, Budgets: []Budget{b}}); err == nil {
		t.Fatal("a dropped request succeeded")
	}
	if got := freeOf(g, b.Key); got != 1 {
		t.Fatalf("free slots after a request dropped unanswered: %d, want 1", got)
	}
	// A request that never left (nothing listens) holds nothing.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	_ = ln.Close()
	if _, err := c.Do(context.Background(), Request{Method: http.MethodPost, URL: closed, Budgets: []Budget{b}}); err == nil {
		t.Fatal("a request to a closed port succeeded")
	}
	if got := freeOf(g, b.Key); got != 1 {
		t.Fatalf("free slots after a request that was never sent: %d, want 1", got)
	}
}
