package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard/engine/service"
	"switchboard/engine/sources/pmcloud"
	"switchboard/engine/sources/pmcloud/pmcloudtest"
	"switchboard/engine/store"
)

// Two engines on one PostgreSQL database: a source saved through one is
// polled without a restart, its events stored once, and the other engine
// learns of it, and of its being disabled, through the configuration watch.
func TestASourceSavedInOneEngineReachesTheOther(t *testing.T) {
	t.Parallel()
	sim := pmcloudtest.New("api-client", "pm-secret")
	t.Cleanup(sim.Close)
	now := time.Now()
	for _, id := range []string{"a", "b"} {
		if err := sim.Add(pmcloudtest.Event(id, now.Add(-time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	opts := clusterOptions(t)
	mk := func() Options { o := opts(); o.SourcesHTTP = sim.Client(); return o }
	first, second := startWith(t, mk()), startWith(t, mk())
	ctx := context.Background()
	sc, err := first.Service.CreateSource(ctx, "ann", service.SourceInput{Kind: pmcloud.Source, Settings: []byte(
		`{"name":"acme","services_url":"` + sim.ServicesURL() + `","client_id":"api-client","client_secret":"pm-secret","interval":30}`)})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the other engine to list the source", func() bool { return len(second.Service.StoredSources(pmcloud.Source)) == 1 })
	waitFor(t, "the source's events to be stored", func() bool {
		evs, err := first.Store.ListEvents(ctx, store.EventFilter{Name: pmcloud.EventName, Limit: 10})
		return err == nil && len(evs) == 2
	})
	if err := first.Service.SetSourceDisabled(ctx, "ann", sc.ID, true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the other engine to see it disabled", func() bool {
		l := second.Service.StoredSources(pmcloud.Source)
		return len(l) == 1 && l[0].Settings.SourceDisabled()
	})
	views, err := second.Service.Sources(ctx)
	if err != nil || len(views) != 1 || views[0].ID != sc.ID || !strings.Contains(views[0].Origin, "database") {
		t.Fatalf("second engine's view %+v %v", views, err)
	}
}

// waitFor waits (a minute at most: a loaded machine is slow) for cond.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after a minute", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// /api/v1/source-configs: stored sources through the JSON API, as
// configurations are: 422 with the fields, 201 without the secret, 409 on
// a stale version, Test, disable, delete; the sources file's names taken.
func TestSourceConfigsAPI(t *testing.T) {
	t.Parallel()
	const secret = "api-source-secret+="
	sim := pmcloudtest.New("api-client", secret)
	t.Cleanup(sim.Close)
	file := pmcloud.NewSettings()
	file.Name, file.ServicesURL, file.ClientID, file.Disabled = "from-file", sim.ServicesURL(), "api-client", true
	s := startWith(t, Options{DataDir: t.TempDir(), Sources: []*pmcloud.Settings{file}, SourcesHTTP: sim.Client()})
	body := func(name, interval string) map[string]any {
		return map[string]any{"kind": "pmcloud", "settings": map[string]any{"name": name, "services_url": sim.ServicesURL(),
			"client_id": "api-client", "client_secret": secret, "interval": json.Number(interval), "disabled": true}}
	}
	status, out := api(t, s, http.MethodPost, "/api/v1/source-configs", body("acme", "5"))
	if status != http.StatusUnprocessableEntity || !strings.Contains(string(out), `"interval"`) {
		t.Fatalf("bad interval: %d %s", status, out)
	}
	if status, out = api(t, s, http.MethodPost, "/api/v1/source-configs", body("from-file", "60")); status != http.StatusUnprocessableEntity || !strings.Contains(string(out), "sources file") {
		t.Fatalf("file name: %d %s", status, out)
	}
	if status, out = api(t, s, http.MethodPost, "/api/v1/source-configs", map[string]any{"kind": "pmcloud", "nope": 1}); status != http.StatusBadRequest {
		t.Fatalf("unknown field: %d %s", status, out)
	}
	status, out = api(t, s, http.MethodPost, "/api/v1/source-configs", body("acme", "60"))
	var sc service.SourceConfig
	if err := json.Unmarshal(out, &sc); status != http.StatusCreated || err != nil || strings.Contains(string(out), secret) || !sc.SecretsSet["client_secret"] {
		t.Fatalf("create: %d %s", status, out)
	}
	path := "/api/v1/source-configs/" + strconv.FormatInt(sc.ID, 10)
	if status, out = api(t, s, http.MethodGet, path, nil); status != http.StatusOK || strings.Contains(string(out), secret) {
		t.Fatalf("get: %d %s", status, out)
	}
	upd := body("acme", "120")
	delete(upd["settings"].(map[string]any), "client_secret")
	upd["version"] = 1
	if status, out = api(t, s, http.MethodPut, path, upd); status != http.StatusOK {
		t.Fatalf("update keeping the secret: %d %s", status, out)
	}
	if status, out = api(t, s, http.MethodPut, path, upd); status != http.StatusConflict {
		t.Fatalf("stale version: %d %s", status, out)
	}
	var res struct{ OK bool }
	if status, out = api(t, s, http.MethodPost, path+"/test", map[string]any{"settings": upd["settings"]}); status != http.StatusOK || json.Unmarshal(out, &res) != nil || !res.OK {
		t.Fatalf("test: %d %s", status, out)
	}
	if status, out = api(t, s, http.MethodPost, "/api/v1/sources/acme/test", nil); status != http.StatusOK || !strings.Contains(string(out), `"ok":true`) {
		t.Fatalf("test by name: %d %s", status, out)
	}
	if status, _ = api(t, s, http.MethodPost, path+"/enable", nil); status != http.StatusNoContent {
		t.Fatalf("enable: %d", status)
	}
	if status, _ = api(t, s, http.MethodDelete, path, nil); status != http.StatusNoContent {
		t.Fatalf("delete: %d", status)
	}
	if status, _ = api(t, s, http.MethodGet, path, nil); status != http.StatusNotFound {
		t.Fatalf("after delete: %d", status)
	}
}
