package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"golang.org/x/crypto/bcrypt"

	"switchboard/engine"
	"switchboard/engine/auth"
	"switchboard/engine/httpapi"
	"switchboard/engine/server"
	"switchboard/engine/store"
)

func TestMain(m *testing.M) {
	auth.BcryptCost = bcrypt.MinCost
	os.Exit(m.Run())
}

// failingPlugin fails permanently until told otherwise, so that retry can
// be exercised.
type failingPlugin struct{ fail chan bool }

type settings struct {
	Token engine.Secret `json:"token" binds:"note" label:"Token"`
	Note  string        `json:"note" label:"Note"`
}

func (p *failingPlugin) Info() engine.Info {
	return engine.Info{ID: "fp", Name: "Failing", Events: []string{engine.EventSessionEnd},
		NewSettings: func() any { return &settings{} },
		Templates:   fstest.MapFS{"partials/fpsig.hbs": {Data: []byte("-- fp")}}}
}

func (p *failingPlugin) Handle(context.Context, *engine.Job) error {
	select {
	case f := <-p.fail:
		if f {
			return engine.Permanent(io.ErrUnexpectedEOF)
		}
	default:
	}
	return nil
}

type client struct {
	t    *testing.T
	base string
}

func (c client) do(method, path string, body any) (int, map[string]any, []byte) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, r)
	req.SetBasicAuth("admin", "a long admin password")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m, raw
}

