package adminui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/auth"
	"switchboard/engine/store"
	"switchboard/plugins/autotask"
	"switchboard/plugins/autotask/autotasktest"
)

// secretsOf are the secret values the harness's forms type; no page may
// ever contain them.
var secretsOf = []string{autotasktest.DefaultSecret, autotasktest.DefaultIntegrationCode, "s3cr3t-Very+Long/Secret=="}

func assertNoSecrets(t *testing.T, where, body string) {
	t.Helper()
	for _, s := range secretsOf {
		for _, form := range []string{s, url.QueryEscape(s), strings.ReplaceAll(s, "+", "&#43;")} {
			if strings.Contains(body, form) {
				t.Errorf("%s contains a secret value", where)
			}
		}
	}
}

func TestPages(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.createConfig("Contoso")
	eventID, deliveryID := h.addEvent(id, "lsid-pages")
	h.failDelivery(deliveryID)

	tests := []struct {
		target string
		want   []string
	}{
		{"/", []string{"Autotask PSA", "Contoso", "Add Autotask PSA configuration", "Enabled", "failed", `href="/configs/` + fmt.Sprint(id) + `/delete"`}},
		{"/plugins/autotask/new", []string{"BeyondTrust Appliance", `name="appliance.host"`, `autocomplete="new-password"`, "Support Session End", `data-json`, "Example"}},
		{fmt.Sprintf("/configs/%d", id), []string{"Edit Contoso", `value="Contoso"`, `<span class="badge ok">Set</span>`, `name="clear" value="password"`, "Replace"}},
		{fmt.Sprintf("/configs/%d/delete", id), []string{"Delete Contoso?", "cannot be undone"}},
		{"/events", []string{"Support Session End", "lsid-pages", "Outbound event"}},
		{"/events?state=failed&type=support_conference_end", []string{"lsid-pages"}},
		{fmt.Sprintf("/events/%d", eventID), []string{"Contoso", "failed", "simulated upstream failure", "Retry now", "Replay", "History (1 attempt)"}},
		{"/polling", []string{"Polling", "No configuration polls"}},
		{"/templates", []string{"session_report", "Engine default"}},
		{"/templates?name=session_report", []string{"Output for the sample session", "pre class=\"output\""}},
		{"/audit", []string{"admin", "create", "Contoso"}},
		{"/account", []string{"Change password", `autocomplete="current-password"`}},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			rec := h.get(tt.target)
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, body:\n%s", rec.Code, rec.Body)
			}
			body := rec.Body.String()
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page does not contain %q", w)
				}
			}
			assertNoSecrets(t, tt.target, body)
			for _, hdr := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"} {
				if rec.Header().Get(hdr) == "" {
					t.Errorf("no %s header", hdr)
				}
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, target := range []string{"/configs/999", "/configs/abc", "/events/999", "/plugins/nope/new", "/configs/999/delete"} {
		rec := h.get(target)
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", target, rec.Code)
		}
		if !strings.Contains(rec.Body.String(), "Back to configurations") {
			t.Errorf("GET %s: not the error page", target)
		}
	}
	rec := h.post("/plugins/autotask/test", url.Values{"config_id": {"999"}}, wantJSON)
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), `"error"`) {
		t.Errorf("test of a missing configuration: %d %s", rec.Code, rec.Body)
	}
}

func TestUnauthenticated(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.createConfig("Contoso")
	gets := []string{"/", "/plugins/autotask/new", fmt.Sprintf("/configs/%d", id), "/events", "/events/1", "/polling", "/templates", "/audit", "/account"}
	for _, target := range gets {
		rec := h.get(target, anonymous)
		loc := rec.Header().Get("Location")
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
			t.Errorf("GET %s: %d to %q, want a redirect to /login", target, rec.Code, loc)
		}
		if target != "/" && !strings.Contains(loc, "next="+url.QueryEscape(target)) {
			t.Errorf("GET %s: login redirect %q does not come back", target, loc)
		}
	}
	posts := []string{"/plugins/autotask/new", "/plugins/autotask/test", fmt.Sprintf("/configs/%d", id), fmt.Sprintf("/configs/%d/copy", id),
		fmt.Sprintf("/configs/%d/disable", id), fmt.Sprintf("/configs/%d/enable", id), fmt.Sprintf("/configs/%d/delete", id),
		"/events/1/replay", "/deliveries/1/retry", "/logout", "/account", fmt.Sprintf("/configs/%d/test", id)}
	for _, target := range posts {
		rec := h.post(target, h.validForm("Intruder"), anonymous)
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/login") {
			t.Errorf("POST %s: %d, want a redirect to /login", target, rec.Code)
		}
		rec = h.post(target, nil, anonymous, wantJSON)
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("POST %s from a script: %d, want 401", target, rec.Code)
		}
	}
	cfgs, _ := h.srv.Service.Configs(t.Context(), "")
	if len(cfgs) != 1 || cfgs[0].Disabled {
		t.Errorf("anonymous requests changed the configurations: %+v", cfgs)
	}
}

func TestCSRFRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.createConfig("Contoso")
	eventID, deliveryID := h.addEvent(id, "lsid-csrf")
	h.failDelivery(deliveryID)

	posts := []string{"/plugins/autotask/new", "/plugins/autotask/test", fmt.Sprintf("/configs/%d", id), fmt.Sprintf("/configs/%d/copy", id),
		fmt.Sprintf("/configs/%d/disable", id), fmt.Sprintf("/configs/%d/delete", id),
		fmt.Sprintf("/events/%d/replay", eventID), fmt.Sprintf("/deliveries/%d/retry", deliveryID), "/logout", "/account", "/login", "/setup"}
	cases := []struct {
		name string
		form url.Values
		opts []reqOpt
	}{
		{"no token", url.Values{auth.CSRFField: {""}}, []reqOpt{noCSRF}},
		{"forged token", url.Values{auth.CSRFField: {"forged"}}, nil},
		{"cross-site", nil, []reqOpt{func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") }}},
		{"same-site (another port)", nil, []reqOpt{func(r *http.Request) {
			r.Header.Set("Sec-Fetch-Site", "same-site")
			r.Header.Set("Origin", "http://example.com:8081")
		}}},
		{"planted cookie", url.Values{auth.CSRFField: {"planted"}}, []reqOpt{withoutCookie(auth.CSRFCookie), func(r *http.Request) {
			r.AddCookie(&http.Cookie{Name: auth.CSRFCookie, Value: "planted"})
		}}},
	}
	for _, target := range posts {
		for _, c := range cases {
			form := h.validForm("Forged")
			for k, v := range c.form {
				form[k] = v
			}
			rec := h.post(target, form, c.opts...)
			if rec.Code != http.StatusForbidden && rec.Code != http.StatusBadRequest {
				t.Errorf("POST %s with %s: status %d, want 403 or 400", target, c.name, rec.Code)
			}
		}
	}
	cfgs, _ := h.srv.Service.Configs(t.Context(), "")
	if len(cfgs) != 1 || cfgs[0].Disabled {
		t.Errorf("forged requests changed the configurations: %+v", cfgs)
	}
	d, _ := h.srv.Service.Delivery(t.Context(), deliveryID)
	if d.State != store.StateFailed {
		t.Errorf("a forged retry ran: delivery is %s", d.State)
	}
	if _, err := h.srv.Auth.Authenticate(t.Context(), h.session); err != nil {
		t.Errorf("a forged logout ended the session: %v", err)
	}
}

func TestCreateRefusedKeepsValues(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	form := h.validForm("Contoso")
	form.Set("appliance.host", "https://support.example.com/login")
	form.Set("settings.username", "")
	form.Set("settings.ticket_defaults", `{"title": `)
	form.Set("appliance.polling_interval", "often")

	rec := h.post("/plugins/autotask/new", form)
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("status = %d, want 422; body:\n%s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	for _, want := range []string{
		"The configuration was not saved",
		`value="https://support.example.com/login"`, // what was typed stays
		"enter the host name only",
		`id="f-username-error">is required`,
		"is not valid JSON",
		`{&#34;title&#34;: </textarea>`,
		`id="f-polling_interval-error">must be a number`,
		`value="often"`,
		"type them again",
		`<a href="#f-host">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("refused form does not contain %q", want)
		}
	}
	assertNoSecrets(t, "refused form", body)
	if cfgs, _ := h.srv.Service.Configs(t.Context(), ""); len(cfgs) != 0 {
		t.Errorf("a refused form was saved: %+v", cfgs)
	}

	// The script gets the same errors as JSON and keeps the page.
	rec = h.post("/plugins/autotask/new", form, wantJSON)
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("JSON status = %d", rec.Code)
	}
	var got struct{ Errors engine.FieldErrors }
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"host", "username", "ticket_defaults", "polling_interval"} {
		if got.Errors.For(field) == "" {
			t.Errorf("JSON errors %v have nothing for %s", got.Errors, field)
		}
	}
}

func TestCreateAndEdit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := t.Context()

	rec := h.post("/plugins/autotask/new", h.validForm("Contoso"), wantJSON)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"redirect":"/?done=created"`) {
		t.Fatalf("create from a script: %d %s", rec.Code, rec.Body)
	}
	cfgs, _ := h.srv.Service.Configs(ctx, "autotask")
	if len(cfgs) != 1 {
		t.Fatalf("configurations = %+v", cfgs)
	}
	cfg := cfgs[0]
	if !cfg.SecretsSet["password"] || !cfg.SecretsSet["integration_code"] || !cfg.SecretsSet["client_secret"] {
		t.Errorf("secrets not stored: %v", cfg.SecretsSet)
	}

	edit := h.get(fmt.Sprintf("/configs/%d", cfg.ID)).Body.String()
	assertNoSecrets(t, "edit form", edit)

	tests := []struct {
		name      string
		change    func(url.Values)
		wantSet   map[string]bool
		checkName string
	}{
		{
			name: "secrets left blank keep their values",
			change: func(f url.Values) {
				f.Set("appliance.name", "Contoso EU")
				f.Set("settings.password", "")
				f.Set("settings.integration_code", "")
				f.Set("appliance.client_secret", "")
			},
			wantSet:   map[string]bool{"password": true, "integration_code": true, "client_secret": true},
			checkName: "Contoso EU",
		},
		{
			name: "Clear empties a secret",
			change: func(f url.Values) {
				f.Set("settings.password", "")
				f.Set("settings.integration_code", "")
				f.Set("appliance.client_secret", "")
				f.Set("appliance.client_id", "")
				f["clear"] = []string{"client_secret"}
			},
			wantSet: map[string]bool{"password": true, "integration_code": true, "client_secret": false},
		},
	}
	for _, tt := range tests {
		form := h.validForm("Contoso")
		tt.change(form)
		rec := h.post(fmt.Sprintf("/configs/%d", cfg.ID), form)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/?done=saved" {
			t.Fatalf("%s: status %d, body:\n%s", tt.name, rec.Code, rec.Body)
		}
		got, err := h.srv.Service.Config(ctx, cfg.ID)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range tt.wantSet {
			if got.SecretsSet[k] != v {
				t.Errorf("%s: secret %s set = %v, want %v", tt.name, k, got.SecretsSet[k], v)
			}
		}
		if tt.checkName != "" && got.Name != tt.checkName {
			t.Errorf("%s: name = %q", tt.name, got.Name)
		}
	}

	// A stale version is refused rather than overwriting someone's change.
	form := h.validForm("Contoso")
	form.Set("version", "1")
	rec = h.post(fmt.Sprintf("/configs/%d", cfg.ID), form)
	if rec.Code != http.StatusConflict {
		t.Errorf("stale version: status %d, want 409", rec.Code)
	}

	rec = h.get("/?done=saved")
	if !strings.Contains(rec.Body.String(), "Your changes were saved.") {
		t.Error("the home page does not confirm the save")
	}
}

