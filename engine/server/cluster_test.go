package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
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

// clusterOptions returns the options of one more engine on a fresh
// PostgreSQL schema shared by every engine it makes, with one secret key.
func clusterOptions(t *testing.T, plugins ...engine.Plugin) func() Options {
	dsn := pgtest.URL(t)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return func() Options {
		return Options{DataDir: t.TempDir(), Database: dsn, SecretKey: base64.StdEncoding.EncodeToString(key), Plugins: plugins}
	}
}

// Three engines on one PostgreSQL database, the appliance posting to each
// in turn as a load balancer would: every acknowledged event is delivered
// exactly once.
func TestThreeEnginesDeliverEachEventOnce(t *testing.T) {
	t.Parallel()
	p := &sessionCounter{seen: map[string]int{}}
	opts := clusterOptions(t, p)
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

// A configuration created, edited or deleted through one engine reaches
// the routing of another engine on the same database without a restart.
func TestConfigEditsReachOtherEngines(t *testing.T) {
	t.Parallel()
	p := &sessionCounter{seen: map[string]int{}}
	opts := clusterOptions(t, p)
	a, b := startWith(t, opts()), startWith(t, opts())
	// waitFor polls b's routing until ok holds (the deadline is a hang
	// guard, not the measure: the watch looks every 500 ms).
	waitFor := func(what string, ok func([]string) bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			var names []string
			for _, c := range b.Routes.Configs() {
				names = append(names, fmt.Sprintf("%s v%d", c.Name, c.Version))
			}
			if ok(names) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never reached the other engine: it routes with %v", what, names)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	status, body := api(t, a, http.MethodPost, "/api/v1/configurations", map[string]any{
		"plugin": "count", "appliance": map[string]any{"name": "Acme", "host": "support.example.com"},
		"settings": map[string]any{"token": "t"},
	})
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	var created struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(body, &created); err != nil {
		t.Fatal(err)
	}
	waitFor("the new configuration", func(n []string) bool { return len(n) == 1 && n[0] == "Acme v1" })

	// An event posted to b is routed by the configuration made on a.
	resp, err := http.PostForm(b.IntakeURL()+"/ERSPost?appliance=Default",
		url.Values{"event": {engine.EventSessionEnd}, "lsid": {"L1"}, "timestamp": {"1700000000"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		p.mu.Lock()
		n := p.seen["L1"]
		p.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the event posted to the other engine was never delivered")
		}
	}

	path := fmt.Sprintf("/api/v1/configurations/%d", created.ID)
	status, body = api(t, a, http.MethodPut, path, map[string]any{
		"plugin": "count", "appliance": map[string]any{"name": "Acme Renamed", "host": "support.example.com"},
		"settings": map[string]any{"token": "t"}, "version": 1,
	})
	if status != http.StatusOK {
		t.Fatalf("update: %d %s", status, body)
	}
	waitFor("the edit", func(n []string) bool { return len(n) == 1 && n[0] == "Acme Renamed v2" })

	if status, body = api(t, a, http.MethodDelete, path, nil); status/100 != 2 {
		t.Fatalf("delete: %d %s", status, body)
	}
	waitFor("the deletion", func(n []string) bool { return len(n) == 0 })
}
