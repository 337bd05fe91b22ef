package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"switchboard/engine"
	"switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/server"
	"switchboard/engine/service"
	"switchboard/plugins/autotask/autotasktest"
	"switchboard/plugins/connectwise/connectwisetest"
)

// demoTarget is the simulated ticketing system the demo plays against.
type demoTarget struct {
	name, url string
	config    service.ConfigInput
	play      func(ctx context.Context) bool
	close     func()
	// sourcesHTTP and started, when set, give the server the client of
	// simulated sources and add them once the configuration exists;
	// started returns the line that introduces them.
	sourcesHTTP *http.Client
	started     func(ctx context.Context, srv *server.Server, cfg service.Config) (string, error)
}

// startDemoTarget starts the simulator of the chosen connector and the
// configuration that points at it.
func startDemoTarget(connector string, appliance *bttest.Appliance, secret string, out io.Writer, timeout time.Duration) (*demoTarget, error) {
	if connector == "siem" {
		return startSIEMDemo(appliance, secret, out, timeout)
	}
	if connector == "connectwise" {
		cw, err := connectwisetest.Start("127.0.0.1:0", connectwisetest.Options{})
		if err != nil {
			return nil, fmt.Errorf("start the simulated ConnectWise PSA: %w", err)
		}
		p := &cwPlayer{player: player{out: out, appliance: appliance, timeout: timeout}, cw: cw}
		return &demoTarget{name: "ConnectWise", url: cw.APIRoot(), config: connectwiseDemoConfig(appliance.Host(), secret, cw.URL),
			play: p.play, close: cw.Close}, nil
	}
	psa, err := autotasktest.Start("127.0.0.1:0", autotasktest.Options{})
	if err != nil {
		return nil, fmt.Errorf("start the simulated Autotask: %w", err)
	}
	p := &player{out: out, appliance: appliance, psa: psa, timeout: timeout}
	return &demoTarget{name: "Autotask", url: psa.RESTRoot(), config: demoConfig(appliance.Host(), secret, psa.RESTRoot()),
		play: p.play, close: psa.Close}, nil
}

// connectwiseDemoConfig is a ConnectWise configuration for the simulators:
// a ticket on the Help Desk board when the representative joins (contact
// by the customer's e-mail), the report and surveys as internal notes, a
// billable time entry for the representative's member.
func connectwiseDemoConfig(host, secret, site string) service.ConfigInput {
	events := []string{engine.EventMemberAdded, engine.EventSessionEnd, engine.EventCustomerSurveyDone, engine.EventRepSurveyDone}
	app, _ := json.Marshal(map[string]any{
		"name": "Demo: Acme via ConnectWise PSA", "appliance_id": engine.DefaultApplianceID, "host": host,
		"client_id": "switchboard-demo", "client_secret": secret, "product": engine.ProductRemoteSupport,
		"outbound_events": events, "retry_outbound_events": events, "retry_attempt_limit": 3,
	})
	settings, _ := json.Marshal(map[string]any{
		"site": site, "company_id": connectwisetest.DefaultCompany, "public_key": connectwisetest.DefaultPublicKey,
		"private_key": connectwisetest.DefaultPrivateKey, "client_id": connectwisetest.DefaultClientID,
		"member_rule": "email", "member_domain": "msp.example", "note_internal_analysis": true,
		"time_entry": true, "work_type": connectwisetest.WorkTypeName, "work_role": connectwisetest.WorkRoleName, "billable_option": "Billable",
		"auto_ticket_on_start": true, "auto_ticket_without_external_key": true,
		"ticket_board": connectwisetest.BoardName, "ticket_status": connectwisetest.StatusName, "ticket_priority": connectwisetest.PriorityName,
		"ticket_type": connectwisetest.TypeName, "ticket_company": "ACME", "ticket_contact": "<<email|customer_email>>",
		"default_contact_id": connectwisetest.ContactDefault,
	})
	return service.ConfigInput{Plugin: "connectwise", Appliance: app, Settings: settings}
}

// cwPlayer plays the demo session against the ConnectWise simulator.
type cwPlayer struct {
	player
	cw *connectwisetest.Server
}

func (p *cwPlayer) play(ctx context.Context) bool {
	before := len(p.cw.Tickets())
	fmt.Fprintln(p.out, "Playing a support session: Arnie Bellini (Acme) asks for help, Alice joins, they chat, the session ends, Arnie fills in the survey.")
	live := p.appliance.Begin(bttest.SessionSpec{
		Customer: &bttest.Customer{Name: "Arnie Bellini", Hostname: "ACME-LT-042", OS: "Windows 11 Pro", Company: "Acme Corp",
			Issue: "Printer offline", Details: "The office printer shows as offline since this morning."},
		Rep:        bttest.Rep{ID: "7", Username: "alice", DisplayName: "Alice Tech", Hostname: "MSP-DESK-1", OS: "Windows 11 Pro"},
		Custom:     []beyondtrust.CustomAttribute{{CodeName: "customer_email", DisplayName: "Customer Email", Value: "arnie@acme.com"}},
		StartedAgo: 7 * time.Minute, // the Afters below: it ends now, by the host's clock
	})
	var ticket connectwisetest.Ticket
	p.step(ctx, "representative joined → ticket created", func() (string, bool) {
		ts := p.cw.Tickets()
		if len(ts) <= before {
			return "", false
		}
		ticket = ts[len(ts)-1]
		return fmt.Sprintf("#%d %q on %s, contact %d", ticket.ID, ticket.Summary, ticket.Board.Name, ticket.Contact.ID), true
	})
	p.step(ctx, "ticket id written into the session's external key", func() (string, bool) {
		s, _ := p.appliance.Session(live.LSID())
		return s.ExternalKey, s.ExternalKey == strconv.FormatInt(ticket.ID, 10)
	})
	live.After(30*time.Second).Chat("Alice Tech", "Hi Arnie, I'm connected. Let me look at the printer queue.").
		After(6*time.Minute).Note("Alice Tech", "Restarted the print spooler and re-added the printer port.").
		After(30 * time.Second).End()
	p.step(ctx, "session ended → report note on the ticket", func() (string, bool) {
		for _, n := range p.cw.Notes(ticket.ID) {
			if strings.Contains(n.Text, "Restarted the print spooler") {
				return fmt.Sprintf("note %d, %d lines, internal %v", n.ID, strings.Count(n.Text, "\n")+1, n.InternalAnalysisFlag), true
			}
		}
		return "", false
	})
	p.step(ctx, "time entry charged to the representative's member", func() (string, bool) {
		tes := p.cw.TimeEntries(ticket.ID)
		if len(tes) == 0 {
			return "", false
		}
		te := tes[0]
		return fmt.Sprintf("%.2f h for %s, %s, %s", te.ActualHours, te.Member.Identifier, te.WorkType.Name, te.BillableOption), true
	})
	live.CustomerSurvey(beyondtrust.SurveyAnswer{Name: "comments", Label: "Comments", Value: "Fast and friendly."})
	p.step(ctx, "customer exit survey → note added", func() (string, bool) {
		for _, n := range p.cw.Notes(ticket.ID) {
			if strings.Contains(n.Text, "Fast and friendly.") {
				return fmt.Sprintf("note %d", n.ID), true
			}
		}
		return "", false
	})
	if !p.failed {
		for _, n := range p.cw.Notes(ticket.ID) {
			if strings.Contains(n.Text, "Restarted the print spooler") {
				fmt.Fprintf(p.out, "\nThe report on ticket #%d reads:\n\n%s\n", ticket.ID, indent(n.Text))
			}
		}
	}
	return !p.failed
}
