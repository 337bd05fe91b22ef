package autotask

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/beyondtrust"
	"switchboard/plugins/autotask/autotasktest"
)

// brokenTemplates stands for a template an admin broke.
type brokenTemplates struct{}

func (brokenTemplates) Render(name string, _ any) (string, error) {
	return "", errors.New("Parse error on line 3: unclosed {{#each}}")
}

func (b brokenTemplates) RenderSession(name string, _ *beyondtrust.Session, _ *time.Location) (string, error) {
	return b.Render(name, nil)
}

func TestTester(t *testing.T) {
	t.Parallel()
	// A port nothing listens on, for the unreachable case. Port 1 rather
	// than a freed ephemeral port, which a parallel test's server could take.
	const deadAddr = "127.0.0.1:1"

	full := func(s *Settings) {
		s.UpdateTimeEntry = true
		autoTicket(s)
		s.TimeEntryDefaults = `{"defaultDomain": "msp.example", "roleName": "Technician", "summaryNotes": "Remote support"}`
	}
	type want struct{ id, status, msg string }
	tests := []struct {
		name      string
		edit      func(s *Settings)
		errors    engine.FieldErrors
		templates engine.Templates
		want      []want
	}{
		{name: "all good", edit: full, want: []want{
			{"settings", engine.CheckOK, "valid"},
			{engine.CheckApplianceTLS, engine.CheckOK, ""},
			{"autotask_zone", engine.CheckOK, "zone is"},
			{"autotask_auth", engine.CheckOK, "Signed in"},
			{"autotask_note", engine.CheckOK, "note type 1 and publish 2"},
			{"autotask_role", engine.CheckOK, `"Technician" exists`},
			{"autotask_ticket_defaults", engine.CheckOK, "values are valid"},
			{"autotask_contact", engine.CheckOK, "emailAddress"},
			{"templates", engine.CheckOK, "render"},
		}},
		{name: "features off", want: []want{
			{"autotask_role", engine.CheckSkipped, "Update Time Entry is off"},
			{"autotask_ticket_defaults", engine.CheckSkipped, "off"},
			{"autotask_contact", engine.CheckSkipped, "no <<field|custom_field>>"},
		}},
		{name: "invalid settings", edit: func(s *Settings) { s.Username = "" }, errors: engine.FieldErrors{{Field: "username", Message: "is required"}}, want: []want{
			{"settings", engine.CheckFail, "not valid"},
			{"autotask_zone", engine.CheckSkipped, "fix the Autotask settings"},
			{"autotask_note", engine.CheckSkipped, ""},
		}},
		{name: "unknown username", edit: func(s *Settings) { s.Username = "nobody@example.com" }, want: []want{
			{"autotask_zone", engine.CheckFail, "Unknown username"},
			{"autotask_auth", engine.CheckSkipped, "zone is unknown"},
		}},
		{name: "wrong password", edit: func(s *Settings) { s.Password = engine.NewSecret("wrong") }, want: []want{
			{"autotask_zone", engine.CheckOK, ""},
			{"autotask_auth", engine.CheckFail, "Authentication failed (401) — check Autotask Password"},
			{"autotask_note", engine.CheckSkipped, "refused the credentials"},
		}},
		{name: "wrong integration code", edit: func(s *Settings) { s.IntegrationCode = engine.NewSecret("WRONG") }, want: []want{
			{"autotask_auth", engine.CheckFail, "Invalid integration code"},
		}},
		{name: "unreachable", edit: func(s *Settings) { s.ServicesURL = "http://" + deadAddr + "/ATServicesRest" }, want: []want{
			{"autotask_zone", engine.CheckOK, "configured Services URL"},
			{"autotask_auth", engine.CheckFail, "Connection refused — check HTTPS 443"},
		}},
		{name: "note type unknown", edit: func(s *Settings) { s.NoteType = "Gossip" }, want: []want{
			{"autotask_note", engine.CheckFail, `Autotask Note Type "Gossip" is not an active note type`},
		}},
		{name: "note type inactive", edit: func(s *Settings) { s.NoteType = "6" }, want: []want{
			{"autotask_note", engine.CheckFail, "1 Task Summary"},
		}},
		{name: "role missing", edit: func(s *Settings) {
			s.UpdateTimeEntry = true
			s.TimeEntryDefaults = `{"roleName": "Wizard", "summaryNotes": "x"}`
		}, want: []want{{"autotask_role", engine.CheckFail, `no active Autotask role named "Wizard"`}}},
		{name: "time entry default invalid", edit: func(s *Settings) {
			s.UpdateTimeEntry = true
			s.TimeEntryDefaults = `{"roleName": "Technician", "summaryNotes": "x", "timeEntryType": 99}`
		}, want: []want{{"autotask_role", engine.CheckFail, "timeEntryType 99 is not an active choice"}}},
		{name: "queue not in picklist", edit: func(s *Settings) {
			autoTicket(s)
			s.TicketDefaults = `{"companyID": 174, "status": 1, "priority": 2, "title": "t", "queueID": 5}`
		}, want: []want{{"autotask_ticket_defaults", engine.CheckFail, "queueID 5 is not an active choice"}}},
		{name: "company missing", edit: func(s *Settings) {
			autoTicket(s)
			s.TicketDefaults = `{"companyID": 999, "status": 1, "priority": 2, "title": "t"}`
		}, want: []want{{"autotask_ticket_defaults", engine.CheckFail, "companyID 999 does not exist in Companies"}}},
		{name: "default contact missing", edit: func(s *Settings) {
			autoTicket(s)
			s.TicketDefaults = `{"companyID": 174, "status": 1, "priority": 2, "title": "t", "defaultContactID": 12}`
		}, want: []want{{"autotask_ticket_defaults", engine.CheckFail, "defaultContactID 12 is not an Autotask contact"}}},
		{name: "field unknown to the tenant", edit: func(s *Settings) {
			autoTicket(s)
			s.TicketDefaults = `{"companyID": 174, "status": 1, "priority": 2, "title": "t", "opportunityID": 3}`
		}, want: []want{{"autotask_ticket_defaults", engine.CheckFail, "opportunityID is not a field of Tickets"}}},
		{name: "contact field unknown", edit: func(s *Settings) {
			autoTicket(s)
			s.TicketDefaults = `{"companyID": 174, "status": 1, "priority": 2, "title": "t", "contactID": "<<email|customer_email>>"}`
		}, want: []want{{"autotask_contact", engine.CheckFail, `Contacts has no field "email"`}}},
		{name: "contact without default", edit: func(s *Settings) {
			autoTicket(s)
			s.TicketDefaults = `{"companyID": 174, "status": 1, "priority": 2, "title": "t", "contactID": "<<emailAddress|customer_email>>"}`
		}, want: []want{{"autotask_contact", engine.CheckWarn, "without defaultContactID"}}},
		{name: "broken template", templates: brokenTemplates{}, want: []want{
			{"templates", engine.CheckFail, "does not render"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, autotasktest.Options{})
			if tc.edit != nil {
				tc.edit(h.set)
			}
			opts := h.app.Options()
			cfg := &engine.TestConfig{
				Appliance: engine.ApplianceSettings{Host: opts.Host, ClientID: opts.ClientID, ClientSecret: engine.NewSecret(opts.ClientSecret), Product: "rs"},
				Settings:  h.set, Errors: tc.errors, Client: h.btc, Templates: h.tpl,
			}
			if tc.templates != nil {
				cfg.Templates = tc.templates
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			tickets, entries := len(h.sim.Tickets()), len(h.sim.TimeEntries(0))
			checks := h.plugin.Test(ctx, cfg)
			byID := map[string]engine.Check{}
			for _, c := range checks {
				byID[c.ID] = c
			}
			for _, w := range tc.want {
				c, ok := byID[w.id]
				if !ok || c.Status != w.status || !strings.Contains(c.Message, w.msg) {
					t.Errorf("check %s = %+v, want %s with %q", w.id, c, w.status, w.msg)
				}
			}
			for _, c := range checks {
				for _, secret := range []string{autotasktest.DefaultSecret, h.set.Password.Reveal(), autotasktest.DefaultIntegrationCode} {
					if strings.Contains(c.Message+c.Detail, secret) {
						t.Errorf("check %s leaks a secret: %+v", c.ID, c)
					}
				}
			}
			// The Test never writes to Autotask.
			if n := len(h.sim.Notes(0)); n != 0 {
				t.Errorf("Test wrote %d notes", n)
			}
			if n := len(h.sim.Tickets()); n != tickets {
				t.Errorf("Test created %d tickets", n-tickets)
			}
			if n := len(h.sim.TimeEntries(0)); n != entries {
				t.Errorf("Test added %d time entries", n-entries)
			}
		})
	}
}

func TestExplainNetworkErrors(t *testing.T) {
	t.Parallel()
	s := NewSettings()
	tests := []struct {
		err  error
		want string
	}{
		{err: &net.DNSError{Name: "webservices15.autotask.net", Err: "no such host", IsNotFound: true}, want: "Cannot resolve webservices15.autotask.net — check DNS"},
		{err: context.DeadlineExceeded, want: "Connection timeout — check HTTPS 443"},
		{err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, want: "Connection refused — check HTTPS 443"},
		{err: x509.UnknownAuthorityError{}, want: "Certificate problem"},
		{err: &APIError{Status: 500, Messages: []string{"Missing Required Field: title"}, Problem: ProblemRejected}, want: "Autotask refused the request: Missing Required Field: title"},
	}
	for _, tc := range tests {
		if msg, _ := explain(tc.err, s); !strings.Contains(msg, tc.want) {
			t.Errorf("explain(%v) = %q, want %q", tc.err, msg, tc.want)
		}
	}
}
