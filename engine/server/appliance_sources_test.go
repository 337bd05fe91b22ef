package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/sources/appliance"
	"switchboard/engine/store"
)

// activityRecorder keeps the appliance activity documents delivered to it,
// by event name.
type activityRecorder struct {
	mu   sync.Mutex
	docs map[string][]string
}

func (p *activityRecorder) Info() engine.Info {
	return engine.Info{ID: "actrec", Name: "Activity Recorder", Events: []string{engine.EventSessionEnd},
		NewSettings: func() any { return &countingSettings{} }}
}

func (p *activityRecorder) Handle(_ context.Context, job *engine.Job) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.docs == nil {
		p.docs = map[string][]string{}
	}
	p.docs[job.Event.Name] = append(p.docs[job.Event.Name], job.Event.Fields.Get(appliance.DocumentField))
	return nil
}

func (p *activityRecorder) has(name, text string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Contains(strings.Join(p.docs[name], "\n"), text)
}

// An appliance source configured at start polls its three streams with the
// appliance's OAuth account and delivers each activity, as its own event
// name, to the configuration it names.
func TestApplianceActivityReachesTheConfigurationASourceNames(t *testing.T) {
	t.Parallel()
	sim := bttest.New(bttest.WithProduct(beyondtrust.ProductPRA))
	defer sim.Close()
	o := sim.Options()
	set := appliance.NewSettings()
	set.Name, set.Host, set.ClientID, set.ClientSecret = "pra", o.Host, o.ClientID, engine.NewSecret(o.ClientSecret)
	set.DeliverTo, set.Interval = []string{"Acme SIEM"}, 30
	p := &activityRecorder{}
	var logs lockedBuffer
	s := startWith(t, Options{DataDir: t.TempDir(), Plugins: []engine.Plugin{p}, ApplianceSources: []*appliance.Settings{set},
		ApplianceRootCAs: sim.CertPool(), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	status, body := api(t, s, http.MethodPost, "/api/v1/configurations", map[string]any{
		"plugin": "actrec", "appliance": map[string]any{"name": "Acme SIEM", "host": "support.example.com"},
		"settings": map[string]any{"token": "x"},
	})
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	// Wait for the first poll of each stream, then add one activity to each.
	deadline := time.Now().Add(20 * time.Second)
	var cursors []store.SourceCursor
	for time.Now().Before(deadline) {
		cursors, _ = s.Store.ListSourceCursors(context.Background())
		if len(cursors) == 3 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if fmt.Sprint(len(cursors)) != "3" || cursors[0].SourceID != "appliance/pra/syslog" || cursors[0].LastError != "" {
		t.Fatalf("source cursors %+v; logs:\n%s", cursors, logs.String())
	}
	now := time.Now()
	sim.AddTeamEvent(bttest.TeamEvent{TeamID: "1", TeamName: "Integration", Time: now, Type: "Conference Member Added", PerformedByType: "representative", PerformedBy: "Jane"})
	sim.AddVaultActivity(bttest.VaultActivity{Time: now, Type: "Password Changed", Account: "7", PerformedByID: "2", PerformedByType: "User", PerformedBy: "Jane"})
	sim.AddSyslog(fmt.Sprintf("%s test BG[1]: 1:01:01:when=%d;event=login;who=Jane", now.Format(time.Stamp), now.Unix()))
	want := map[string]string{
		"appliance_team_activity":          `"event_type":"Conference Member Added"`,
		"appliance_vault_account_activity": `"account_id":"7"`,
		"appliance_syslog":                 `"event":"login"`,
	}
	for time.Now().Before(deadline.Add(60 * time.Second)) {
		done := true
		for name, text := range want {
			done = done && p.has(name, text)
		}
		if done {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for name, text := range want {
		if !p.has(name, text) {
			t.Errorf("%s with %s not delivered; logs:\n%s", name, text, logs.String())
		}
	}
	if strings.Contains(logs.String(), o.ClientSecret) {
		t.Fatal("the client secret is in the log")
	}
}
