package autotask_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/server"
	"switchboard/engine/service"
	"switchboard/plugins/autotask"
	"switchboard/plugins/autotask/autotasktest"
)

// stacks numbers the stacks of this process, each its own Autotask user.
var stacks atomic.Int64

// stack is the whole engine between the two simulators: the appliance
// posts outbound events to the intake, the dispatcher hands them to the
// plugin, the plugin writes to the Autotask simulator.
type stack struct {
	app *bttest.Appliance
	sim *autotasktest.Server
	srv *server.Server
}

// newStack starts the stack; with outbound, the simulated appliance posts
// each scripted session step to the intake as the real one would.
func newStack(t testing.TB, outbound bool) *stack {
	t.Helper()
	// Each part's goroutines carry a profiler label (part=…), inherited by
	// the servers' connection goroutines, so a CPU profile of the
	// benchmark splits between the engine and what only measures it:
	// go tool pprof -tags.
	defer pprof.SetGoroutineLabels(context.Background())
	label(partAppliance)
	app := newApplianceSim()
	t.Cleanup(app.Close)
	label(partAutotask)
	// Each stack is its own Autotask tenant: the hourly budget of 10,000
	// requests is kept per API user for the whole process, and a benchmark
	// of a thousand sessions after another would spend it and wait for
	// the hour to end.
	user := fmt.Sprintf("api-user-%d@example.com", stacks.Add(1))
	sim := autotasktest.New(autotasktest.Options{Username: user})
	t.Cleanup(sim.Close)
	label(partEngine)
	srv := newEngine(t, app.Host(), app.CertPool(), sim.RESTRoot(), user)
	if outbound {
		label(partAppliance)
		app.SendOutbound(srv.IntakeURL()+"/ERSPost?appliance="+engine.DefaultApplianceID, bttest.RetryInterval(100*time.Millisecond))
	}
	return &stack{app: app, sim: sim, srv: srv}
}

// newApplianceSim is the stack's appliance, with the API account the
// engine's configuration uses.
func newApplianceSim() *bttest.Appliance {
	return bttest.New(bttest.WithAccount(bttest.Account{ClientID: "e2e", ClientSecret: "e2e-client-secret", Reporting: true, Command: "full"}))
}

// newEngine starts an engine with one Autotask configuration for the
// appliance at host (trusted through roots) and the Autotask simulator at
// restRoot, whose API user is user.
func newEngine(t testing.TB, host string, roots *x509.CertPool, restRoot, user string) *server.Server {
	t.Helper()
	ctx := context.Background()
	srv, err := server.New(ctx, server.Options{
		DataDir: t.TempDir(), IntakeAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		Plugins: []engine.Plugin{autotask.New()}, ApplianceRootCAs: roots, AdminPassword: "e2e-admin-password",
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
		"name": "E2E", "appliance_id": engine.DefaultApplianceID, "host": host,
		"client_id": "e2e", "client_secret": "e2e-client-secret", "product": engine.ProductRemoteSupport,
		"outbound_events": events, "retry_outbound_events": events, "retry_attempt_limit": 5,
	})
	settings, _ := json.Marshal(map[string]any{
		"services_url": restRoot, "username": user,
		"password": autotasktest.DefaultSecret, "integration_code": autotasktest.DefaultIntegrationCode,
		"update_time_entry":    true,
		"time_entry_defaults":  `{"defaultDomain": "msp.example", "roleName": "Technician", "summaryNotes": "Remote support session"}`,
		"auto_ticket_on_start": true, "auto_ticket_without_external_key": true,
		"ticket_defaults": fmt.Sprintf(`{"companyID": %d, "status": 1, "priority": 2, "title": "{{Issue}}", "description": "{{Details}}", "contactID": "<<emailAddress|customer_email>>", "defaultContactID": %d}`,
			autotasktest.CompanyContoso, autotasktest.ContactDefault),
	})
	if _, err := srv.Service.CreateConfig(ctx, "e2e", service.ConfigInput{Plugin: autotask.ID, Appliance: appliance, Settings: settings}); err != nil {
		t.Fatal(err)
	}
	return srv
}

// Profiler labels of the stack's parts.
const (
	partAppliance = "appliance simulator"
	partAutotask  = "Autotask simulator"
	partEngine    = "engine"
	partLoad      = "load generator"
)

// label marks the calling goroutine, and those it starts, as part.
func label(part string) {
	pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels("part", part)))
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

func TestEndToEnd(t *testing.T) {
	t.Parallel()
	st := newStack(t, true)
	// Autotask stores the first note, then answers 500: the dispatcher
	// retries and the plugin must find the note instead of adding another.
	st.sim.Inject(autotasktest.Fault{Method: "POST", Endpoint: "TicketNotes", Status: 500, AfterWrite: true})
	before := len(st.sim.Tickets())
	live := st.app.Begin(bttest.SessionSpec{
		Customer: &bttest.Customer{Name: "Jane Doe", Issue: "Printer offline", Details: "Since this morning."},
		Rep:      bttest.Rep{Username: "alice", DisplayName: "Alice Tech"},
		Custom:   []bt.CustomAttribute{{CodeName: "customer_email", DisplayName: "Customer e-mail", Value: "jane.doe@contoso.example"}},
	})
	var ticket autotasktest.Ticket
	eventually(t, "the ticket", func() bool {
		ts := st.sim.Tickets()
		if len(ts) > before {
			ticket = ts[len(ts)-1]
			return true
		}
		return false
	})
	if ticket.Title != "Printer offline" || ticket.ContactID != autotasktest.ContactJane {
		t.Errorf("ticket = %+v", ticket)
	}
	eventually(t, "the external key", func() bool {
		s, _ := st.app.Session(live.LSID())
		return s.ExternalKey == ticket.TicketNumber
	})
	live.Join(bttest.Rep{Username: "bob", DisplayName: "Bob Senior"}).
		After(time.Minute).Chat("Jane Doe", "It says offline.").
		After(9 * time.Minute).End().
		CustomerSurvey(bt.SurveyAnswer{Name: "rating", Label: "Rating", Value: "5"})
	eventually(t, "the report, the survey and the time entry", func() bool {
		return len(st.sim.Notes(ticket.ID)) >= 2 && len(st.sim.TimeEntries(ticket.ID)) >= 1
	})
	// Let any retry still in flight finish before counting.
	time.Sleep(500 * time.Millisecond)
	notes := st.sim.Notes(ticket.ID)
	if len(notes) != 2 || !strings.Contains(notes[0].Title, ":report]") || !strings.Contains(notes[1].Title, ":customer-survey-") {
		t.Errorf("notes = %+v", notes)
	}
	if n := len(st.sim.Tickets()) - before; n != 1 {
		t.Errorf("%d tickets created, want 1 (two representatives joined)", n)
	}
	if te := st.sim.TimeEntries(ticket.ID); len(te) != 1 || te[0].ResourceID != autotasktest.ResourceAlice {
		t.Errorf("time entries = %+v", te)
	}
}
