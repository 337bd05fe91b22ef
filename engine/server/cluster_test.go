package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/store"
	"switchboard/engine/store/pgtest"
)

// sessionCounter counts the deliveries of each session across engines.
type sessionCounter struct {
	mu   sync.Mutex
	seen map[string]int
}

func (p *sessionCounter) Info() engine.Info {
	return engine.Info{ID: "count", Name: "Counting", Events: []string{engine.EventSessionEnd},
		NewSettings: func() any { return &countingSettings{} }}
}

func (p *sessionCounter) Handle(_ context.Context, job *engine.Job) error {
	p.mu.Lock()
	p.seen[job.Event.LSID]++
	p.mu.Unlock()
	return nil
}

// Three engines on one PostgreSQL database, the appliance posting to each
// in turn as a load balancer would: every acknowledged event is delivered
// exactly once.
func TestThreeEnginesDeliverEachEventOnce(t *testing.T) {
	t.Parallel()
	dsn := pgtest.URL(t)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	p := &sessionCounter{seen: map[string]int{}}
	opts := func() Options {
		return Options{DataDir: t.TempDir(), Database: dsn, SecretKey: base64.StdEncoding.EncodeToString(key), Plugins: []engine.Plugin{p}}
	}
	first := startWith(t, opts())
	status, body := api(t, first, http.MethodPost, "/api/v1/configurations", map[string]any{
		"plugin": "count", "appliance": map[string]any{"name": "Acme", "host": "support.example.com"},
		"settings": map[string]any{"token": "t"},
	})
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	engines := []*Server{first, startWith(t, opts()), startWith(t, opts())}
	const events = 60
	for i := range events {
		resp, err := http.PostForm(engines[i%3].IntakeURL()+"/ERSPost?appliance=Default",
			url.Values{"event": {engine.EventSessionEnd}, "lsid": {fmt.Sprint("L", i)}, "timestamp": {"1700000000"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("post %d to engine %d: %d", i, i%3, resp.StatusCode)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		st, err := first.Store.Stats(context.Background(), time.Now())
		if err == nil && st.ByState[store.StateDone] == events {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.seen) != events {
		t.Fatalf("%d sessions delivered, want %d", len(p.seen), events)
	}
	for lsid, n := range p.seen {
		if n != 1 {
			t.Errorf("session %s delivered %d times", lsid, n)
		}
	}
}
