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
	b.do("type pretty JSON and save",
		chromedp.SetValue(chromedp.CSS("#f-ticket_defaults"), typedDefaults),
		chromedp.Click(chromedp.CSS("form[data-config-form] button.primary")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
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
