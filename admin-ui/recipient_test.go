package adminui

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"switchboard/engine"
	"switchboard/engine/server"
)

// The configuration page shows the signed-in admin the exact URL to paste
// into the appliance's HTTP recipient, token included, on a page no cache
// keeps; the token's form field still only says that it is set.
func TestConfigPageShowsRecipientURL(t *testing.T) {
	t.Parallel()
	app, sim, p := simulators(t)
	h := newBareHarness(t, server.Options{Plugins: []engine.Plugin{p}, AdminPassword: adminPassword, IntakePublicURL: "https://switchboard.example.com:8180/"})
	sess, err := h.srv.Auth.Login(t.Context(), "admin", adminPassword, "127.0.0.1", "harness")
	if err != nil {
		t.Fatal(err)
	}
	h.session, h.app, h.sim = sess.Token, app, sim
	ui, err := New(Options{Service: h.srv.Service, Auth: h.srv.Auth, RecipientURL: h.srv.IntakeRecipientURL})
	if err != nil {
		t.Fatal(err)
	}
	h.e = echo.New()
	ui.Register(h.e)

	const token = "ui-token-0123456789abcdef"
	form := h.validForm("Acme")
	form.Set("appliance.appliance_id", "Acme EU")
	form.Set("appliance.intake_token", token)
	if rec := h.post("/plugins/autotask/new", form); rec.Code != http.StatusSeeOther {
		t.Fatalf("create: status %d, body:\n%s", rec.Code, rec.Body)
	}
	plain := h.validForm("Plain")
	if rec := h.post("/plugins/autotask/new", plain); rec.Code != http.StatusSeeOther {
		t.Fatalf("create: status %d, body:\n%s", rec.Code, rec.Body)
	}
	cfgs, err := h.srv.Service.Configs(t.Context(), "autotask")
	if err != nil || len(cfgs) != 2 {
		t.Fatalf("configurations %v, %v", cfgs, err)
	}
	for _, cfg := range cfgs {
		rec := h.get(fmt.Sprintf("/configs/%d", cfg.ID))
		body := rec.Body.String()
		if rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("%s: status %d, Cache-Control %q", cfg.Name, rec.Code, rec.Header().Get("Cache-Control"))
		}
		want := "https://switchboard.example.com:8180/ERSPost?appliance=Default"
		if cfg.Name == "Acme" {
			want = "https://switchboard.example.com:8180/ERSPost?appliance=Acme&#43;EU&amp;token=" + token
			if strings.Count(body, token) != 1 {
				t.Errorf("%s: the token appears %d times on the page, want once (in the URL only)", cfg.Name, strings.Count(body, token))
			}
		}
		if !strings.Contains(body, want) {
			t.Errorf("%s: the page does not show the recipient URL %s:\n%s", cfg.Name, want, body)
		}
		assertNoSecrets(t, cfg.Name, body)
	}
	if rec := h.get("/plugins/autotask/new"); strings.Contains(rec.Body.String(), "/ERSPost?") {
		t.Error("a new configuration's page shows a recipient URL before anything is saved")
	}
}