func TestConfigActions(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := t.Context()
	id := h.createConfig("Contoso")

	steps := []struct {
		target string
		done   string
		check  func() error
	}{
		{fmt.Sprintf("/configs/%d/disable", id), "disabled", func() error {
			if c, _ := h.srv.Service.Config(ctx, id); !c.Disabled {
				return fmt.Errorf("not disabled")
			}
			return nil
		}},
		{fmt.Sprintf("/configs/%d/enable", id), "enabled", func() error {
			if c, _ := h.srv.Service.Config(ctx, id); c.Disabled {
				return fmt.Errorf("still disabled")
			}
			return nil
		}},
		{fmt.Sprintf("/configs/%d/copy", id), "copied", func() error {
			cfgs, _ := h.srv.Service.Configs(ctx, "")
			if len(cfgs) != 2 {
				return fmt.Errorf("%d configurations after copy", len(cfgs))
			}
			for _, c := range cfgs {
				if c.Name == "Copy of Contoso" && c.Disabled && c.SecretsSet["password"] {
					return nil
				}
			}
			return fmt.Errorf("no disabled copy with secrets: %+v", cfgs)
		}},
		{fmt.Sprintf("/configs/%d/delete", id), "deleted", func() error {
			if _, err := h.srv.Service.Config(ctx, id); err == nil {
				return fmt.Errorf("still there")
			}
			return nil
		}},
	}
	for _, s := range steps {
		rec := h.post(s.target, nil)
		want := "/?done=" + s.done
		if s.done == "copied" {
			// Copy opens the copy's form: it needs pointing somewhere.
			cfgs, _ := h.srv.Service.Configs(ctx, "")
			want = fmt.Sprintf("/configs/%d?done=copied", cfgs[len(cfgs)-1].ID)
			if cfgs[len(cfgs)-1].ID == id {
				t.Fatalf("no copy after POST %s", s.target)
			}
		}
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != want {
			t.Fatalf("POST %s: %d to %q, want %q", s.target, rec.Code, rec.Header().Get("Location"), want)
		}
		if err := s.check(); err != nil {
			t.Errorf("POST %s: %v", s.target, err)
		}
	}
	entries, _ := h.srv.Service.Audit(ctx, 50)
	actions := map[string]bool{}
	for _, e := range entries {
		if e.Actor == "admin" {
			actions[e.Action] = true
		}
	}
	for _, a := range []string{"create", "disable", "enable", "copy", "delete"} {
		if !actions[a] {
			t.Errorf("audit log has no %q by admin: %v", a, actions)
		}
	}
}

