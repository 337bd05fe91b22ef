package adminui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"switchboard/engine"
	"switchboard/engine/service"
)

// TestStoredSecretsStayWithTheirDestination changes, one at a time, each
// setting that says where a secret goes, leaving the secrets blank ("keep
// the stored value"). Save and Test must both ask for the secret again
// rather than send the stored one to the new place; a copy carries its
// secrets only as long as it points where the original did.
func TestStoredSecretsStayWithTheirDestination(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.createConfig("Contoso")
	var reached atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(elsewhere.Close)
	otherHost := strings.TrimPrefix(elsewhere.URL, "http://")

	blank := func(f url.Values) url.Values {
		f.Set("settings.password", "")
		f.Set("settings.integration_code", "")
		f.Set("appliance.client_secret", "")
		return f
	}
	cases := []struct {
		name   string
		change func(url.Values)
		fields []string // the secrets that must be typed again
	}{
		{"appliance host", func(f url.Values) { f.Set("appliance.host", otherHost) }, []string{"client_secret"}},
		{"plain HTTP", func(f url.Values) { f.Set("appliance.use_non_tls", "on") }, []string{"client_secret"}},
		{"client id", func(f url.Values) { f.Set("appliance.client_id", "someone-else") }, []string{"client_secret"}},
		{"certificate checks off", func(f url.Values) { f.Del("appliance.allow_invalid_certificates") }, []string{"client_secret"}},
		{"services URL", func(f url.Values) { f.Set("settings.services_url", elsewhere.URL+"/ATServicesRest/") }, []string{"password", "integration_code"}},
		{"username", func(f url.Values) { f.Set("settings.username", "someone@example.com") }, []string{"password", "integration_code"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			form := blank(h.validForm("Contoso"))
			tc.change(form)
			rec := h.post(fmt.Sprintf("/configs/%d", id), form)
			if rec.Code != http.StatusUnprocessableEntity {
				t.Fatalf("save: status %d, want 422", rec.Code)
			}
			for _, f := range tc.fields {
				slot := fmt.Sprintf(`<p class="error" id="f-%s-error">type it again`, f)
				if !strings.Contains(rec.Body.String(), slot) {
					t.Errorf("save: no 'type it again' next to %s", f)
				}
			}

			form.Set(configIDInput, fmt.Sprint(id))
			rec = h.post("/plugins/autotask/test", form, wantJSON)
			var got struct{ Checks []engine.Check }
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("test: %d %s", rec.Code, rec.Body)
			}
			for _, c := range got.Checks {
				if c.ID != "settings" && c.ID != "form" && c.Status != engine.CheckSkipped {
					t.Errorf("test: check %s ran (%s) on settings that are not valid", c.ID, c.Status)
				}
			}
		})
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("the other host was contacted %d times", n)
	}
	stored, err := h.srv.Service.Config(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Appliance.Host != h.app.Host() {
		t.Errorf("the host changed to %s without the secret typed again", stored.Appliance.Host)
	}

	// A copy keeps its secrets while it points where the original does,
	// and asks for them again once pointed elsewhere.
	if rec := h.post(fmt.Sprintf("/configs/%d/copy", id), nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("copy: %d", rec.Code)
	}
	cfgs, _ := h.srv.Service.Configs(t.Context(), "autotask")
	var copyID int64
	for _, c := range cfgs {
		if c.ID != id {
			copyID = c.ID
			if !c.SecretsSet["client_secret"] || !c.SecretsSet["password"] {
				t.Errorf("the copy lost its secrets: %v", c.SecretsSet)
			}
		}
	}
	form := blank(h.validForm("Copy"))
	form.Set("appliance.host", otherHost)
	if rec := h.post(fmt.Sprintf("/configs/%d", copyID), form); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("copy pointed elsewhere without the secret typed again: %d", rec.Code)
	}
	form.Set("appliance.client_secret", "the-other-appliance's-secret")
	if rec := h.post(fmt.Sprintf("/configs/%d", copyID), form); rec.Code != http.StatusSeeOther {
		t.Errorf("copy pointed elsewhere with the secret typed again: %d\n%s", rec.Code, rec.Body)
	}
}

// TestTestIsAudited runs Test on valid and on invalid settings: both are in
// the audit log, the first with the hosts it contacted, the second saying
// that nothing was.
func TestTestIsAudited(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.createConfig("Contoso")
	if rec := h.post(fmt.Sprintf("/configs/%d/test", id), nil); rec.Code != http.StatusOK {
		t.Fatalf("test: %d", rec.Code)
	}
	invalid := h.validForm("Broken")
	invalid.Set("appliance.use_non_tls", "on")
	if rec := h.post("/plugins/autotask/test", invalid, wantJSON); rec.Code != http.StatusOK {
		t.Fatalf("test: %d", rec.Code)
	}
	entries, err := h.srv.Service.Audit(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	var tests []service.AuditEntry
	for _, e := range entries {
		if e.Action == "test" {
			tests = append(tests, e)
		}
	}
	if len(tests) != 2 {
		t.Fatalf("%d Test entries in the audit log, want 2: %+v", len(tests), entries)
	}
	if !strings.Contains(tests[0].Summary, "nothing contacted") || tests[0].Actor != "admin" {
		t.Errorf("invalid Test audited as %+v", tests[0])
	}
	if !strings.Contains(tests[1].Summary, "contacted: ") || !strings.Contains(tests[1].Summary, h.app.Host()) || tests[1].ConfigID != id {
		t.Errorf("valid Test audited as %+v; want the appliance %s among the hosts", tests[1], h.app.Host())
	}
	assertNoSecrets(t, "audit", fmt.Sprint(tests))
}