func TestAPI(t *testing.T) {
	p := &failingPlugin{fail: make(chan bool, 1)}
	s, err := server.New(context.Background(), server.Options{
		DataDir: t.TempDir(), IntakeAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		Plugins: []engine.Plugin{p}, AdminPassword: "a long admin password",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background()) //nolint:errcheck // test teardown
	c := client{t: t, base: s.AdminURL() + "/api/v1"}
	in := map[string]any{"plugin": "fp", "appliance": map[string]any{"name": "A", "host": "bt.example.com"}, "settings": map[string]any{"token": "tok-secret-1"}}

	steps := []struct {
		name, method, path string
		body               any
		want               int
		contains           string
	}{
		{"plugins", "GET", "/plugins", nil, 200, `"id":"fp"`},
		{"create", "POST", "/configurations", in, 201, `"token":true`},
		{"create refused", "POST", "/configurations", map[string]any{"plugin": "fp", "appliance": map[string]any{"name": ""}}, 422, `"field":"name"`},
		{"create unknown field", "POST", "/configurations", map[string]any{"plugin": "fp", "bogus": 1}, 400, "bogus"},
		{"get", "GET", "/configurations/1", nil, 200, `"name":"A"`},
		{"get unknown", "GET", "/configurations/99", nil, 404, "not found"},
		{"get bad id", "GET", "/configurations/x", nil, 400, "positive number"},
		{"update", "PUT", "/configurations/1", map[string]any{"appliance": map[string]any{"name": "B", "host": "bt.example.com"}, "version": 1}, 200, `"name":"B"`},
		{"update stale", "PUT", "/configurations/1", map[string]any{"appliance": map[string]any{"name": "C", "host": "bt.example.com"}, "version": 1}, 409, "changed by someone else"},
		{"copy", "POST", "/configurations/1/copy", nil, 201, `"name":"Copy of B"`},
		{"disable", "POST", "/configurations/2/disable", nil, 204, ""},
		{"enable", "POST", "/configurations/2/enable", nil, 204, ""},
		{"delete", "DELETE", "/configurations/2", nil, 204, ""},
		{"test unsaved", "POST", "/configurations/test", in, 200, `"checks"`},
		{"test saved", "POST", "/configurations/1/test", map[string]any{}, 200, `"checks"`},
		{"status", "GET", "/configurations/1/status", nil, 200, "{"},
		{"templates", "GET", "/configurations/1/templates", nil, 200, "session_report"},
		{"preview delivery of a plugin without previews", "POST", "/configurations/1/preview-delivery", map[string]any{"event": "support_conference_end"}, 400, "cannot preview"},
		{"preview delivery bad body", "POST", "/configurations/1/preview-delivery", map[string]any{"bogus": 1}, 400, "the body must be"},
		{"preview delivery unknown configuration", "POST", "/configurations/99/preview-delivery", map[string]any{"event": "support_conference_end"}, 404, "not found"},
		{"preview", "POST", "/configurations/1/templates/preview", map[string]any{"name": "session_report"}, 200, `"output"`},
		{"preview bad body", "POST", "/configurations/1/templates/preview", map[string]any{}, 400, "name"},
		{"preview unknown template", "POST", "/configurations/1/templates/preview", map[string]any{"name": "no_such_template"}, 404, "no template of that name"},
		{"events bad filter", "GET", "/events?since=yesterday", nil, 400, "RFC 3339"},
		{"polling", "GET", "/polling", nil, 200, "["},
		{"export", "GET", "/configurations/export", nil, 200, `"format":"switchboard.configurations/v1"`},
		{"import dry run", "POST", "/configurations/import?dry_run=true", exportDoc("D", "tok-other"), 200, `"action":"created"`},
		{"import env reference", "POST", "/configurations/import", exportDoc("E", "env:SWITCHBOARD_SECRET_KEY"), 422, "only by the switchboard config import command"},
		{"import other format", "POST", "/configurations/import", map[string]any{"format": "x", "configurations": []any{}}, 400, "not a Switchboard configuration file"},
		{"audit", "GET", "/audit?limit=5", nil, 200, `"action":"delete"`},
		{"template save", "POST", "/templates/save", map[string]any{"set": "acme", "name": "session_report", "text": "Mine {{lsid}}"}, 200, `"version":1`},
		{"template save refused", "POST", "/templates/save", map[string]any{"name": "session_report", "text": "a\n{{#if x}}"}, 422, `"line":2`},
		{"template save bad name", "POST", "/templates/save", map[string]any{"set": "../x", "name": "session_report", "text": "x"}, 400, "not a template set name"},
		{"template revert", "POST", "/templates/revert", map[string]any{"set": "acme", "name": "session_report"}, 204, ""},
		{"template revert with text", "POST", "/templates/revert", map[string]any{"name": "session_report", "text": "x"}, 400, "takes no text"},
		{"template audit", "GET", "/audit?limit=1", nil, 200, `"action":"template revert"`},
		{"templates of a plugin that ships some", "GET", "/configurations/1/templates", nil, 200, `"source":"plugin"`},
		{"template save of a plugin's partial, no configuration", "POST", "/templates/save", map[string]any{"name": "rep_exit_survey", "text": "x {{> fpsig}}"}, 422, `partial \"fpsig\" not found`},
		{"template save of a plugin's partial", "POST", "/templates/save", map[string]any{"name": "rep_exit_survey", "text": "x {{> fpsig}}", "configuration": 1}, 200, `"version"`},
		{"template save, unknown configuration", "POST", "/templates/save", map[string]any{"name": "rep_exit_survey", "text": "x", "configuration": 99}, 404, "not found"},
		{"template revert with a configuration", "POST", "/templates/revert", map[string]any{"name": "rep_exit_survey", "configuration": 1}, 400, "no configuration"},
	}
	req, _ := http.NewRequest("GET", c.base+"/configurations", nil)
	req.SetBasicAuth("admin", "a long admin password")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("API answers may be cached: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	for _, st := range steps {
		status, _, raw := c.do(st.method, st.path, st.body)
		if strings.Contains(string(raw), "render:") {
			t.Errorf("%s: internal error text in the answer: %s", st.name, raw)
		}
		if status != st.want || !strings.Contains(string(raw), st.contains) {
			t.Errorf("%s: %d %s; want %d containing %q", st.name, status, raw, st.want, st.contains)
		}
		if strings.Contains(string(raw), "tok-secret-1") {
			t.Errorf("%s: the secret came back", st.name)
		}
	}

	// An event whose delivery fails, is retried by the API and succeeds.
	p.fail <- true
	resp, err := http.PostForm(s.IntakeURL()+"/ERSPost", url.Values{"event": {engine.EventSessionEnd}, "lsid": {"L"}, "timestamp": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	d := waitState(t, s, store.StateFailed)
	if status, m, raw := c.do("POST", "/configurations/"+itoa(d.ConfigID)+"/retry-failed", nil); status != 202 || m["retried"] != float64(1) {
		t.Fatalf("retry failed: %d %s", status, raw)
	}
	waitState(t, s, store.StateDone)
	p.fail <- true
	if status, _, raw := c.do("POST", "/events/"+itoa(d.EventID)+"/replay", nil); status != 202 {
		t.Fatalf("replay to fail again: %d %s", status, raw)
	}
	waitState(t, s, store.StateFailed)
	if status, _, raw := c.do("POST", "/deliveries/"+itoa(d.ID)+"/retry", nil); status != 202 {
		t.Fatalf("retry: %d %s", status, raw)
	}
	waitState(t, s, store.StateDone)
	if status, _, raw := c.do("POST", "/deliveries/"+itoa(d.ID)+"/retry", nil); status != 409 || !strings.Contains(string(raw), "already succeeded") {
		t.Fatalf("retry of a done delivery: %d %s", status, raw)
	}
	if status, _, raw := c.do("GET", "/deliveries/"+itoa(d.ID), nil); status != 200 || !strings.Contains(string(raw), `"outcome":"permanent"`) {
		t.Fatalf("delivery history: %d %s", status, raw)
	}
	if status, m, raw := c.do("POST", "/events/"+itoa(d.EventID)+"/replay", nil); status != 202 || m["deliveries"] != float64(1) {
		t.Fatalf("replay: %d %s", status, raw)
	}
	if status, _, raw := c.do("GET", "/events?routing=routed&type="+engine.EventSessionEnd, nil); status != 200 || !strings.Contains(string(raw), `"lsid":"L"`) {
		t.Fatalf("events: %d %s", status, raw)
	}
	if status, _, raw := c.do("GET", "/events/"+itoa(d.EventID), nil); status != 200 || !strings.Contains(string(raw), `"deliveries"`) {
		t.Fatalf("event: %d %s", status, raw)
	}
}

func waitState(t *testing.T, s *server.Server, state string) store.Delivery {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ds, _ := s.Store.ListDeliveries(context.Background(), store.DeliveryFilter{})
		if len(ds) == 1 && ds[0].State == state {
			return ds[0]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no delivery reached %s", state)
	return store.Delivery{}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// exportDoc is a configuration export holding one fp configuration.
func exportDoc(name, token string) map[string]any {
	return map[string]any{"format": "switchboard.configurations/v1", "configurations": []any{map[string]any{
		"plugin": "fp", "appliance": map[string]any{"name": name, "host": "bt.example.com"}, "settings": map[string]any{"token": token},
	}}}
}

// A list of events must stay small whatever was posted: it leaves the
// posted fields out (one event's page has them) and caps its length.
func TestEventListIsBounded(t *testing.T) {
	s, err := server.New(context.Background(), server.Options{
		DataDir: t.TempDir(), IntakeAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		Plugins: []engine.Plugin{&failingPlugin{}}, AdminPassword: "a long admin password",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background()) //nolint:errcheck // test teardown
	big := strings.Repeat("x", 4096)
	var batch []*store.NewEvent
	for i := range httpapi.MaxListLimit + 5 {
		batch = append(batch, &store.NewEvent{Event: store.Event{
			DedupeKey: "k" + strconv.Itoa(i), ApplianceID: "Default", Name: "x", Source: "outbound", LSID: strconv.Itoa(i),
			Fields: url.Values{"event": {"x"}, "pad": {big}}.Encode(), Routing: store.Unrouted,
		}})
	}
	if _, err := s.Store.InsertEvents(context.Background(), batch, nil); err != nil {
		t.Fatal(err)
	}
	c := client{t: t, base: s.AdminURL() + "/api/v1"}
	status, _, raw := c.do("GET", "/events?limit=100000", nil)
	var list []map[string]any
	if err := json.Unmarshal(raw, &list); status != 200 || err != nil {
		t.Fatalf("list: %d %.200s", status, raw)
	}
	if len(list) != httpapi.MaxListLimit {
		t.Fatalf("limit=100000 listed %d events, want the cap %d", len(list), httpapi.MaxListLimit)
	}
	if _, ok := list[0]["fields"]; ok || bytes.Contains(raw, []byte(big)) {
		t.Fatalf("the list carries the posted fields: %.300s", raw)
	}
	id := strconv.FormatFloat(list[0]["id"].(float64), 'f', 0, 64)
	if status, _, raw := c.do("GET", "/events/"+id, nil); status != 200 || !bytes.Contains(raw, []byte(big)) {
		t.Fatalf("one event's page must show its fields: %d %.200s", status, raw)
	}
	if status, _, raw := c.do("GET", "/deliveries?limit=100000", nil); status != 200 {
		t.Fatalf("deliveries with a large limit: %d %s", status, raw)
	}
}
