package adminui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"switchboard/engine/beyondtrust/bttest"
)

// An appliance activity source made in the form: a bad field comes back
// next to its input, nothing saved; a good one is stored (secret shown only
// as set), listed on the Polling page as the admin UI's with its link, its
// Test reads each stream, and it can be copied, disabled and deleted.
func TestSourceForm(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	form := url.Values{
		"settings.name":                {"pra-prod"},
		"settings.host":                {"https://" + h.app.Host()},
		"settings.product":             {"rs"},
		"settings.client_id":           {bttest.DefaultClientID},
		"settings.client_secret":       {bttest.DefaultClientSecret},
		"settings.streams":             {"team", "vault"},
		"settings.interval":            {"ten"},
		"settings.first_fetch_minutes": {"60"},
		"settings.max_per_cycle":       {"100"},
		"settings.allow_invalid_certs": {"on"},
	}
	rec := h.post("/sources/new/appliance", form)
	body := rec.Body.String()
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(body, "must be a number") || !strings.Contains(body, "without https://") {
		t.Fatalf("bad form: %d %s", rec.Code, body)
	}
	if strings.Contains(body, bttest.DefaultClientSecret) {
		t.Fatal("the typed secret was sent back")
	}
	if !strings.Contains(body, `id="f-interval"`) || !strings.Contains(body, `aria-invalid="true"`) {
		t.Fatal("the error is not marked on its field")
	}

	// Test without a secret: the settings step fails and says why;
	// an unknown kind is not found.
	noSecret := url.Values{"settings.name": {"x"}, "settings.host": {h.app.Host()}, "settings.client_id": {"c"}}
	if rec = h.post("/sources/new/appliance/test", noSecret); !strings.Contains(rec.Body.String(), "failed") || !strings.Contains(rec.Body.String(), "client_secret is required") {
		t.Fatalf("test without a secret: %s", rec.Body.String())
	}
	if rec = h.get("/sources/new/nosuchkind"); rec.Code != http.StatusNotFound {
		t.Fatalf("unknown kind: %d", rec.Code)
	}
	// A name with markup is escaped wherever it shows.
	form.Set("settings.name", `<img src=x onerror=alert(1)>`)
	if rec = h.post("/sources/new/appliance", form); strings.Contains(rec.Body.String(), "<img src=x") {
		t.Fatal("the name is not escaped")
	}
	form.Set("settings.name", "pra-prod")
	form.Set("settings.host", h.app.Host())
	form.Set("settings.interval", "60")
	rec = h.post("/sources/new/appliance/test", form)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Test of source pra-prod: passed") || !strings.Contains(rec.Body.String(), "SupportTeam answered") {
		t.Fatalf("test of the form: %d %s", rec.Code, rec.Body.String())
	}
	rec = h.post("/sources/new/appliance", form)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/polling?done=source-created" {
		t.Fatalf("create: %d %s", rec.Code, rec.Body.String())
	}
	page := h.get("/polling").Body.String()
	for _, want := range []string{`<a href="/sources/1">pra-prod</a>`, "admin UI", "team, vault"} {
		if !strings.Contains(page, want) {
			t.Errorf("the Polling page lacks %q", want)
		}
	}
	edit := h.get("/sources/1").Body.String()
	if strings.Contains(edit, bttest.DefaultClientSecret) || !strings.Contains(edit, "pra-prod") {
		t.Fatal("edit page shows the secret or lacks the source")
	}
	// Saved with the secret left empty: it is kept, and Test still passes.
	form.Del("settings.client_secret")
	form.Set("version", "1")
	if rec = h.post("/sources/1/test", form); !strings.Contains(rec.Body.String(), "passed") {
		t.Fatalf("test of the stored source: %s", rec.Body.String())
	}
	if rec = h.post("/sources/1", form); rec.Code != http.StatusSeeOther {
		t.Fatalf("update: %d %s", rec.Code, rec.Body.String())
	}
	if rec = h.post("/polling/sources/test", url.Values{"name": {"pra-prod"}}); !strings.Contains(rec.Body.String(), "passed") {
		t.Fatalf("Polling page Test: %s", rec.Body.String())
	}
	if rec = h.post("/sources/1/copy", nil); rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/sources/2") {
		t.Fatalf("copy: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	if rec = h.post("/sources/1/disable", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("disable: %d", rec.Code)
	}
	if !strings.Contains(h.get("/polling").Body.String(), "Disabled") {
		t.Fatal("disabled source not marked")
	}
	if rec = h.post("/sources/2/delete", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("delete: %d", rec.Code)
	}
	if rec = h.get("/sources/2"); rec.Code != http.StatusNotFound {
		t.Fatalf("deleted source: %d", rec.Code)
	}
	audit := h.get("/audit").Body.String()
	for _, want := range []string{"created appliance source pra-prod", "tested source pra-prod: passed", "copied source pra-prod", "disabled source pra-prod", "deleted source Copy of pra-prod"} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit lacks %q", want)
		}
	}
}
