package pmcloud

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestBudgetSpacesRequestsAndHonoursAPause(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	var slept []time.Duration
	b := NewBudget(3, 10*time.Second)
	b.Now = c.Now
	b.Sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); c.Add(d); return nil }
	ctx := context.Background()
	for i := range 3 {
		if err := b.Take(ctx); err != nil {
			t.Fatal(err)
		}
		c.Add(time.Duration(i+1) * time.Second) // requests at 0 s, 1 s, 3 s
	}
	// Now 6 s: the fourth request waits until the first leaves the window.
	if err := b.Take(ctx); err != nil || len(slept) != 1 || slept[0] != 4*time.Second {
		t.Fatalf("fourth request: %v, slept %v, want 4s", err, slept)
	}
	// A 429's pause refuses at once rather than sleeping through it.
	b.Pause(c.Now().Add(30 * time.Second))
	var p *PausedError
	if err := b.Take(ctx); !errors.As(err, &p) || !p.Until.Equal(c.Now().Add(30*time.Second)) {
		t.Fatalf("during a pause: %v", err)
	}
	c.Add(30 * time.Second)
	if err := b.Take(ctx); err != nil {
		t.Fatalf("after the pause: %v", err)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	// The simulator sends no Retry-After (none is documented); when PM
	// Cloud does send one, the pause follows it rather than the 100 s.
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == tokenPath {
			_, _ = w.Write([]byte(`{"access_token":"t","token_type":"Bearer","expires_in":3600}`))
			return
		}
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	c, err := NewClient(srv.URL, clientID, secret, ClientOptions{HTTP: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	if _, err := c.Events(context.Background(), before, 10); err == nil {
		t.Fatal("a 429 gave no error")
	}
	if until := c.Budget().PausedUntil(); until.Before(before.Add(6*time.Second)) || until.After(time.Now().Add(8*time.Second)) {
		t.Fatalf("paused until %s, want about 7 s from %s", until, before)
	}
}
