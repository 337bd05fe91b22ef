package connectwise

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/beyondtrust"
	"switchboard/plugins/connectwise/connectwisetest"
)

// brokenTemplates stands for a template an admin broke.
type brokenTemplates struct{}

func (brokenTemplates) Render(string, any) (string, error) {
	return "", errors.New("Parse error on line 3: unclosed {{#each}}")
}

func (b brokenTemplates) RenderSession(name string, _ *beyondtrust.Session, _ *time.Location) (string, error) {
	return b.Render(name, nil)
}

// readOnly counts the requests that are not GETs: the Test button must
// make none.
type readOnly struct{ writes atomic.Int32 }

func (ro *readOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet {
		ro.writes.Add(1)
	}
	return http.DefaultTransport.RoundTrip(req)
}

func TestTester(t *testing.T) {
	t.Parallel()
	// A port nothing listens on, for the unreachable case. Port 1 rather
	// than a freed ephemeral port, which a parallel test's server could take.
	const deadAddr = "127.0.0.1:1"

	full := func(s *Settings) {
		timeEntries(s)
		autoTicket(s)
		s.TestTicketID = connectwisetest.TicketOpen
	}
	type want struct{ id, status, msg string }
	tests := []struct {
		name      string
		edit      func(s *Settings)
		fault     *connectwisetest.Fault
		errors    engine.FieldErrors
		templates engine.Templates
		want      []want
	}{
		{name: "all good", edit: full, want: []want{
			{"settings", engine.CheckOK, "valid"},
			{engine.CheckApplianceTLS, engine.CheckOK, ""},
			{"connectwise_site", engine.CheckOK, "/v4_6_release/apis/3.0"},
			{"connectwise_auth", engine.CheckOK, "Signed in"},
			{"connectwise_ticket_names", engine.CheckOK, "Help Desk"},
			{"connectwise_member", engine.CheckOK, "alice is the member jdoe"},
			{"connectwise_time", engine.CheckOK, ""},
			{"connectwise_sample_ticket", engine.CheckOK, "Printer offline"},
			{"templates", engine.CheckOK, "render"},
		}},
		{name: "features off", want: []want{
			{"connectwise_ticket_names", engine.CheckSkipped, "off"},
			{"connectwise_member", engine.CheckSkipped, "Sample Representative"},
			{"connectwise_time", engine.CheckSkipped, "off"},
			{"connectwise_sample_ticket", engine.CheckSkipped, "Sample Ticket"},
		}},
		{name: "invalid settings", errors: engine.FieldErrors{{Field: "client_id", Message: "is required"}}, want: []want{
			{"settings", engine.CheckFail, "not valid"},
			{"connectwise_site", engine.CheckSkipped, "fix the ConnectWise settings"},
		}},
		{name: "unknown company", edit: func(s *Settings) { s.CompanyID = "nope" }, want: []want{
			{"connectwise_site", engine.CheckFail, "knows no company"},
			{"connectwise_auth", engine.CheckSkipped, "cannot be reached"},
		}},
		{name: "unreachable site", edit: func(s *Settings) { s.Site = "http://" + deadAddr }, want: []want{
			{"connectwise_site", engine.CheckFail, "Connection refused"},
		}},
		{name: "wrong private key", edit: func(s *Settings) { s.PrivateKey = engine.NewSecret("wrong-private-key") }, want: []want{
			{"connectwise_auth", engine.CheckFail, "Authentication failed (401)"},
			{"connectwise_member", engine.CheckSkipped, "refused the keys"},
		}},
		{name: "wrong client id", edit: func(s *Settings) { s.ClientID = "00000000-0000-0000-0000-000000000000" }, want: []want{
			{"connectwise_auth", engine.CheckFail, "Client ID"},
		}},
		{name: "unknown board", edit: func(s *Settings) { full(s); s.Board = "Projects" }, want: []want{
			{"connectwise_ticket_names", engine.CheckFail, `no board named "Projects"`},
		}},
		{name: "status of another board", edit: func(s *Settings) { full(s); s.Status = "Open" }, want: []want{
			{"connectwise_ticket_names", engine.CheckFail, `no status "Open" on the board Help Desk`},
		}},
		{name: "unknown priority", edit: func(s *Settings) { full(s); s.Priority = "Urgent" }, want: []want{
			{"connectwise_ticket_names", engine.CheckFail, `no priority "Urgent"`},
		}},
		{name: "unknown company identifier", edit: func(s *Settings) { full(s); s.Company = "GLOBEX" }, want: []want{
			{"connectwise_ticket_names", engine.CheckFail, `no company "GLOBEX"`},
		}},
		{name: "unknown default contact", edit: func(s *Settings) { full(s); s.DefaultContactID = 99 }, want: []want{
			{"connectwise_ticket_names", engine.CheckFail, "no contact 99"},
		}},
		{name: "unmapped representative", edit: func(s *Settings) { full(s); s.TestRep = "zed" }, want: []want{
			{"connectwise_member", engine.CheckFail, "no member for representative zed"},
		}},
		{name: "unknown work role", edit: func(s *Settings) { full(s); s.WorkRole = "Wizard" }, want: []want{
			{"connectwise_time", engine.CheckFail, `no work role "Wizard"`},
		}},
		{name: "unknown sample ticket", edit: func(s *Settings) { full(s); s.TestTicketID = 1 }, want: []want{
			{"connectwise_sample_ticket", engine.CheckFail, "no ticket #1"},
		}},
		{name: "forbidden sample ticket", edit: full, fault: &connectwisetest.Fault{Method: "GET", Path: "service/tickets/", Status: 403}, want: []want{
			{"connectwise_sample_ticket", engine.CheckFail, "Permission denied (403)"},
		}},
		{name: "throttled", edit: full, fault: &connectwisetest.Fault{Method: "GET", Path: "system/members", Status: 429}, want: []want{
			{"connectwise_member", engine.CheckFail, "throttling"},
		}},
		{name: "broken template", templates: brokenTemplates{}, want: []want{
			{"templates", engine.CheckFail, "does not render"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, connectwisetest.Options{})
			ro := &readOnly{}
			h.plugin.HTTPClient = &http.Client{Transport: ro}
			if tc.edit != nil {
				tc.edit(h.set)
			}
			if tc.fault != nil {
				h.sim.Inject(*tc.fault)
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
			checks := h.plugin.Test(ctx, cfg)
			byID := map[string]engine.Check{}
			for _, c := range checks {
				byID[c.ID] = c
				if strings.Contains(c.Message+c.Detail, h.set.PrivateKey.Reveal()) || strings.Contains(c.Message+c.Detail, connectwisetest.DefaultPrivateKey) {
					t.Errorf("check %s leaks the private key: %+v", c.ID, c)
				}
			}
			for _, w := range tc.want {
				c, ok := byID[w.id]
				if !ok || c.Status != w.status || !strings.Contains(c.Message, w.msg) {
					t.Errorf("check %s = %+v, want %s with %q", w.id, c, w.status, w.msg)
				}
			}
			if n := ro.writes.Load(); n != 0 {
				t.Errorf("Test made %d requests that are not GETs", n)
			}
		})
	}
}

func TestExplainNetworkErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&net.DNSError{Name: "api-na.myconnectwise.net", Err: "no such host", IsNotFound: true}, "Cannot resolve api-na.myconnectwise.net"},
		{context.DeadlineExceeded, "Connection timeout"},
		{&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, "Connection refused"},
		{x509.UnknownAuthorityError{}, "Certificate problem"},
	} {
		if msg, _ := explain(tc.err); !strings.Contains(msg, tc.want) {
			t.Errorf("explain(%v) = %q, want %q", tc.err, msg, tc.want)
		}
	}
}
