package adminui

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"switchboard/engine/auth"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/service"
	"switchboard/engine/store"
	"switchboard/plugins/autotask"
	"switchboard/plugins/autotask/autotasktest"
)

// configure saves a working Autotask configuration for the simulators
// through the service (the form has its own tests) and returns its id.
func (b *browser) configure(name string, settings map[string]any) int64 {
	b.t.Helper()
	app, _ := json.Marshal(map[string]any{
		"name": name, "appliance_id": b.app.ApplianceID(), "host": b.app.Host(),
		"client_id": bttest.DefaultClientID, "client_secret": bttest.DefaultClientSecret,
		"allow_invalid_certificates": true, "outbound_events": autotask.Events,
		"retry_attempt_limit": 0,
	})
	set := map[string]any{
		"username": autotasktest.DefaultUsername, "password": autotasktest.DefaultSecret,
		"integration_code": autotasktest.DefaultIntegrationCode, "note_type": "1",
	}
	for k, v := range settings {
		set[k] = v
	}
	raw, _ := json.Marshal(set)
	cfg, err := b.srv.Service.CreateConfig(b.t.Context(), "admin", service.ConfigInput{Plugin: autotask.ID, Appliance: app, Settings: raw})
	if err != nil {
		b.t.Fatalf("create configuration %s: %v", name, err)
	}
	return cfg.ID
}

// waitDelivery waits until the session's delivery reaches state.
func (b *browser) waitDelivery(lsid, state string) store.Delivery {
	b.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for time.Now().Before(deadline) {
		ds, _ := b.srv.Store.ListDeliveries(b.ctx, store.DeliveryFilter{State: state})
		for _, d := range ds {
			if d.LSID == lsid {
				return d
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.t.Fatalf("the delivery of session %s did not reach %s", lsid, state)
	return store.Delivery{}
}

// attr reads an attribute of the first element sel matches.
func (b *browser) attr(sel, name string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](fmt.Sprintf("document.querySelector(%q)?.getAttribute(%q) ?? ''", sel, name)))
	if err != nil {
		b.t.Fatalf("attribute %s of %s: %v", name, sel, err)
	}
	return v
}

// TestBrowserWritten follows a session's report into Autotask from the
// events list: the list shows the delivery's state and what it wrote, and
// the event page lists the ticket (linked into Autotask's web UI), the
// note and the time entry.
//
// The browser runs in India's time zone: times show in it, UTC on hover.
// A failed delivery's Retry now updates its page by itself when it ends.
func TestBrowserWritten(t *testing.T) {
	t.Setenv("TZ", "Asia/Kolkata")
	b := newBrowser(t)
	b.signInThroughSetup()
	b.configure("Contoso", map[string]any{
		"update_time_entry":   true,
		"time_entry_defaults": `{"defaultDomain": "msp.example", "roleName": "Technician", "summaryNotes": "Remote support"}`,
	})
	lsid := b.endSession(autotasktest.TicketOpenNumber)
	d := b.waitDelivery(lsid, store.StateDone)

	b.open("/events?lsid="+lsid, `tr[data-event] [data-state="done"]`)
	row := b.text(fmt.Sprintf(`tr[data-event="%d"]`, d.EventID))
	if !strings.Contains(row, "Ticket "+autotasktest.TicketOpenNumber) || !strings.Contains(row, "Note ") || !strings.Contains(row, "Time entry ") {
		t.Errorf("events list row = %q, want the ticket, note and time entry", row)
	}
	b.do("open the event", chromedp.Click(chromedp.CSS(`tr[data-event] a`)), chromedp.WaitVisible(chromedp.CSS(".written")))
	href := b.attr(`.written li[data-kind="ticket"] a`, "href")
	want := b.sim.URL + "/Autotask/AutotaskExtend/ExecuteCommand.aspx?Code=OpenTicketDetail&TicketNumber=" + autotasktest.TicketOpenNumber
	if href != want {
		t.Errorf("ticket link = %q, want %q", href, want)
	}
	notes := b.sim.Notes(autotasktest.TicketOpen)
	if len(notes) != 1 {
		t.Fatalf("%d notes on the ticket", len(notes))
	}
	if got := b.text(`.written li[data-kind="note"]`); !strings.Contains(got, fmt.Sprint(notes[0].ID)) || !strings.Contains(got, "session report") {
		t.Errorf("note line = %q, want note %d and its title", got, notes[0].ID)
	}
	if got := b.text(`.written li[data-kind="time_entry"]`); !strings.Contains(got, " h") {
		t.Errorf("time entry line = %q, want its hours", got)
	}
	b.shot("event-written", ".written")

	finished := b.attr(".delivery time[data-local]", "datetime")
	at, err := time.Parse(time.RFC3339, finished)
	if err != nil {
		t.Fatalf("finished time %q: %v", finished, err)
	}
	local := at.In(time.FixedZone("IST", 5*3600+1800)).Format("2006-01-02 15:04:05") + " GMT+5:30"
	if got := b.text(".delivery time[data-local]"); got != local {
		t.Errorf("finished shows %q, want the browser's time zone: %q", got, local)
	}
	if got := b.attr(".delivery time[data-local]", "title"); got != at.UTC().Format("2006-01-02 15:04:05 UTC") {
		t.Errorf("finished time's title = %q, want UTC", got)
	}

	// Retry now on a failed delivery: the page shows its end by itself.
	b.sim.Inject(autotasktest.Fault{Method: "POST", Endpoint: "TicketNotes", WritesOnly: true, Status: 400, Body: `{"errors":["Simulated refusal of the note"]}`})
	failing := b.endSession(autotasktest.TicketOtherNumber)
	f := b.waitDelivery(failing, store.StateFailed)
	b.open(fmt.Sprintf("/events/%d", f.EventID), `[data-state="failed"]`)
	b.doFlash("retry now", "delivery will run again",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`form[action="/deliveries/%d/retry"] button`, f.ID))))
	b.do("wait without reloading", chromedp.WaitVisible(chromedp.CSS(`.delivery [data-state="done"]`)))

	// The API gives the same.
	resp, err := b.srv.Service.Deliveries(b.ctx, service.DeliveryFilter{EventID: d.EventID})
	if err != nil || len(resp) != 1 || len(resp[0].Written) != 3 || !resp[0].Reports {
		t.Errorf("service deliveries = %+v, %v", resp, err)
	}
}

