package adminui

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"switchboard/engine"
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
