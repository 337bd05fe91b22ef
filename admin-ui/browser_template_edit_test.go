package adminui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"switchboard/engine"
	"switchboard/engine/render"
	"switchboard/engine/store"
	"switchboard/plugins/autotask/autotasktest"
)

// typeTemplate puts text into the editor as typing would: the input event
// is what starts the live preview.
func (b *browser) typeTemplate(text string) {
	b.t.Helper()
	b.do("type the template",
		chromedp.SetValue(chromedp.CSS("#text"), text),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("text").dispatchEvent(new Event("input"))`),
	)
}

// TestBrowserTemplateEditor edits a template set's session report in the
// browser: the live preview follows the typing (with its lint, and script
// in the template shown as text, never run), a save with an error is
// refused with its line and column while the old version keeps serving, a
// good save serves the next delivery, revert brings the default back, and
// the audit log has both. A saved version that no longer parses is shown
// as refused by the preview, and Test fails on it.
func TestBrowserTemplateEditor(t *testing.T) {
	b := newBrowser(t)
	b.signInThroughSetup()
	id := b.configure("Contoso", map[string]any{"template_set": "acme"})
	ctx := t.Context()
	data := render.NewData(render.SampleSession(), nil)
	serving := func() string {
		t.Helper()
		out, err := b.srv.Renderer.Set("acme").Render(render.SessionReport, data)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	b.open(fmt.Sprintf("/templates?config=%d", id), "table")
	b.do("open the editor",
		chromedp.Click(chromedp.CSS(`a[href*="name=session_report"][href*="set=acme"]`)),
		chromedp.WaitVisible(chromedp.CSS("#text")),
	)
	b.check("editor")
	if got := b.text("#serving"); !strings.Contains(got, "the built-in default") {
		t.Errorf("serving = %q", got)
	}

	// Live preview, with lint, and script as text.
	b.typeTemplate("Note for {{customer.name}}\n<script>window.pwned = 1</script><img src=x onerror=\"window.pwned = 2\">\n{{customer.nmae}}")
	b.waitFor(`document.getElementById("preview-output").textContent.startsWith("Note for Dana Whitfield")`)
	if got := b.text("#preview-missing"); !strings.Contains(got, "line 3, column 3: {{customer.nmae}} printed nothing") {
		t.Errorf("lint = %q", got)
	}
	if got := b.text("#preview-output"); !strings.Contains(got, `<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">`) {
		t.Errorf("preview output = %q, want the markup as text", got)
	}
	if n := b.count("#preview-output *"); n != 0 {
		t.Errorf("the preview holds %d elements: the output became markup", n)
	}
	if pwned, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`window.pwned !== undefined`)); err != nil || pwned {
		t.Errorf("script in the preview ran (%v)", err)
	}

	// A save with an error: refused with line and column, old version serves.
	b.typeTemplate("Report {{lsid}}\n{{#if customer}}\n  {{customer.name}}\n{{/each}}")
	b.waitFor(`!document.getElementById("text-error").hidden`)
	// The live lint has already marked the field on this page, so the
	// wait is for the page the refused save answers with: a new page has no
	// beforeSave mark.
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`window.beforeSave = true`)); err != nil {
		t.Fatal(err)
	}
	b.do("save with an error", chromedp.Click(chromedp.CSS("#save")))
	b.waitFor(`window.beforeSave === undefined && document.querySelector('#text[aria-invalid="true"]') !== null`)
	if got := b.text("#text-error"); !strings.Contains(got, "line 4, column 1") || !strings.Contains(got, "{{#if}}") {
		t.Errorf("refused save says %q, want line 4, column 1 and the block it closes", got)
	}
	if got := b.text("#text-pos"); got != "Line 4, column 1" {
		t.Errorf("caret at %q, want on the refused line", got)
	}
	if !strings.HasPrefix(serving(), "Remote Support session") {
		t.Error("a refused save changed what serves")
	}
	b.shot("template-editor-refused", "")

	// A good save serves the next delivery.
	b.typeTemplate("Session {{lsid}}\nCustomer: {{customer.name}} ({{customer.company}})\n{{#each chat}}\n[{{formatTime time \"time\"}}] {{speaker}}: {{text}}\n{{/each}}")
	b.waitFor(`document.getElementById("preview-output").textContent.startsWith("Session c3c8")`)
	b.doFlash("save", "template was saved", chromedp.Click(chromedp.CSS("#save")))
	if got := b.text("#serving"); !strings.Contains(got, "version ") {
		t.Errorf("after save, serving = %q", got)
	}
	if n := b.count("#history ~ .table-wrap tbody tr"); n != 1 {
		t.Errorf("history has %d rows", n)
	}
	b.do("preview the saved version", chromedp.Evaluate[chromedp.Void](`document.getElementById("text").dispatchEvent(new Event("input"))`))
	b.waitFor(`document.getElementById("preview-output").textContent.startsWith("Session c3c8")`)
	b.shot("template-editor", "")
	lsid := b.endSession(autotasktest.TicketOpenNumber)
	b.waitDelivery(lsid, store.StateDone)
	notes := b.sim.Notes(autotasktest.TicketOpen)
	if len(notes) != 1 || !strings.HasPrefix(notes[0].Description, "Session "+lsid+"\nCustomer: Jane Doe (Contoso)") {
		t.Fatalf("the delivery wrote %+v, want the saved template", notes)
	}

	// Revert: the default serves again; both changes are audited.
	// The save's notice is still on the page when the click lands:
	// doFlash waits for the revert's own.
	b.doFlash("revert", "template was reverted", chromedp.Click(chromedp.CSS("#revert")))
	if got := b.text("#serving"); !strings.Contains(got, "the built-in default") {
		t.Errorf("after revert, serving = %q", got)
	}
	if !strings.HasPrefix(serving(), "Remote Support session") {
		t.Error("revert did not bring the default back")
	}
	b.open("/audit", "table.audit")
	if got := b.text("table.audit"); !strings.Contains(got, "reverted template session_report of set acme") || !strings.Contains(got, "saved template session_report of set acme") {
		t.Errorf("audit log = %q", got)
	}

	// A saved version that no longer parses (as after an upgrade whose
	// checks are stricter): Preview says it is refused and what serves,
	// and Test fails.
	bad := &store.TemplateVersion{SetName: "acme", Name: render.CustomerSurvey, Body: "{{#each customerSurveys}}", Actor: "admin"}
	if err := b.srv.Store.SaveTemplateVersion(ctx, bad, store.AuditEntry{Actor: "admin", Action: "template save", Summary: "test"}); err != nil {
		t.Fatal(err)
	}
	b.open(fmt.Sprintf("/templates?config=%d&name=%s", id, render.CustomerSurvey), "#preview-refused")
	if got := b.text("#preview-refused"); !strings.Contains(got, "line 1, column 1") {
		t.Errorf("refused notice = %q", got)
	}
	if got := b.text("#preview-serving"); !strings.Contains(got, "the built-in default") {
		t.Errorf("preview serving = %q", got)
	}
	cfg, err := b.srv.Service.Config(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	in, err := savedInput(cfg)
	if err != nil {
		t.Fatal(err)
	}
	checks, err := b.srv.Service.TestConfig(ctx, "admin", id, in)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range checks {
		if c.ID == "templates" {
			found = true
			if c.Status != engine.CheckFail || !strings.Contains(c.Detail, render.CustomerSurvey) {
				t.Errorf("Test's templates check: %+v", c)
			}
		}
	}
	if !found {
		t.Errorf("Test ran no templates check: %+v", checks)
	}
}
