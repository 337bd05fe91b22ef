package adminui

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"switchboard/engine/service"
	"switchboard/plugins/autotask"
	"switchboard/plugins/autotask/autotasktest"
)

// waitFor waits until the page's expression is true.
func (b *browser) waitFor(expr string) {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("waiting for %s: %v", expr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rebindDomain is the attacker's domain in the DNS-rebinding test; the
// browser resolves every name under it to 127.0.0.1.
const rebindDomain = "rebind.test"

// createAutotaskConfig stores a configuration straight through the service.
func (b *browser) createAutotaskConfig(name string) int64 {
	b.t.Helper()
	app := fmt.Sprintf(`{"name":%q,"appliance_id":"Default","host":%q,"outbound_events":["support_conference_end"]}`, name, b.app.Host())
	settings, err := json.Marshal(map[string]any{
		"username": autotasktest.DefaultUsername, "password": autotasktest.DefaultSecret,
		"integration_code": autotasktest.DefaultIntegrationCode, "auto_ticket_session_types": []string{"issue_submission"},
	})
	if err != nil {
		b.t.Fatal(err)
	}
	cfg, err := b.srv.Service.CreateConfig(b.t.Context(), "test", service.ConfigInput{Plugin: autotask.ID, Appliance: []byte(app), Settings: settings})
	if err != nil {
		b.t.Fatal(err)
	}
	return cfg.ID
}

// TestBrowserCrossPortFormPost is the classic CSRF: a page on another port
// of 127.0.0.1 auto-submits a plain HTML form (a top-level navigation, on
// which the browser sends the admin's SameSite=Strict cookie, since the
// page is the same site) to disable a configuration and to sign the admin
// out. Both are refused with 403 and change nothing (issue 11 finding 2).
func TestBrowserCrossPortFormPost(t *testing.T) {
	b := newBrowser(t)
	b.signInThroughSetup()
	id := b.createAutotaskConfig("Contoso")
	evil := newAttacker(t)
	for _, path := range []string{fmt.Sprintf("/configs/%d/disable", id), "/logout"} {
		evil.page = `<!doctype html><html><body><form id="f" method="post" action="` + b.srv.AdminURL() + path + `">` +
			`<input name="_csrf" value="planted-by-the-attacker"></form><script>document.getElementById("f").submit()</script></body></html>`
		b.do("visit the attacker's form page for "+path, chromedp.Navigate(evil.srv.URL+"/"))
		b.waitFor(`location.href.startsWith(` + fmt.Sprintf("%q", b.srv.AdminURL()) + `) && document.readyState === "complete"`)
		body := b.text("body")
		if !strings.Contains(body, "another site") {
			t.Errorf("%s: the admin listener's answer to the forged form: %q", path, body)
		}
	}
	got, err := b.srv.Service.Config(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Disabled {
		t.Error("a form on another port disabled the configuration")
	}
	// The forged logout did not end the session: the admin's pages open.
	b.open(fmt.Sprintf("/configs/%d", id), "form")
	if strings.Contains(b.text("body"), "Sign in") {
		t.Error("a form on another port signed the admin out")
	}
}

// TestBrowserDNSRebinding: a page under the attacker's name that resolves
// to this machine reaches the admin listener, with the browser treating it
// as the attacker's own origin. Under that name the listener answers 421
// and shows neither the login form nor /metrics, and the page's own script
// cannot read them (issue 11 finding 6).
func TestBrowserDNSRebinding(t *testing.T) {
	b := newBrowser(t)
	b.signInThroughSetup()
	port := b.srv.AdminURL()[strings.LastIndex(b.srv.AdminURL(), ":"):]
	evil := "http://attacker." + rebindDomain + port
	b.do("open the admin listener under the attacker's name", chromedp.Navigate(evil+"/login"))
	body := b.text("body")
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	scripted, err := chromedp.Run(ctx, chromedp.Evaluate[string](`Promise.all(["/metrics", "/api/v1/configurations", "/"].map(p =>
		fetch(p, {credentials: "include"}).then(r => r.status + " " + p).catch(e => "error " + p))).then(a => a.join("\n"))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "not one of Switchboard's admin names") {
		t.Errorf("the login page under a foreign name: %q", body)
	}
	for _, line := range strings.Split(scripted, "\n") {
		if !strings.HasPrefix(line, "421 ") {
			t.Errorf("the rebinding page's script read %q, want 421", line)
		}
	}
	if b.count("#password") != 0 {
		t.Error("the login form was served under a foreign name")
	}
}
