package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/sources/pmcloud"
	"switchboard/engine/sources/pmcloud/pmcloudtest"
	"switchboard/engine/store"
)

// GET /api/v1/sources lists the configured sources without their secrets;
// POST /api/v1/sources/<name>/test gets a token and reads one record of
// each stream, and writes nothing: no record, no cursor.
func TestSourcesAPIListsAndTestsWithoutWriting(t *testing.T) {
	t.Parallel()
	const secret = "api-secret+with=chars"
	sim := pmcloudtest.New("api-client", secret)
	defer sim.Close()
	if err := sim.Add(pmcloudtest.Event("e-1", time.Now().Add(-time.Minute))); err != nil {
		t.Fatal(err)
	}
	if err := sim.AddAudits(pmcloudtest.Audit(7, time.Now().Add(-time.Minute))); err != nil {
		t.Fatal(err)
	}
	good := pmcloud.NewSettings()
	good.Name, good.ServicesURL, good.ClientID, good.ClientSecret = "tenant", sim.ServicesURL(), "api-client", engine.NewSecret(secret)
	good.Streams, good.Disabled = []string{"events", "audits"}, true // disabled: only the Test reads
	bad := pmcloud.NewSettings()
	*bad = *good
	bad.Name, bad.ClientSecret = "wrong-secret", engine.NewSecret("not-"+secret)
	s := startWith(t, Options{DataDir: t.TempDir(), Sources: []*pmcloud.Settings{good, bad}, SourcesHTTP: sim.Client()})

	status, body := api(t, s, http.MethodGet, "/api/v1/sources", nil)
	if status != http.StatusOK || strings.Contains(string(body), secret) {
		t.Fatalf("list: %d %s", status, body)
	}
	var list []struct {
		Name     string `json:"name"`
		Kind     string `json:"kind"`
		Settings struct {
			ClientSecretSet bool     `json:"client_secret_set"`
			Streams         []string `json:"streams"`
		} `json:"settings"`
		States []struct {
			ID string `json:"id"`
		} `json:"states"`
	}
	if err := json.Unmarshal(body, &list); err != nil || len(list) != 2 {
		t.Fatalf("list %s: %v", body, err)
	}
	if l := list[0]; l.Name != "tenant" || l.Kind != "pmcloud" || !l.Settings.ClientSecretSet || len(l.Settings.Streams) != 2 ||
		len(l.States) != 2 || l.States[0].ID != "pmcloud/tenant" || l.States[1].ID != "pmcloud-audits/tenant" {
		t.Errorf("listed %+v", l)
	}

	var res engine.SourceTest
	status, body = api(t, s, http.MethodPost, "/api/v1/sources/tenant/test", nil)
	if err := json.Unmarshal(body, &res); status != http.StatusOK || err != nil || !res.OK || len(res.Steps) != 4 {
		t.Fatalf("test: %d %s", status, body)
	}
	for i, want := range []string{"settings", "token", "events", "audits"} {
		if res.Steps[i].Step != want || !res.Steps[i].OK {
			t.Errorf("step %d: %+v, want %s passed", i, res.Steps[i], want)
		}
	}
	if !strings.Contains(res.Steps[2].Detail, "1 event") || !strings.Contains(res.Steps[3].Detail, "1 audit") {
		t.Errorf("details %+v", res.Steps)
	}

	status, body = api(t, s, http.MethodPost, "/api/v1/sources/wrong-secret/test", nil)
	res = engine.SourceTest{}
	if err := json.Unmarshal(body, &res); status != http.StatusOK || err != nil || res.OK || len(res.Steps) != 2 ||
		!strings.Contains(res.Steps[1].Error, "401") || strings.Contains(string(body), secret) {
		t.Fatalf("test with a wrong secret: %d %s", status, body)
	}
	if status, _ := api(t, s, http.MethodPost, "/api/v1/sources/nope/test", nil); status != http.StatusNotFound {
		t.Errorf("unknown source: %d", status)
	}
	req, _ := http.NewRequest(http.MethodGet, s.AdminURL()+"/api/v1/sources", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without credentials: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	// Nothing written: no record, no cursor row.
	cursors, _ := s.Store.ListSourceCursors(context.Background())
	events, _ := s.Store.ListEvents(context.Background(), store.EventFilter{})
	if len(cursors) != 0 || len(events) != 0 {
		t.Errorf("the Test wrote %d cursors and %d events", len(cursors), len(events))
	}
	if audit, _ := s.Service.Audit(context.Background(), 10); len(audit) == 0 || !strings.Contains(audit[0].Summary, "tested source") {
		t.Errorf("audit log %+v", audit)
	}
}