func TestTestButton(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.createConfig("Contoso")

	tests := []struct {
		name     string
		target   string
		form     url.Values
		wantFail string // the id of a check that must fail, or ""
	}{
		{name: "unsaved values", target: "/plugins/autotask/test", form: h.validForm("New")},
		{name: "saved values with stored secrets", target: "/plugins/autotask/test", form: func() url.Values {
			f := h.validForm("Contoso")
			f.Set("config_id", fmt.Sprint(id))
			f.Set("settings.password", "")
			f.Set("settings.integration_code", "")
			f.Set("appliance.client_secret", "")
			return f
		}()},
		{name: "wrong password", target: "/plugins/autotask/test", form: func() url.Values {
			f := h.validForm("New")
			f.Set("settings.password", "not-the-password")
			return f
		}(), wantFail: "autotask_auth"},
		{name: "invalid settings contact nothing", target: "/plugins/autotask/test", form: func() url.Values {
			f := h.validForm("New")
			f.Set("appliance.use_non_tls", "on")
			return f
		}(), wantFail: "settings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := h.post(tt.target, tt.form, wantJSON)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			var got struct {
				Checks []engine.Check
				HTML   string
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if len(got.Checks) == 0 || !strings.Contains(got.HTML, `class="checks"`) {
				t.Fatalf("no checks: %s", rec.Body)
			}
			var failed []string
			for _, c := range got.Checks {
				if c.Status == engine.CheckFail {
					failed = append(failed, c.ID)
				}
			}
			if tt.wantFail == "" && len(failed) > 0 {
				t.Errorf("checks %v failed: %+v", failed, got.Checks)
			}
			if tt.wantFail != "" && !slices.Contains(failed, tt.wantFail) {
				t.Errorf("failed checks = %v, want %s among them: %+v", failed, tt.wantFail, got.Checks)
			}
			assertNoSecrets(t, "test result", rec.Body.String())
		})
	}

	// Without scripts the Test button posts the form and gets a page.
	rec := h.post("/plugins/autotask/test", h.validForm("New"))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Nothing was saved") {
		t.Errorf("test page: %d", rec.Code)
	}
	// The home page's Test runs on the saved settings, by POST: a GET
	// must not reach out with the stored secrets.
	if rec := h.get(fmt.Sprintf("/configs/%d/test", id)); rec.Code == http.StatusOK {
		t.Errorf("GET of the saved Test ran it: %d", rec.Code)
	}
	rec = h.post(fmt.Sprintf("/configs/%d/test", id), nil)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "saved settings") || strings.Contains(rec.Body.String(), "badge fail") {
		t.Errorf("saved test page: %d\n%s", rec.Code, rec.Body)
	}
	if cfgs, _ := h.srv.Service.Configs(t.Context(), ""); len(cfgs) != 1 {
		t.Errorf("Test saved something: %d configurations", len(cfgs))
	}
}

