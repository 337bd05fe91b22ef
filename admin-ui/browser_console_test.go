package adminui

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

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
func TestBrowserWritten(t *testing.T) {
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

	// The API gives the same.
	resp, err := b.srv.Service.Deliveries(b.ctx, service.DeliveryFilter{EventID: d.EventID})
	if err != nil || len(resp) != 1 || len(resp[0].Written) != 3 || !resp[0].Reports {
		t.Errorf("service deliveries = %+v, %v", resp, err)
	}
}
