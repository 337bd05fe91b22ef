package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"switchboard/engine"
	"switchboard/engine/auth"
	"switchboard/engine/store"
)

type countingPlugin struct{ handled atomic.Int32 }

type countingSettings struct {
	Token engine.Secret `json:"token" binds:"-" label:"Token"`
}

func (p *countingPlugin) Info() engine.Info {
	return engine.Info{ID: "count", Name: "Counting", Events: []string{engine.EventSessionEnd},
		NewSettings: func() any { return &countingSettings{} }}
}

func (p *countingPlugin) Handle(_ context.Context, job *engine.Job) error {
	p.handled.Add(1)
	job.SetResult("counted " + job.Event.LSID)
	return nil
}

func start(t *testing.T, p engine.Plugin, logs io.Writer) *Server {
	t.Helper()
	return startWith(t, Options{DataDir: t.TempDir(), Plugins: []engine.Plugin{p}, Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
}

// startWith starts a server on loopback ports with the test admin password.
func startWith(t *testing.T, opts Options) *Server {
	t.Helper()
	ctx := context.Background()
	opts.IntakeAddr, opts.AdminAddr, opts.AdminPassword = "127.0.0.1:0", "127.0.0.1:0", "correct horse battery"
	s, err := New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s
}

func api(t *testing.T, s *Server, method, path string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.AdminURL()+path, r)
	req.SetBasicAuth("admin", "correct horse battery")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// A configuration created through the JSON API receives a posted event
// without a restart, the delivery runs, and the secret never comes back.
func TestEventFlowsFromPostToPlugin(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	p := &countingPlugin{}
	s := start(t, p, &logs)
	status, body := api(t, s, http.MethodPost, "/api/v1/configurations", map[string]any{
		"plugin":    "count",
		"appliance": map[string]any{"name": "Acme", "host": "support.example.com"},
		"settings":  map[string]any{"token": "tok-very-secret"},
	})
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	if strings.Contains(string(body), "tok-very-secret") || !strings.Contains(string(body), `"token":true`) {
		t.Fatalf("create response: %s", body)
	}
	resp, err := http.PostForm(s.IntakeURL()+"/ERSPost?appliance=Default", url.Values{"event": {engine.EventSessionEnd}, "lsid": {"L1"}, "timestamp": {"1700000000"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("post: %d", resp.StatusCode)
	}
	deadline := time.Now().Add(10 * time.Second)
	for p.handled.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	// Poll the store directly: every API call costs a bcrypt check.
	var ds []store.Delivery
	for time.Now().Before(deadline) {
		ds, _ = s.Store.ListDeliveries(context.Background(), store.DeliveryFilter{})
		if len(ds) == 1 && ds[0].State == store.StateDone {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, body = api(t, s, http.MethodGet, "/api/v1/deliveries", nil)
	if !strings.Contains(string(body), `"state":"done"`) || !strings.Contains(string(body), `"result":"counted L1"`) {
		t.Fatalf("deliveries: %s", body)
	}
	for _, u := range []string{s.IntakeURL() + "/healthz", s.IntakeURL() + "/readyz"} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d; the intake listener answers health checks too", u, resp.StatusCode)
		}
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := http.Get(s.AdminURL() + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
		if path == "/metrics" && !strings.Contains(string(b), `switchboard_events_received_total{event="support_conference_end",result="routed",source="outbound"} 1`) {
			t.Errorf("metrics lack the received event:\n%s", b)
		}
	}
	if resp, err := http.Get(s.AdminURL() + "/api/v1/configurations"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("API without credentials: %d, want 401", resp.StatusCode)
		}
	}
	if strings.Contains(logs.String(), "tok-very-secret") || strings.Contains(logs.String(), "correct horse battery") {
		t.Fatal("a secret appears in the logs")
	}
}

func TestMain(m *testing.M) {
	// bcrypt at the production cost takes seconds per check under the race
	// detector; these tests are about the engine, not the hash.
	auth.BcryptCost = bcrypt.MinCost
	os.Exit(m.Run())
}