// TestBrowserRetryAllFailed fails two deliveries, finds them in the failed
// view, and retries both with one confirmed action, which the audit log
// records. A page on another origin cannot trigger the same action.
func TestBrowserRetryAllFailed(t *testing.T) {
	b := newBrowser(t)
	b.signInThroughSetup()
	id := b.configure("Contoso", nil)
	fault := autotasktest.Fault{Method: "POST", Endpoint: "TicketNotes", WritesOnly: true, Status: 400, Body: `{"errors":["Simulated refusal of the note"]}`}
	b.sim.Inject(fault)
	first := b.endSession(autotasktest.TicketOpenNumber)
	b.waitDelivery(first, store.StateFailed)
	b.sim.Inject(fault)
	second := b.endSession(autotasktest.TicketOtherNumber)
	b.waitDelivery(second, store.StateFailed)

	// The failed view lists both and offers the bulk retry.
	b.open("/events", `a[data-view="failed"]`)
	if got := b.text(`a[data-view="failed"]`); !strings.Contains(got, "2") {
		t.Errorf("failed tab = %q, want the count 2", got)
	}
	b.do("open the failed view", chromedp.Click(chromedp.CSS(`a[data-view="failed"]`)), chromedp.WaitVisible(chromedp.CSS(".retry-failed")))
	if n := b.count(`tr[data-event] [data-state="failed"]`); n != 2 {
		t.Errorf("%d failed deliveries in the failed view, want 2", n)
	}
	if n := b.count(`tr[data-event]`); n != 2 {
		t.Errorf("%d events in the failed view, want only the 2 failed", n)
	}
	if got := b.text(`tr[data-event] .outcome-text`); !strings.Contains(got, "Simulated refusal") {
		t.Errorf("failed row says %q, want the error's gist", got)
	}
	b.shot("events-failed", "")

	// Another origin posting the action is refused.
	evil := newAttacker(t)
	planted := map[string]string{auth.CSRFField: "planted-by-the-attacker"}
	evil.page = attackPage(b.srv.AdminURL(), []attackPost{
		{Path: fmt.Sprintf("/configs/%d/retry-failed", id), Form: planted},
		{Path: fmt.Sprintf("/api/v1/configurations/%d/retry-failed", id), Form: planted},
	})
	b.do("visit the attacker's page", chromedp.Navigate(evil.srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#done")))
	if counts, _ := b.srv.Service.FailedCounts(b.ctx); counts[id] != 2 {
		t.Fatalf("after the cross-site posts %d deliveries are failed, want both still failed", counts[id])
	}

	// The admin retries both, after confirming the number.
	b.open("/events?state=failed", ".retry-failed a")
	b.do("ask to retry all", chromedp.Click(chromedp.CSS(".retry-failed a")), chromedp.WaitVisible(chromedp.CSS("h1")))
	if got := b.text("h1"); !strings.Contains(got, "Retry 2 failed deliveries of Contoso") {
		t.Errorf("confirmation = %q", got)
	}
	b.check("retry-failed confirmation")
	b.doFlash("confirm", "failed deliveries will run again", chromedp.Click(chromedp.CSS(`form[action$="/retry-failed"] button`)))
	b.waitDelivery(first, store.StateDone)
	b.waitDelivery(second, store.StateDone)
	if n := len(b.sim.Notes(autotasktest.TicketOpen)) + len(b.sim.Notes(autotasktest.TicketOther)); n != 2 {
		t.Errorf("%d notes after the retry, want 2", n)
	}
	b.open("/audit", "table.audit")
	if got := b.text("table.audit tbody tr"); !strings.Contains(got, "retried all 2 failed deliveries") {
		t.Errorf("newest audit entry = %q", got)
	}
}
