package adminui

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"switchboard/engine/render"
)

// The editor's changes go through the same guards as every other page, and
// its bad inputs are refused with a clear answer and change nothing.
func TestTemplateEditorRefusesForgeriesAndBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := t.Context()
	// The harness fills in the CSRF token of each request's own cookies, so
	// every request gets a fresh copy.
	good := url.Values{"name": {render.SessionReport}, "text": {"forged {{lsid}}"}}
	fresh := func() url.Values { return with(good, "text", good.Get("text")) }
	stamp := func() int64 {
		n, err := h.srv.Store.TemplatesStamp(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	crossSite := func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "same-site") }
	otherOrigin := func(r *http.Request) { r.Header.Set("Origin", "http://evil.example") }
	for name, rec := range map[string]func() int{
		"no CSRF token":       func() int { return h.post("/templates/edit/save", with(good, "_csrf", ""), noCSRF).Code },
		"same-site save":      func() int { return h.post("/templates/edit/save", fresh(), crossSite).Code },
		"cross-origin save":   func() int { return h.post("/templates/edit/save", fresh(), otherOrigin).Code },
		"cross-origin revert": func() int { return h.post("/templates/edit/revert", fresh(), otherOrigin).Code },
		"signed out":          func() int { return h.post("/templates/edit/save", fresh(), anonymous).Code },
	} {
		if code := rec(); code != http.StatusForbidden && code != http.StatusSeeOther && code != http.StatusUnauthorized {
			t.Errorf("%s: %d", name, code)
		} else if code == http.StatusSeeOther && name != "signed out" {
			t.Errorf("%s: accepted", name)
		}
	}
	if n := stamp(); n != 0 {
		t.Fatalf("forged requests stored %d versions", n)
	}

	huge := with(good, "text", strings.Repeat("{{lsid}}", 200_000))
	if rec := h.post("/templates/edit/save", huge); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("1.6 MB body: %d %s", rec.Code, rec.Body.String())
	}
	big := with(good, "text", strings.Repeat("x", 300<<10))
	if rec := h.post("/templates/edit/save", big); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "at most 256 kB") {
		t.Errorf("300 kB template: %d %s", rec.Code, rec.Body.String())
	}
	for _, q := range []string{"name=../../etc/passwd", "name=session_report&set=../x", "name=session_report&set=partials", "", "name=session_report&config=987654"} {
		if rec := h.get("/templates/edit?" + q); rec.Code != http.StatusBadRequest {
			t.Errorf("GET %q: %d", q, rec.Code)
		}
	}
	if rec := h.post("/templates/edit/revert", url.Values{"name": {"../x"}}); rec.Code != http.StatusBadRequest {
		t.Errorf("revert of ../x: %d", rec.Code)
	}
	if rec := h.post("/templates/edit/save", with(good, "config", "987654")); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "No such configuration") {
		t.Errorf("save for a configuration that does not exist: %d %s", rec.Code, rec.Body.String())
	}
	if n := stamp(); n != 0 {
		t.Fatalf("bad input stored %d versions", n)
	}

	// A runaway template stops with a message instead of holding the server.
	runaway := with(good, "text", strings.Repeat("{{#each @root.chat}}", 12)+strings.Repeat("{{/each}}", 12))
	rec := h.post("/templates/edit/preview", runaway, wantJSON)
	var answer map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil || !strings.Contains(answer["error"].(string), "too much work") {
		t.Errorf("runaway preview: %d %s", rec.Code, rec.Body.String())
	}

	// Script in the template and in its output is text on the page.
	script := with(good, "text", "<script>alert(1)</script>{{customer.name}}")
	rec = h.post("/templates/edit/preview", script)
	if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "<script>alert") || !strings.Contains(rec.Body.String(), "&lt;script&gt;alert(1)&lt;/script&gt;Dana") {
		t.Errorf("script preview: %d %s", rec.Code, rec.Body.String())
	}

	// The genuine save, through the same guards, is taken.
	if rec := h.post("/templates/edit/save", fresh()); rec.Code != http.StatusSeeOther || stamp() != 1 {
		t.Errorf("genuine save: %d, %d versions stored", rec.Code, stamp())
	}
}

func with(v url.Values, key, value string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	out.Set(key, value)
	return out
}
