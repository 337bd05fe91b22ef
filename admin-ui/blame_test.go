package adminui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"switchboard/engine"
	"switchboard/plugins/autotask/autotasktest"
)

// TestTestBlamesFields: the Test button's answer names the fields each
// failing check blames, so the form can mark them: settings that are not
// valid, and remote checks that fail because of a setting.
func TestTestBlamesFields(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tests := []struct {
		name  string
		edit  func(url.Values)
		field string
	}{
		{"invalid host", func(f url.Values) { f.Set("appliance.host", "https://x.example.com/login") }, "host"},
		{"wrong password", func(f url.Values) { f.Set("settings.password", "not-the-password") }, "password"},
		{"unknown note type", func(f url.Values) { f.Set("settings.note_type", "No Such Note Type") }, "note_type"},
		{"wrong client secret", func(f url.Values) { f.Set("appliance.client_secret", "nope-nope") }, "client_secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := h.validForm("New")
			tt.edit(form)
			rec := h.post("/plugins/autotask/test", form, wantJSON)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			var got struct {
				Checks []engine.Check
				Errors engine.FieldErrors
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got.Errors.For(tt.field) == "" {
				t.Errorf("errors = %+v, want one on %s", got.Errors, tt.field)
			}
		})
	}
	// All good: nothing is blamed.
	rec := h.post("/plugins/autotask/test", h.validForm("New"), wantJSON)
	var got struct{ Errors engine.FieldErrors }
	_ = json.Unmarshal(rec.Body.Bytes(), &got)
	if len(got.Errors) != 0 {
		t.Errorf("a passing test blames %+v", got.Errors)
	}
}

// TestCopyWarnsOfDuplicates: the copy's form, which Copy opens, warns that
// it points at the same appliance and tenant as the original; once pointed
// elsewhere, the warning goes.
func TestCopyWarnsOfDuplicates(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.createConfig("Contoso")
	rec := h.post(fmt.Sprintf("/configs/%d/copy", id), nil)
	loc := rec.Header().Get("Location")
	page := h.get(loc).Body.String()
	if !strings.Contains(page, "data-duplicates") || !strings.Contains(page, fmt.Sprintf(`href="/configs/%d"`, id)) || !strings.Contains(page, "twice") {
		t.Fatalf("the copy's form has no duplicate warning naming Contoso:\n%s", page)
	}
	if page := h.get(fmt.Sprintf("/configs/%d", id)).Body.String(); strings.Contains(page, "data-duplicates") {
		t.Error("the original warns of a disabled copy")
	}
	// Pointed at another tenant: no warning.
	copyID := strings.TrimSuffix(strings.TrimPrefix(loc, "/configs/"), "?done=copied")
	form := h.validForm("Copy of Contoso")
	form.Set("settings.username", "other@tenant.example")
	form.Set("settings.password", autotasktest.DefaultSecret)
	form.Set("settings.integration_code", autotasktest.DefaultIntegrationCode)
	form.Set("version", "1")
	if rec := h.post("/configs/"+copyID, form); rec.Code != http.StatusSeeOther {
		t.Fatalf("save the copy: %d\n%s", rec.Code, rec.Body)
	}
	if page := h.get("/configs/" + copyID).Body.String(); strings.Contains(page, "data-duplicates") {
		t.Error("a copy for another tenant still warns")
	}
}

// TestTestWarnsOfDuplicates: Test reports what the form warns of, a copy
// that would write every note a second time, as a warning check (not a
// failure) naming the enabled configuration it duplicates: for the form's
// values and for the saved configuration. The original, whose copy is
// disabled, and a copy pointed at another tenant get none.
func TestTestWarnsOfDuplicates(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.createConfig("Contoso")
	loc := h.post(fmt.Sprintf("/configs/%d/copy", id), nil).Header().Get("Location")
	copyID := strings.TrimSuffix(strings.TrimPrefix(loc, "/configs/"), "?done=copied")
	duplicate := func(target string, form url.Values) *engine.Check {
		t.Helper()
		rec := h.post(target, form, wantJSON)
		if rec.Code != http.StatusOK {
			t.Fatalf("POST %s: status %d: %s", target, rec.Code, rec.Body)
		}
		var got struct{ Checks []engine.Check }
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		for _, c := range got.Checks {
			if c.ID == "duplicates" {
				return &c
			}
		}
		return nil
	}
	form := h.validForm("Copy of Contoso")
	form.Set("config_id", copyID)
	for _, target := range []string{"/plugins/autotask/test", "/configs/" + copyID + "/test"} {
		d := duplicate(target, form)
		if d == nil {
			t.Fatalf("%s: no duplicates check", target)
		}
		if d.Status != engine.CheckWarn || !strings.Contains(d.Message, `"Contoso"`) || !strings.Contains(d.Message, "twice") {
			t.Errorf("%s: duplicates check = %+v; want a warning naming Contoso", target, *d)
		}
	}
	if d := duplicate(fmt.Sprintf("/configs/%d/test", id), nil); d != nil {
		t.Errorf("the original warns of its disabled copy: %+v", *d)
	}
	// A new configuration typed for Contoso's tenant is told before it is saved.
	if d := duplicate("/plugins/autotask/test", h.validForm("New")); d == nil || d.Status != engine.CheckWarn {
		t.Errorf("Test of a new configuration for Contoso's tenant: duplicates check %+v", d)
	}
	form.Set("settings.username", "other@tenant.example")
	if d := duplicate("/plugins/autotask/test", form); d != nil {
		t.Errorf("a copy for another tenant warns: %+v", *d)
	}
}
