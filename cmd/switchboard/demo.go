package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"switchboard/engine"
	"switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/server"
	"switchboard/engine/service"
	"switchboard/plugins"
	"switchboard/plugins/autotask/autotasktest"
)

// demo runs the engine against a simulated appliance and a simulated
// ticketing system (Autotask, or ConnectWise PSA with --plugin
// connectwise), plays one support session through its whole life, and
// shows what reached the ticket.
func demo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	once := fs.Bool("once", false, "play the session, print the outcome and exit: 0 only if every step succeeded")
	adminAddr := fs.String("admin-addr", "127.0.0.1:53231", "listen address of the admin UI (with --once: a free port)")
	dataDir := fs.String("data-dir", "", "data directory (default: a temporary one, removed at exit)")
	logLevel := fs.String("log-level", "warn", "engine log level: debug, info, warn or error")
	timeout := fs.Duration("step-timeout", 20*time.Second, "how long each step may take")
	connector := fs.String("plugin", "autotask", "the plugin to play the session against: autotask, connectwise or siem (a local Splunk HEC)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *connector != "autotask" && *connector != "connectwise" && *connector != "siem" {
		return fmt.Errorf("--plugin %q: use autotask, connectwise or siem", *connector)
	}
	log, err := newLogger(stderr, *logLevel, "text")
	if err != nil {
		return err
	}
	if *dataDir == "" {
		dir, err := os.MkdirTemp("", "switchboard-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*dataDir = dir
	}
	if *once {
		*adminAddr = "127.0.0.1:0"
	}

	secret := randomHex(16)
	appliance, err := bttest.Serve("127.0.0.1:0", bttest.WithAccount(bttest.Account{
		ClientID: "switchboard-demo", ClientSecret: secret, Reporting: true, Command: "full",
	}))
	if err != nil {
		return fmt.Errorf("start the simulated appliance: %w", err)
	}
	defer appliance.Close()
	target, err := startDemoTarget(*connector, appliance, secret, stdout, *timeout)
	if err != nil {
		return err
	}
	defer target.close()

	password := randomHex(8)
	srv, err := server.New(ctx, server.Options{
		DataDir: *dataDir, IntakeAddr: "127.0.0.1:0", AdminAddr: *adminAddr, Logger: log,
		Plugins: plugins.All(), AdminPassword: password, ApplianceRootCAs: appliance.CertPool(),
		Register: adminRoutes, SourcesHTTP: target.sourcesHTTP,
	})
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		_ = srv.Store.Close()
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			fmt.Fprintln(stderr, "shutdown:", err)
		}
	}()

	cfg, err := srv.Service.CreateConfig(ctx, "demo", target.config)
	if err != nil {
		return fmt.Errorf("create the demo configuration: %w", err)
	}
	var sources string
	if target.started != nil {
		if sources, err = target.started(ctx, srv, cfg); err != nil {
			return err
		}
	}
	appliance.SendOutbound(srv.IntakeURL()+"/ERSPost?appliance="+engine.DefaultApplianceID, bttest.RetryInterval(500*time.Millisecond))

	fmt.Fprintf(stdout, "Switchboard demo\n")
	fmt.Fprintf(stdout, "  simulated appliance  https://%s  (Remote Support, API account switchboard-demo)\n", appliance.Host())
	fmt.Fprintf(stdout, "  simulated %-10s %s\n", target.name, target.url)
	fmt.Fprintf(stdout, "  outbound events      %s/ERSPost?appliance=Default\n", srv.IntakeURL())
	fmt.Fprintf(stdout, "  configuration        %q (id %d)\n", cfg.Name, cfg.ID)
	fmt.Fprintf(stdout, "%s\n", sources)

	ok := target.play(ctx)

	fmt.Fprintf(stdout, "\nAdmin UI: %s/  (user admin, password %s)\n", srv.AdminURL(), password)
	if *once {
		if !ok {
			fmt.Fprintln(stdout, "\nThe demo did not complete; see the failed step above and the events in the admin UI.")
			return exitError{1}
		}
		fmt.Fprintln(stdout, "\nEvery step succeeded.")
		return nil
	}
	fmt.Fprintln(stdout, "Press Ctrl-C to stop.")
	select {
	case <-ctx.Done():
	case err := <-srv.Errors():
		return err
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// demoConfig is an Autotask configuration for the simulators: tickets are
// created when the representative joins (contact found by the customer's
// e-mail custom field), the report and surveys go onto the ticket, and a
// time entry is added for the representative.
func demoConfig(host, secret, restRoot string) service.ConfigInput {
	events := []string{engine.EventMemberAdded, engine.EventSessionEnd, engine.EventCustomerSurveyDone, engine.EventRepSurveyDone}
	app, _ := json.Marshal(map[string]any{
		"name": "Demo: Contoso via Autotask", "appliance_id": engine.DefaultApplianceID, "host": host,
		"client_id": "switchboard-demo", "client_secret": secret, "product": engine.ProductRemoteSupport,
		"outbound_events": events, "retry_outbound_events": events, "retry_attempt_limit": 3,
	})
	settings, _ := json.Marshal(map[string]any{
		"services_url": restRoot, "username": autotasktest.DefaultUsername,
		"password": autotasktest.DefaultSecret, "integration_code": autotasktest.DefaultIntegrationCode,
		"note_type": "1", "report_time_zone": "UTC",
		"update_time_entry":    true,
		"time_entry_defaults":  `{"defaultDomain": "msp.example", "roleName": "Technician", "summaryNotes": "Remote support session"}`,
		"auto_ticket_on_start": true, "auto_ticket_without_external_key": true,
		"ticket_defaults": fmt.Sprintf(`{"companyID": %d, "queueID": %d, "status": 1, "priority": 2, "title": "{{Issue}}", "description": "{{Details}}", "contactID": "<<emailAddress|customer_email>>", "defaultContactID": %d}`,
			autotasktest.CompanyContoso, autotasktest.QueueClientPortal, autotasktest.ContactDefault),
	})
	return service.ConfigInput{Plugin: "autotask", Appliance: app, Settings: settings}
}

// player scripts the session and reports each step.
type player struct {
	out       io.Writer
	appliance *bttest.Appliance
	psa       *autotasktest.Server
	timeout   time.Duration
	failed    bool
}

// step waits for check to report done and prints the outcome.
func (p *player) step(ctx context.Context, what string, check func() (string, bool)) {
	if p.failed {
		fmt.Fprintf(p.out, "  [skip] %s\n", what)
		return
	}
	start := time.Now()
	deadline := start.Add(p.timeout)
	for {
		if detail, done := check(); done {
			fmt.Fprintf(p.out, "  [ok]   %s: %s (%d ms)\n", what, detail, time.Since(start).Milliseconds())
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			p.failed = true
			fmt.Fprintf(p.out, "  [FAIL] %s: nothing after %s\n", what, p.timeout)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *player) play(ctx context.Context) bool {
	before := len(p.psa.Tickets())
	fmt.Fprintln(p.out, "Playing a support session: Jane Doe (Contoso) asks for help, Alice joins, they chat, the session ends, Jane fills in the survey.")
	live := p.appliance.Begin(bttest.SessionSpec{
		Customer: &bttest.Customer{
			Name: "Jane Doe", Username: "jdoe", Hostname: "CONTOSO-LT-042", OS: "Windows 11 Pro",
			PublicIP: "203.0.113.10:50312", PrivateIP: "10.0.4.42", Company: "Contoso Ltd", CompanyCode: "CONTOSO",
			Issue: "Printer offline", Details: "The office printer shows as offline since this morning.",
		},
		Rep:    bttest.Rep{ID: "7", Username: "alice", DisplayName: "Alice Tech", Hostname: "MSP-DESK-1", OS: "Windows 11 Pro"},
		Custom: []beyondtrust.CustomAttribute{{CodeName: "customer_email", DisplayName: "Customer Email", Value: "jane.doe@contoso.example"}},
		// The Afters below add up to this: the session's minutes pass in
		// seconds and it ends now, by a clock that stays the host's.
		StartedAgo: 9*time.Minute + 20*time.Second,
	})
	var ticket autotasktest.Ticket
	p.step(ctx, "representative joined → ticket created", func() (string, bool) {
		ts := p.psa.Tickets()
		if len(ts) <= before {
			return "", false
		}
		ticket = ts[len(ts)-1]
		return fmt.Sprintf("%s %q, contact %d", ticket.TicketNumber, ticket.Title, ticket.ContactID), true
	})
	p.step(ctx, "ticket number written into the session's external key", func() (string, bool) {
		s, _ := p.appliance.Session(live.LSID())
		return s.ExternalKey, s.ExternalKey != "" && s.ExternalKey == ticket.TicketNumber
	})
	live.After(30*time.Second).Chat("Alice Tech", "Hi Jane, I'm connected. Let me look at the printer queue.").
		After(20*time.Second).Chat("Jane Doe", "Thanks! It says \"offline\" & nothing prints <since 9am>.").
		After(2*time.Minute).SystemInfo("Alice Tech", demoSystemInfo).
		After(5*time.Minute).Note("Alice Tech", "Restarted the print spooler and re-added the printer port.").
		After(time.Minute).Chat("Jane Doe", "It prints again, thank you!").
		After(30 * time.Second).End()
	p.step(ctx, "session ended → report added to the ticket", func() (string, bool) {
		for _, n := range p.psa.Notes(ticket.ID) {
			// The report must carry the system information's values, not
			// just its column labels.
			if strings.Contains(n.Description, "Restarted the print spooler") && strings.Contains(n.Description, "Status: Offline") {
				return fmt.Sprintf("note %d %q, %d lines", n.ID, n.Title, strings.Count(n.Description, "\n")+1), true
			}
		}
		return "", false
	})
	p.step(ctx, "time entry added for the representative", func() (string, bool) {
		tes := p.psa.TimeEntries(ticket.ID)
		if len(tes) == 0 {
			return "", false
		}
		te := tes[0]
		return fmt.Sprintf("%.2f h for resource %d, role %d", te.HoursWorked, te.ResourceID, te.RoleID), true
	})
	live.CustomerSurvey(
		beyondtrust.SurveyAnswer{Name: "rating", Label: "How satisfied are you?", Value: "5"},
		beyondtrust.SurveyAnswer{Name: "comments", Label: "Comments", Value: "Fast and friendly."},
	)
	p.step(ctx, "customer exit survey → note added", func() (string, bool) {
		for _, n := range p.psa.Notes(ticket.ID) {
			if strings.Contains(n.Description, "Fast and friendly.") {
				return fmt.Sprintf("note %d %q", n.ID, n.Title), true
			}
		}
		return "", false
	})
	if !p.failed {
		for _, n := range p.psa.Notes(ticket.ID) {
			if strings.Contains(n.Description, "Restarted the print spooler") {
				fmt.Fprintf(p.out, "\nThe report on %s reads:\n\n%s\n", ticket.TicketNumber, indent(n.Description))
			}
		}
	}
	return !p.failed
}

// demoSystemInfo is what Alice pulls from Jane's laptop: tables of columns
// and rows, as the appliance reports them.
var demoSystemInfo = []beyondtrust.SystemInfoCategory{
	{Name: "Operating System",
		Columns: []beyondtrust.SystemInfoColumn{{Code: "name", Label: "Name"}, {Code: "version", Label: "Version"}, {Code: "uptime", Label: "Uptime"}},
		Rows:    [][]string{{"Windows 11 Pro", "10.0.26100", "2 days, 3 hours"}}},
	{Name: "Printers",
		Columns: []beyondtrust.SystemInfoColumn{{Code: "name", Label: "Name"}, {Code: "port", Label: "Port"}, {Code: "status", Label: "Status"}},
		Rows:    [][]string{{"HP LaserJet (Office 2)", "IP_10.0.4.200", "Offline"}, {"Microsoft Print to PDF", "PORTPROMPT:", "Idle"}}},
	{Name: "Drives",
		Columns: []beyondtrust.SystemInfoColumn{{Code: "letter", Label: "Drive"}, {Code: "free", Label: "Free Space"}},
		Rows:    [][]string{{"C:", "118 GB"}}},
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "    " + l
	}
	return strings.Join(lines, "\n")
}
