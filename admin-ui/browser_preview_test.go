package adminui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"switchboard/engine"
	"switchboard/plugins/autotask/autotasktest"
)

// TestBrowserPreviewDelivery: Preview delivery on a real ended session
// shows the note and time entry it would write, and on the sample with a
// custom field shows which contact the expression finds and why; Autotask
// and the appliance are left as they were.
func TestBrowserPreviewDelivery(t *testing.T) {
	b := newBrowser(t)
	b.signInThroughSetup()
	id := b.configure("Contoso", map[string]any{
		"update_time_entry":    true,
		"time_entry_defaults":  `{"defaultDomain": "msp.example", "roleName": "Technician", "summaryNotes": "Remote support"}`,
		"auto_ticket_on_start": true, "auto_ticket_without_external_key": true,
		"ticket_defaults": fmt.Sprintf(`{"companyID": %d, "status": 1, "priority": 2, "queueID": 29682969, "title": "Remote support: {{Issue}}", "contactID": "<<emailAddress|customer_email>>", "defaultContactID": %d}`,
			autotasktest.CompanyContoso, autotasktest.ContactDefault),
	})
	// Disabled, so the appliance's posts are not delivered: only the
	// preview runs.
	if err := b.srv.Service.SetDisabled(t.Context(), "admin", id, true); err != nil {
		t.Fatal(err)
	}
	lsid := b.endSession(autotasktest.TicketOpenNumber)
	tickets := len(b.sim.Tickets())
	page := fmt.Sprintf("/configs/%d/preview", id)

	b.open(fmt.Sprintf("/configs/%d", id), "form[data-config-form]")
	b.do("open Preview delivery from the form", chromedp.Click(chromedp.CSS(`a[href="`+page+`"]`)), chromedp.WaitVisible(chromedp.CSS("form.preview-form")))
	b.do("preview the real session", chromedp.SetValue(chromedp.CSS("#lsid"), lsid),
		chromedp.Click(chromedp.CSS("form.preview-form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(".preview-result")))
	b.check(page)
	if n := b.count(`[data-preview-outcome="writes"] .planned-write`); n != 2 {
		t.Fatalf("%d planned writes, want the note and the time entry; the page says %q", n, b.text("main"))
	}
	note := b.text(`[data-planned-write="note:report"]`)
	for _, want := range []string{"Autotask PSA", "POST /ATServicesRest/V1.0/Tickets/" + fmt.Sprint(autotasktest.TicketOpen) + "/Notes", "Restarting the spooler now.", "[bt:" + lsid + ":report]"} {
		if !strings.Contains(note, want) {
			t.Errorf("the planned note lacks %q: %q", want, note)
		}
	}
	if te := b.text(`[data-planned-write="time_entry"]`); !strings.Contains(te, "hoursWorked") || !strings.Contains(te, "[bt:"+lsid+":time]") {
		t.Errorf("planned time entry: %q", te)
	}
	if why := b.text(".preview-steps"); !strings.Contains(why, `external key "`+autotasktest.TicketOpenNumber+`" is a ticket number`) {
		t.Errorf("why: %q", why)
	}
	b.shot("preview-delivery", ".preview-result")

	b.open(page, "form.preview-form")
	b.do("choose the event", chromedp.SetValue(chromedp.CSS("#event"), engine.EventMemberAdded))
	b.do("clear the sample's external key", chromedp.Clear(chromedp.CSS("#external_key")))
	b.do("preview a ticket for the sample", chromedp.SendKeys(chromedp.CSS("#custom"), "customer_email=jane.doe@contoso.example"),
		chromedp.Click(chromedp.CSS("form.preview-form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(".preview-result")))
	b.check(page)
	why := b.text(".preview-steps")
	if !strings.Contains(why, `<<emailAddress|customer_email>>: the session's customer_email is "jane.doe@contoso.example"; Autotask contact `+fmt.Sprint(autotasktest.ContactJane)) {
		t.Errorf("why: %q", why)
	}
	if tk := b.text(`[data-planned-write="ticket"]`); !strings.Contains(tk, "contactID") || !strings.Contains(tk, fmt.Sprint(autotasktest.ContactJane)) {
		t.Errorf("planned ticket: %q", tk)
	}
	if n := b.count(`.planned-write`); n != 2 {
		t.Errorf("%d planned writes, want the ticket and the session's external key", n)
	}
	b.shot("preview-contact", ".preview-steps")

	// A refused request is shown on the form.
	b.open(page, "form.preview-form")
	b.do("preview a malformed session id", chromedp.SetValue(chromedp.CSS("#lsid"), "../etc"),
		chromedp.Click(chromedp.CSS("form.preview-form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("[data-preview-error]")))
	if msg := b.text("[data-preview-error]"); !strings.Contains(msg, "lsid") {
		t.Errorf("refusal: %q", msg)
	}

	if n := len(b.sim.Tickets()); n != tickets || len(b.sim.Notes(autotasktest.TicketOpen)) != 0 || len(b.sim.TimeEntries(autotasktest.TicketOpen)) != 0 {
		t.Errorf("the previews wrote to Autotask: %d tickets more, notes %+v", n-tickets, b.sim.Notes(autotasktest.TicketOpen))
	}
	if s, _ := b.app.Session(lsid); s.ExternalKey != autotasktest.TicketOpenNumber {
		t.Errorf("the session's external key changed to %q", s.ExternalKey)
	}
}
