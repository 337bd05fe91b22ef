package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/sources/pmcloud"
	"switchboard/engine/sources/pmcloud/pmcloudtest"
	"switchboard/engine/store"
)

// recordPlugin keeps the PM Cloud documents delivered to it.
type recordPlugin struct {
	mu   sync.Mutex
	docs []string
}

func (p *recordPlugin) Info() engine.Info {
	return engine.Info{ID: "rec", Name: "Recorder", Events: []string{engine.EventSessionEnd},
		NewSettings: func() any { return &countingSettings{} }}
}

func (p *recordPlugin) Handle(_ context.Context, job *engine.Job) error {
	if job.Event.Name != pmcloud.EventName {
		return engine.Permanent(nil)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.docs = append(p.docs, job.Event.Fields.Get(pmcloud.DocumentField))
	return nil
}

// A PM Cloud source configured at start stores the tenant's events and
// delivers each one, document intact, to the configuration it names.
func TestPMCloudEventsReachTheConfigurationsASourceNames(t *testing.T) {
	t.Parallel()
	sim := pmcloudtest.New("api-client", "api-secret")
	defer sim.Close()
	for i, id := range []string{"e-1", "e-2", "e-3"} {
		if err := sim.Add(pmcloudtest.Event(id, time.Now().Add(-time.Duration(10-i)*time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	set := pmcloud.NewSettings()
	set.Name, set.ServicesURL, set.ClientID, set.ClientSecret = "tenant", sim.ServicesURL(), "api-client", engine.NewSecret("api-secret")
	set.DeliverTo = []string{"Acme SIEM"}
	set.Interval = 30
	p := &recordPlugin{}
	var logs lockedBuffer
	s := startWith(t, Options{DataDir: t.TempDir(), Plugins: []engine.Plugin{p}, Sources: []*pmcloud.Settings{set}, SourcesHTTP: sim.Client(),
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	// The configuration comes after the first poll: its records are stored
	// unrouted; the next cycle's records reach it.
	status, body := api(t, s, http.MethodPost, "/api/v1/configurations", map[string]any{
		"plugin": "rec", "appliance": map[string]any{"name": "Acme SIEM", "host": "support.example.com"},
		"settings": map[string]any{"token": "x"},
	})
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	deadline := time.Now().Add(15 * time.Second)
	var cursors []store.SourceCursor
	for time.Now().Before(deadline) {
		cursors, _ = s.Store.ListSourceCursors(context.Background())
		if len(cursors) == 1 && cursors[0].TotalNew == 3 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(cursors) != 1 || cursors[0].TotalNew != 3 || cursors[0].SourceID != "pmcloud/tenant" {
		t.Fatalf("source cursors %+v", cursors)
	}
	events, err := s.Store.ListEvents(context.Background(), store.EventFilter{Name: pmcloud.EventName})
	if err != nil || len(events) != 3 {
		t.Fatalf("events %d %v", len(events), err)
	}
	// Whichever way the race with the configuration went, every document
	// is stored intact; those routed are delivered.
	for _, e := range events {
		var doc map[string]any
		if err := json.Unmarshal([]byte(e.Values().Get(pmcloud.DocumentField)), &doc); err != nil {
			t.Fatalf("stored document: %v", err)
		}
	}
	if err := sim.Add(pmcloudtest.Event("e-4", time.Now())); err != nil {
		t.Fatal(err)
	}
	for time.Now().Before(deadline.Add(45 * time.Second)) {
		p.mu.Lock()
		n := len(p.docs)
		p.mu.Unlock()
		if n > 0 && strings.Contains(strings.Join(p.docs, "\n"), `"id":"e-4"`) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !strings.Contains(strings.Join(p.docs, "\n"), `"id":"e-4"`) {
		t.Fatalf("e-4 not delivered; got %d documents; logs:\n%s", len(p.docs), logs.String())
	}
	if strings.Contains(logs.String(), "api-secret") {
		t.Fatal("the client secret is in the log")
	}
}
