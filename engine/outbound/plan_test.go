package outbound

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

type recordingPlanner struct {
	mu     sync.Mutex
	writes []PlannedRequest
}

func (p *recordingPlanner) PlanWrite(w PlannedRequest) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.writes = append(p.writes, w)
}

// Under a planner, reads go out and no other request ever does, whatever
// its method; each is handed to the planner, redacted, and fails with
// ErrNotSent, permanently.
func TestPlannerSendsReadsOnly(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path)
		mu.Unlock()
		if r.Method != http.MethodGet && !strings.HasSuffix(r.URL.Path, "/query") && r.URL.Path != "/after" {
			t.Errorf("a dry run sent a write: %s %s", r.Method, r.URL.Path)
		}
		_, _ = w.Write([]byte(`{"items":[]}`))
	}))
	defer srv.Close()
	c := New(Options{Name: "psa", Redactor: NewRedactor("s3cret-value")})
	p := &recordingPlanner{}
	ctx := WithPlanner(context.Background(), p)
	if _, err := c.Do(ctx, Request{Method: http.MethodGet, URL: srv.URL + "/tickets/1", Idempotent: true}); err != nil {
		t.Fatalf("a read under a planner: %v", err)
	}
	if _, err := c.Do(ctx, Request{Method: http.MethodPost, URL: srv.URL + "/tickets/query", JSON: map[string]int{"id": 1}, Idempotent: true}); err != nil {
		t.Fatalf("a query under a planner: %v", err)
	}
	for _, m := range []string{http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete} {
		_, err := c.Do(ctx, Request{Method: m, URL: srv.URL + "/tickets/1/notes?x=s3cret-value", JSON: map[string]string{"text": "hello s3cret-value"}})
		var e *Error
		if !errors.Is(err, ErrNotSent) || !errors.As(err, &e) || !e.PermanentError() || !strings.HasPrefix(err.Error(), "psa: ") {
			t.Fatalf("%s under a planner: %v", m, err)
		}
	}
	// A raw body, and a write that claims nothing: still planned, not sent.
	if _, err := c.Do(ctx, Request{Method: http.MethodPost, URL: srv.URL + "/raw", Body: []byte("a,b"), ContentType: "text/csv"}); !errors.Is(err, ErrNotSent) {
		t.Fatalf("raw write: %v", err)
	}
	// Without a planner the same client writes.
	if _, err := c.Do(context.Background(), Request{Method: http.MethodPut, URL: srv.URL + "/after"}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 3 {
		t.Fatalf("the remote saw %v; want the two reads and the write without a planner", seen)
	}
	if len(p.writes) != 5 {
		t.Fatalf("planned %d writes, want 5", len(p.writes))
	}
	w := p.writes[0]
	if w.System != "psa" || w.Method != http.MethodPost || w.Path != "/tickets/1/notes?x="+Mask || string(w.Body) != `{"text":"hello `+Mask+`"}` {
		t.Fatalf("planned write: %+v (body %s)", w, w.Body)
	}
	if raw := p.writes[4]; string(raw.Body) != "a,b" || raw.ContentType != "text/csv" {
		t.Fatalf("raw planned write: %+v", raw)
	}
}
