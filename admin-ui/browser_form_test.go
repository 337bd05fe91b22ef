package adminui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"switchboard/plugins/autotask"
)

// TestBrowserJSONAsTyped: Ticket Default Data saved pretty, with a
// <<field|custom>> contact, comes back in the form exactly as typed, and a
// save from the browser keeps it so; the audit log shows it as typed too.
func TestBrowserJSONAsTyped(t *testing.T) {
	b := newBrowser(t)
	b.signInThroughSetup()
	id := b.configure("Contoso", map[string]any{"ticket_defaults": `{"title": "{{Issue}}"}`})

	b.open(fmt.Sprintf("/configs/%d", id), "#f-ticket_defaults")
	b.doFlash("type pretty JSON and save", "changes were saved",
		chromedp.SetValue(chromedp.CSS("#f-ticket_defaults"), typedDefaults),
		chromedp.Click(chromedp.CSS("form[data-config-form] button.primary")),
	)
	b.open(fmt.Sprintf("/configs/%d", id), "#f-ticket_defaults")
	got, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS("#f-ticket_defaults")))
	if err != nil {
		t.Fatal(err)
	}
	if got != typedDefaults {
		t.Errorf("the form shows\n%s\nwant as typed:\n%s", got, typedDefaults)
	}
	b.shot("config-json", "#f-ticket_defaults")
	cfg, err := b.srv.Service.Config(b.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(cfg.Settings.(*autotask.Settings).TicketDefaults); s != typedDefaults {
		t.Errorf("stored\n%s", s)
	}
	b.open("/audit", "table.audit")
	b.do("open the changes", chromedp.Click(chromedp.CSS("table.audit tbody tr details summary")))
	if got := b.text("table.audit tbody tr .changes"); !strings.Contains(got, "<<emailAddress|customer_email>>") || strings.Contains(got, `\u003c`) {
		t.Errorf("audit shows %q", got)
	}
}

// TestBrowserTestMarksFields: Test with a note type the tenant does not
// have and a wrong Autotask password marks those fields in the form, with
// links from the results; a later passing Test clears the marks.
func TestBrowserTestMarksFields(t *testing.T) {
	b := newBrowser(t)
	b.signInThroughSetup()
	id := b.configure("Contoso", nil)
	b.open(fmt.Sprintf("/configs/%d", id), "#f-note_type")
	b.do("test with a wrong note type",
		chromedp.SetValue(chromedp.CSS("#f-note_type"), "No Such Note Type"),
		chromedp.Click(chromedp.CSS("button[data-test]")),
		chromedp.WaitVisible(chromedp.CSS("#test-results .checks")),
		chromedp.WaitVisible(chromedp.CSS("#f-note_type-error")),
	)
	if msg := b.text("#f-note_type-error"); !strings.Contains(msg, "No Such Note Type") {
		t.Errorf("note type error = %q", msg)
	}
	if b.attr("#f-note_type", "aria-invalid") != "true" {
		t.Error("the note type input is not marked invalid")
	}
	if got := b.text("#test-results [data-blamed]"); !strings.Contains(got, "Note Type") {
		t.Errorf("results say %q, want a link to the note type", got)
	}
	if n := b.count(".field.invalid"); n != 1 {
		t.Errorf("%d fields marked, want only the note type", n)
	}
	b.shot("test-marks", "#f-note_type")

	b.do("fix it and test again",
		chromedp.SetValue(chromedp.CSS("#f-note_type"), "1"),
		chromedp.Click(chromedp.CSS("button[data-test]")),
		chromedp.WaitNotPresent(chromedp.CSS("#test-results [data-blamed]")),
		chromedp.WaitVisible(chromedp.CSS("#test-results .checks")),
	)
	if n := b.count(".field.invalid"); n != 0 {
		t.Errorf("%d fields still marked after a passing test", n)
	}
}
