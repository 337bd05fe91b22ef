package adminui

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/chromedp/chromedp"

	"switchboard/engine"
	"switchboard/engine/render"
	"switchboard/engine/server"
)

// ownTemplates is a plugin that ships its own default templates and a
// helper: the Autotask plugin of the harness with Info.Templates and
// Info.Helpers added.
type ownTemplates struct{ engine.Plugin }

func (p ownTemplates) Info() engine.Info {
	info := p.Plugin.Info()
	info.Templates = fstest.MapFS{
		"session_report.hbs":     {Data: []byte("Plugin report {{lsid}} for {{autotask_shout customer.name}}\n{{> signature}}")},
		"ticket_note.hbs":        {Data: []byte("Ticket note {{lsid}}")},
		"partials/signature.hbs": {Data: []byte("-- sent by the plugin")},
	}
	info.Helpers = map[string]engine.Helper{
		"autotask_shout": {Args: 1, Text: func(args ...any) string { return strings.ToUpper(fmt.Sprint(args[0])) + "!" }},
	}
	return info
}

// TestBrowserPluginTemplates: a configuration whose plugin ships its own
// templates lists them with the layer serving each (plugin default, engine
// default, admin override); the editor shows the plugin's text, previews
// it with the plugin's partial and helper, saves an override and reverts
// to the plugin's default.
func TestBrowserPluginTemplates(t *testing.T) {
	b := newBrowserWith(t, slog.New(slog.DiscardHandler), func(o *server.Options) {
		o.Plugins = []engine.Plugin{ownTemplates{o.Plugins[0]}}
	})
	b.signInThroughSetup()
	id := b.configure("Contoso", nil)
	lsid := render.SampleSession().LSID
	layer := func(name string) string {
		t.Helper()
		return b.text(fmt.Sprintf(`tr[data-template=%q] td.layer`, name))
	}

	b.open(fmt.Sprintf("/templates?config=%d", id), "table")
	for name, want := range map[string]string{
		render.SessionReport: "Plugin default", "ticket_note": "Plugin default", "partials/signature": "Plugin default",
		render.CustomerSurvey: "Engine default",
	} {
		if got := layer(name); got != want {
			t.Errorf("%s served from %q, want %q", name, got, want)
		}
	}
	if got := b.text(`tr[data-template="session_report"]`); !strings.Contains(got, "plugins/autotask/session_report.hbs") {
		t.Errorf("session_report row: %q", got)
	}
	b.shot("templates", "")
	// Without a configuration, the engine's defaults and no plugin's names.
	b.open("/templates", "table")
	if got := layer(render.SessionReport); got != "Engine default" {
		t.Errorf("without a configuration: %q", got)
	}
	if n := b.count(`tr[data-template="ticket_note"]`); n != 0 {
		t.Error("the plugin's own name is listed without its configuration")
	}

	b.open(fmt.Sprintf("/templates?config=%d", id), "table")
	b.do("open the plugin's template",
		chromedp.Click(chromedp.CSS(`tr[data-template="session_report"] a`)),
		chromedp.WaitVisible(chromedp.CSS("#text")),
	)
	b.check("editor")
	if got := b.text("#serving"); !strings.Contains(got, "plugins/autotask/session_report.hbs") || !strings.Contains(got, "plugin autotask") {
		t.Errorf("serving = %q", got)
	}
	if n := b.count("#revert"); n != 0 {
		t.Error("a revert is offered while the plugin's default serves: there is nothing to revert")
	}
	b.waitFor(fmt.Sprintf(`document.getElementById("preview-output").textContent === %q`, "Plugin report "+lsid+" for DANA WHITFIELD!\n-- sent by the plugin"))

	// An override keeps the plugin's partial and helper; revert brings the
	// plugin's default back.
	b.typeTemplate("Mine {{autotask_shout lsid}} {{> signature}}")
	b.waitFor(`document.getElementById("preview-output").textContent.startsWith("Mine ")`)
	b.doFlash("save", "template was saved", chromedp.Click(chromedp.CSS("#save")))
	if got := b.text("#serving"); !strings.Contains(got, "(the override)") {
		t.Errorf("after save, serving = %q", got)
	}
	out, err := b.srv.Renderer.PluginSet("autotask", "").Render(render.SessionReport, render.NewData(render.SampleSession(), nil))
	if err != nil || out != "Mine "+strings.ToUpper(lsid)+"! -- sent by the plugin" {
		t.Errorf("the override serves %q %v", out, err)
	}
	b.open(fmt.Sprintf("/templates?config=%d", id), "table")
	if got := layer(render.SessionReport); got != "Admin override" {
		t.Errorf("after save: %q", got)
	}
	b.do("back to the editor",
		chromedp.Click(chromedp.CSS(`tr[data-template="session_report"] a`)),
		chromedp.WaitVisible(chromedp.CSS("#revert")),
	)
	b.doFlash("revert", "template was reverted", chromedp.Click(chromedp.CSS("#revert")))
	if got := b.text("#serving"); !strings.Contains(got, "plugins/autotask/session_report.hbs") {
		t.Errorf("after revert, serving = %q", got)
	}
	b.open(fmt.Sprintf("/templates?config=%d", id), "table")
	if got := layer(render.SessionReport); got != "Plugin default" {
		t.Errorf("after revert: %q", got)
	}
}