func TestRetryAndReplay(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := t.Context()
	id := h.createConfig("Contoso")
	eventID, deliveryID := h.addEvent(id, "lsid-retry")
	h.failDelivery(deliveryID)

	rec := h.post(fmt.Sprintf("/deliveries/%d/retry", deliveryID), nil)
	want := fmt.Sprintf("/events/%d?done=retried#delivery-%d", eventID, deliveryID)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != want {
		t.Fatalf("retry: %d to %q, want %q", rec.Code, rec.Header().Get("Location"), want)
	}
	d, _ := h.srv.Service.Delivery(ctx, deliveryID)
	if d.State != store.StatePending && d.State != store.StateRetrying {
		t.Errorf("after Retry now the delivery is %s", d.State)
	}
	rec = h.post(fmt.Sprintf("/events/%d/replay", eventID), nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != fmt.Sprintf("/events/%d?done=replayed", eventID) {
		t.Fatalf("replay: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	page := h.get(fmt.Sprintf("/events/%d?done=replayed", eventID)).Body.String()
	if !strings.Contains(page, "handed again") {
		t.Error("the event page does not confirm the replay")
	}

	// A delivery that is running cannot be retried: the admin is told why.
	_, running := h.addEvent(id, "lsid-running")
	if ds, err := h.srv.Store.Claim(ctx, autotask.ID, 10, "another-worker", time.Minute, time.Now()); err != nil || len(ds) == 0 {
		t.Fatalf("claim: %v %v", ds, err)
	}
	rec = h.post(fmt.Sprintf("/deliveries/%d/retry", running), nil)
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "is running now") {
		t.Fatalf("retry of a running delivery: %d %s", rec.Code, rec.Body.String())
	}
}

func TestEventFilters(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.createConfig("Alpha")
	b := h.createConfig("Beta")
	h.addEvent(a, "lsid-alpha")
	_, d := h.addEvent(b, "lsid-beta")
	h.failDelivery(d)

	tests := []struct {
		query   string
		want    []string
		notWant []string
	}{
		{"", []string{"lsid-alpha", "lsid-beta"}, nil},
		{fmt.Sprintf("config=%d", a), []string{"lsid-alpha"}, []string{"lsid-beta"}},
		{"state=failed", []string{"lsid-beta"}, []string{"lsid-alpha"}},
		{"type=support_conference_begin", nil, []string{"lsid-alpha", "lsid-beta"}},
		{"lsid=lsid-alpha", []string{"lsid-alpha"}, []string{"lsid-beta"}},
		{"since=2999-01-01T00:00", nil, []string{"lsid-alpha", "lsid-beta"}},
		{"until=2000-01-01T00:00", nil, []string{"lsid-alpha"}},
		{"since=yesterday", []string{"lsid-alpha", "Ignored what is not a date and time in: Received from"}, nil},
		{"routing=unrouted", []string{"No events match these filters"}, []string{"lsid-alpha"}},
	}
	for _, tt := range tests {
		rec := h.get("/events?" + tt.query)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d", tt.query, rec.Code)
		}
		body := rec.Body.String()
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("?%s: no %q", tt.query, w)
			}
		}
		for _, w := range tt.notWant {
			if strings.Contains(body, `<code>`+w+`</code>`) {
				t.Errorf("?%s: shows %q", tt.query, w)
			}
		}
	}
}

func TestStatic(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tests := []struct {
		path, ctype string
	}{
		{"/static/app.css", "text/css; charset=utf-8"},
		{"/static/app.js", "text/javascript; charset=utf-8"},
		{"/static/favicon.svg", "image/svg+xml"},
	}
	for _, tt := range tests {
		rec := h.get(tt.path, anonymous)
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != tt.ctype {
			t.Errorf("GET %s: %d %q", tt.path, rec.Code, rec.Header().Get("Content-Type"))
		}
	}
	if rec := h.get("/static/nope.js"); rec.Code != http.StatusNotFound {
		t.Errorf("missing asset: %d", rec.Code)
	}
}

// BenchmarkPages measures the server side of the busiest pages: the home
// page (every configuration with its status) and the generated form.
func BenchmarkPages(b *testing.B) {
	h := newHarness(b)
	id := h.createConfig("Contoso")
	for i := range 19 {
		h.createConfig(fmt.Sprintf("Customer %d", i))
	}
	pages := []struct{ name, target string }{
		{"home-20-configs", "/"},
		{"edit-form", fmt.Sprintf("/configs/%d", id)},
		{"new-form", "/plugins/autotask/new"},
		{"events", "/events"},
	}
	for _, p := range pages {
		target := p.target
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				if rec := h.get(target); rec.Code != http.StatusOK {
					b.Fatalf("GET %s: %d", target, rec.Code)
				}
			}
		})
	}
}
