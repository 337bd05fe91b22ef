package connectwise_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/server"
	"switchboard/engine/service"
	"switchboard/plugins/connectwise"
	"switchboard/plugins/connectwise/connectwisetest"
)

// stack is the whole engine between the two simulators: the appliance
// posts outbound events to the intake, the dispatcher hands them to the
// plugin, the plugin writes to the ConnectWise simulator.
type stack struct {
	app *bttest.Appliance
	cw  *connectwisetest.Server
	srv *server.Server
}

func newStack(t testing.TB, outbound bool, opts connectwisetest.Options) *stack {
	t.Helper()
	app := bttest.New(bttest.WithAccount(bttest.Account{ClientID: "e2e", ClientSecret: "e2e-client-secret", Reporting: true, Command: "full"}))
	t.Cleanup(app.Close)
	cw := connectwisetest.New(opts)
	t.Cleanup(cw.Close)
	ctx := context.Background()
	srv, err := server.New(ctx, server.Options{
		DataDir: t.TempDir(), IntakeAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		Plugins: []engine.Plugin{connectwise.New()}, ApplianceRootCAs: app.CertPool(), AdminPassword: "e2e-admin-password",
		Backoff: func(int) time.Duration { return 50 * time.Millisecond },
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	})
	events := []string{engine.EventMemberAdded, engine.EventSessionEnd, engine.EventCustomerSurveyDone, engine.EventRepSurveyDone}
	appliance, _ := json.Marshal(map[string]any{
		"name": "E2E", "appliance_id": engine.DefaultApplianceID, "host": app.Host(),
		"client_id": "e2e", "client_secret": "e2e-client-secret", "product": engine.ProductRemoteSupport,
		"outbound_events": events, "retry_outbound_events": events, "retry_attempt_limit": 5,
	})
	settings, _ := json.Marshal(map[string]any{
		"site": cw.URL, "company_id": connectwisetest.DefaultCompany, "public_key": connectwisetest.DefaultPublicKey,
		"private_key": connectwisetest.DefaultPrivateKey, "client_id": connectwisetest.DefaultClientID,
		"member_table": "bob = jdoe", "time_entry": true, "work_type": connectwisetest.WorkTypeName, "billable_option": "Billable",
		"auto_ticket_on_start": true, "auto_ticket_without_external_key": true,
		"ticket_board": connectwisetest.BoardName, "ticket_status": connectwisetest.StatusName, "ticket_priority": connectwisetest.PriorityName,
		"ticket_company": "FABRIKAM", "ticket_contact": "<<email|customer_email>>", "default_contact_id": connectwisetest.ContactDefault,
	})
	if _, err := srv.Service.CreateConfig(ctx, "e2e", service.ConfigInput{Plugin: connectwise.ID, Appliance: appliance, Settings: settings}); err != nil {
		t.Fatal(err)
	}
	if outbound {
		app.SendOutbound(srv.IntakeURL()+"/ERSPost?appliance="+engine.DefaultApplianceID, bttest.RetryInterval(100*time.Millisecond))
	}
	return &stack{app: app, cw: cw, srv: srv}
}

// eventually waits for cond, failing the test after a while.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestEndToEnd: outbound events of one session, through intake, store,
// dispatcher and plugin, give one ticket (contact found by e-mail), one
// report note, one survey note and one time entry, though ConnectWise
// loses the answer to the first note and throttles a time entry call.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	st := newStack(t, true, connectwisetest.Options{})
	st.cw.Inject(connectwisetest.Fault{Method: "POST", Path: "service/tickets/", Status: 500, AfterWrite: true})
	st.cw.Inject(connectwisetest.Fault{Method: "POST", Path: "time/entries", Status: 429, RetryAfter: "1"})
	before := len(st.cw.Tickets())
	live := st.app.Begin(bttest.SessionSpec{
		Customer: &bttest.Customer{Name: "Arnie Bellini", Issue: "Printer offline", Details: "Since this morning."},
		Rep:      bttest.Rep{Username: "bob", DisplayName: "Bob Senior"},
		Custom:   []bt.CustomAttribute{{CodeName: "customer_email", DisplayName: "Customer e-mail", Value: "arnie@acme.com"}},
	})
	var ticket connectwisetest.Ticket
	eventually(t, "the ticket", func() bool {
		ts := st.cw.Tickets()
		if len(ts) > before {
			ticket = ts[len(ts)-1]
			return true
		}
		return false
	})
	if ticket.Summary != "Printer offline" || ticket.Contact.ID != connectwisetest.ContactArnie || ticket.Company.ID != connectwisetest.CompanyACME {
		t.Errorf("ticket = %+v", ticket)
	}
	eventually(t, "the external key", func() bool {
		s, _ := st.app.Session(live.LSID())
		return s.ExternalKey == strconv.FormatInt(ticket.ID, 10)
	})
	live.Join(bttest.Rep{Username: "alice", DisplayName: "Alice Tech"}).
		After(time.Minute).Chat("Arnie Bellini", "It says offline.").
		After(9 * time.Minute).End().
		CustomerSurvey(bt.SurveyAnswer{Name: "rating", Label: "Rating", Value: "5"})
	eventually(t, "the report, the survey and the time entry", func() bool {
		return len(st.cw.Notes(ticket.ID)) >= 2 && len(st.cw.TimeEntries(ticket.ID)) >= 1
	})
	// Let any retry still in flight finish before counting.
	time.Sleep(500 * time.Millisecond)
	notes := st.cw.Notes(ticket.ID)
	if len(notes) != 2 || !strings.Contains(notes[0].Text, ":report]") || !strings.Contains(notes[1].Text, ":customer-survey-") {
		t.Errorf("notes = %+v", notes)
	}
	if n := len(st.cw.Tickets()) - before; n != 1 {
		t.Errorf("%d tickets created, want 1 (two representatives joined)", n)
	}
	if te := st.cw.TimeEntries(ticket.ID); len(te) != 1 || te[0].Member.Identifier != "jdoe" || te[0].BillableOption != "Billable" {
		t.Errorf("time entries = %+v", te)
	}
}
