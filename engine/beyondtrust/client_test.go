package beyondtrust_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
)

func newAppliance(t *testing.T, opts ...bttest.Option) *bttest.Appliance {
	t.Helper()
	a := bttest.New(opts...)
	t.Cleanup(a.Close)
	return a
}

// sysInfo is the reference's system information example plus a category
// without rows.
var sysInfo = []beyondtrust.SystemInfoCategory{
	{Name: "Operating System", Columns: []beyondtrust.SystemInfoColumn{{Code: "name", Label: "Name"}, {Code: "version", Label: "Version"}},
		Rows: [][]string{{"Windows 11 Pro", "10.0.26100"}}},
	{Name: "Drives", Columns: []beyondtrust.SystemInfoColumn{{Code: "letter", Label: "Drive"}, {Code: "free", Label: "Free Space"}},
		Rows: [][]string{{"C:", "41.2 GB"}, {"D:", "310.0 GB"}}},
	{Name: "Printers", Columns: []beyondtrust.SystemInfoColumn{{Code: "name", Label: "Name"}}},
}

// script runs a short session life on the appliance and returns its lsid.
func script(a *bttest.Appliance) string {
	l := a.Begin(bttest.SessionSpec{
		ExternalKey: "T20260302.0042",
		Customer:    &bttest.Customer{Name: "Dana Whitfield", Username: "dana", Hostname: "WS-DANA", OS: "Windows 11", Company: "Northwind", Issue: "Printing"},
		Rep:         bttest.Rep{ID: "14", Username: "amorgan", DisplayName: "Alex Morgan"},
		Custom:      []beyondtrust.CustomAttribute{{CodeName: "ticket_number", DisplayName: "Ticket Number", Value: "T20260302.0042"}},
	})
	l.After(5*time.Second).Chat("Dana Whitfield", "Hi, my printer is offline 🖨️").
		After(5*time.Second).Chat("Alex Morgan", "Let me look.").
		Join(bttest.Rep{ID: "27", Username: "jbecker", DisplayName: "Jonas Becker"}).
		PrivateChat("Alex Morgan", "Jonas Becker", "Can you check the driver?").
		Chat("Dana Whitfield", "log: \x1b[31mERROR\x1b[0m").
		Note("Alex Morgan", "Driver reinstalled.").
		SystemInfo("Alex Morgan", sysInfo).
		Upload("Alex Morgan", `C:\drivers\hp.exe`, 1234).
		After(time.Minute).End().
		After(10*time.Second).CustomerSurvey(beyondtrust.SurveyAnswer{Name: "rating", Label: "Rating", Value: "5"}, beyondtrust.SurveyAnswer{Name: "comments", Label: "Comments", Value: "Great\nthanks"})
	return l.LSID()
}

func TestSessionRoundTrip(t *testing.T) {
	t.Parallel()
	for _, product := range []string{beyondtrust.ProductRS, beyondtrust.ProductPRA} {
		t.Run(product, func(t *testing.T) {
			t.Parallel()
			a := newAppliance(t, bttest.WithProduct(product))
			lsid := script(a)
			c := beyondtrust.NewClient(a.Options(), nil)
			s, err := c.Session(t.Context(), lsid)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := a.Session(lsid)
			chat := s.Chat()
			checks := []struct {
				name      string
				got, want any
			}{
				{"product", s.Product, product},
				{"lsid", s.LSID, lsid},
				{"lseq", s.LSeq, want.LSeq},
				{"start", s.StartTime, want.StartTime},
				{"end", s.EndTime, want.EndTime},
				{"duration", s.Duration, want.Duration},
				{"external key", s.ExternalKey, "T20260302.0042"},
				{"custom attribute", s.CustomAttributes[0], want.CustomAttributes[0]},
				{"reps", len(s.Reps), 2},
				{"seconds involved", s.Reps[0].SecondsInvolved, want.Reps[0].SecondsInvolved},
				{"chat lines", len(chat), 4},
				{"unicode chat", chat[0].Text, "Hi, my printer is offline 🖨️"},
				{"private chat", chat[2].To, "Jonas Becker"},
				{"control characters through encoded_body", chat[3].Text, "log: \x1b[31mERROR\x1b[0m"},
				{"note", s.Notes()[0].Text, "Driver reinstalled."},
				{"system info", fmt.Sprint(s.SystemInfo()), fmt.Sprint(sysInfo)},
				{"file", s.FileTransfers()[0].Name, `C:\drivers\hp.exe`},
				{"events", len(s.Events), len(want.Events)},
				{"chat url only once ended", s.ChatViewURL != "", true},
			}
			if product == beyondtrust.ProductRS {
				checks = append(checks,
					struct {
						name      string
						got, want any
					}{"survey in session", s.CustomerSurveys[0].Answers[1].Value, "Great\nthanks"},
					struct {
						name      string
						got, want any
					}{"customer info", s.Customers[0].Info.Company, "Northwind"})
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s: got %#v, want %#v", c.name, c.got, c.want)
				}
			}
		})
	}
}

// TestOneConnectionPerCallResumesTLS holds the vendor's rule, "When making
// consecutive API calls, you must close the connection after each API
// call" (https://docs.beyondtrust.com/rs/docs/command), and that a new
// connection resumes the TLS session of an earlier one instead of a full
// handshake: the rule asks for a closed connection, not a new TLS session.
func TestOneConnectionPerCallResumesTLS(t *testing.T) {
	t.Parallel()
	a := newAppliance(t)
	lsid := script(a)
	tokens := beyondtrust.NewTokenCache()
	c := beyondtrust.NewClient(a.Options(), tokens)
	for range 3 {
		if _, err := c.Session(t.Context(), lsid); err != nil {
			t.Fatal(err)
		}
	}
	// The token and three reports.
	got := a.Connections()
	if got.Requests != 4 || got.Opened != 4 {
		t.Errorf("%d requests over %d connections, want 4 over 4 (one connection per call)", got.Requests, got.Opened)
	}
	if got.Resumed != 3 {
		t.Errorf("%d of 4 connections resumed the TLS session, want 3 (all but the first)", got.Resumed)
	}
	// Another client (another configuration, sharing the token) does not
	// share the TLS sessions: its one call is a full handshake.
	if _, err := beyondtrust.NewClient(a.Options(), tokens).Session(t.Context(), lsid); err != nil {
		t.Fatal(err)
	}
	if again := a.Connections(); again.Resumed != got.Resumed {
		t.Error("a new client resumed another client's TLS session")
	}
}

func TestTokenCachedAndShared(t *testing.T) {
	t.Parallel()
	a := newAppliance(t)
	lsid := script(a)
	cache := beyondtrust.NewTokenCache()
	c1 := beyondtrust.NewClient(a.Options(), cache)
	c2 := beyondtrust.NewClient(a.Options(), cache)
	for i := 0; i < 3; i++ {
		for _, c := range []*beyondtrust.Client{c1, c2} {
			if _, err := c.Session(t.Context(), lsid); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := a.TokensIssued(); n != 1 {
		t.Errorf("%d tokens minted for 6 calls by two clients of one account, want 1", n)
	}
	// A client of the same account with a different secret must not borrow
	// the good token.
	bad := a.Options()
	bad.ClientSecret = "wrong"
	if err := beyondtrust.NewClient(bad, cache).Token(t.Context()); err == nil {
		t.Error("a wrong secret passed thanks to a cached token")
	}
}

func TestTokenSingleFlight(t *testing.T) {
	t.Parallel()
	a := newAppliance(t)
	// A slow token endpoint makes every goroutine arrive while the first
	// mint is still running.
	a.Inject(bttest.Fault{Path: bttest.PathToken, Delay: 100 * time.Millisecond, Times: 1})
	cache := beyondtrust.NewTokenCache()
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := beyondtrust.NewClient(a.Options(), cache)
			_, err := c.APIInfo(t.Context())
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := a.TokensIssued(); n != 1 {
		t.Errorf("50 concurrent calls minted %d tokens, want 1", n)
	}
}

func TestTokenRefreshBeforeExpiry(t *testing.T) {
	t.Parallel()
	clock := bttest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	a := newAppliance(t, bttest.WithClock(clock.Now))
	cache := beyondtrust.NewTokenCache()
	cache.SetClock(clock.Now)
	c := beyondtrust.NewClient(a.Options(), cache)
	steps := []struct {
		advance time.Duration
		minted  int
	}{
		{0, 1},
		{50 * time.Minute, 1}, // 10 minutes left: reused
		{5 * time.Minute, 2},  // 5 minutes left: refreshed
		{30 * time.Minute, 2},
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		if _, err := c.APIInfo(t.Context()); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if n := a.TokensIssued(); n != s.minted {
			t.Errorf("step %d: %d tokens minted, want %d", i, n, s.minted)
		}
	}
}

func TestRetryOnceOn401(t *testing.T) {
	t.Parallel()
	a := newAppliance(t)
	lsid := script(a)
	c := beyondtrust.NewClient(a.Options(), nil)
	if _, err := c.Session(t.Context(), lsid); err != nil {
		t.Fatal(err)
	}
	a.RevokeTokens() // as regenerating the secret (same value here) would
	if _, err := c.Session(t.Context(), lsid); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if n := a.TokensIssued(); n != 2 {
		t.Errorf("%d tokens minted, want 2", n)
	}
	if n := a.Calls("SupportSession"); n != 3 {
		t.Errorf("%d SupportSession calls, want 3 (one refused, retried once)", n)
	}

	// A 401 that persists is an authentication failure after one retry.
	a.Inject(bttest.Fault{Path: bttest.PathReporting, Status: http.StatusUnauthorized, Body: "<error>Invalid token</error>"})
	_, err := c.Session(t.Context(), lsid)
	var e *beyondtrust.Error
	if !errors.As(err, &e) || e.Kind != beyondtrust.KindAuth {
		t.Fatalf("got %v, want an authentication error", err)
	}
	if n := a.Calls("SupportSession"); n != 5 {
		t.Errorf("%d SupportSession calls, want 5 (exactly one retry)", n)
	}
}

func TestErrorClasses(t *testing.T) {
	t.Parallel()
	a := newAppliance(t,
		bttest.WithAccount(bttest.Account{ClientID: "full", ClientSecret: "full-secret-123", Reporting: true, Command: "full"}),
		bttest.WithAccount(bttest.Account{ClientID: "noreport", ClientSecret: "noreport-secret", Reporting: false, Command: "read_only"}),
	)
	lsid := script(a)
	good := a.Options()
	good.ClientID, good.ClientSecret = "full", "full-secret-123"
	closed := closedPort(t)

	tests := []struct {
		name      string
		opts      func(o *beyondtrust.Options)
		fault     *bttest.Fault
		call      func(c *beyondtrust.Client) error
		kind      beyondtrust.ErrorKind
		permanent bool
		explain   string
		is        error
	}{
		{name: "unknown client id", opts: func(o *beyondtrust.Options) { o.ClientID = "nobody" }, kind: beyondtrust.KindAuth, permanent: true,
			explain: "does not know this OAuth Client ID", is: beyondtrust.ErrUnknownClientID},
		{name: "wrong secret", opts: func(o *beyondtrust.Options) { o.ClientSecret = "wrong-secret-value" }, kind: beyondtrust.KindAuth, permanent: true,
			explain: "Client Secret is wrong", is: beyondtrust.ErrBadClientSecret},
		{name: "reporting permission", opts: func(o *beyondtrust.Options) { o.ClientID, o.ClientSecret = "noreport", "noreport-secret" }, kind: beyondtrust.KindPermission, permanent: true,
			explain: "allow Access to Support Session Reports and Recordings"},
		{name: "command permission", opts: func(o *beyondtrust.Options) { o.ClientID, o.ClientSecret = "noreport", "noreport-secret" }, kind: beyondtrust.KindPermission, permanent: true,
			call: func(c *beyondtrust.Client) error {
				key := "x"
				return c.SetSessionAttributes(context.Background(), lsid, &key, nil)
			}, explain: "Full Access to the Command API"},
		{name: "permission as an error document", fault: &bttest.Fault{Path: bttest.PathReporting, Status: http.StatusOK, Body: "<error>You do not have permission to run this report.</error>"},
			kind: beyondtrust.KindPermission, permanent: true, explain: "Permission denied"},
		{name: "untrusted certificate", opts: func(o *beyondtrust.Options) { o.RootCAs = x509Empty() }, kind: beyondtrust.KindCertificate, permanent: true,
			explain: "unknown authority"},
		{name: "login path in host", opts: func(o *beyondtrust.Options) { o.Host += "/login" }, kind: beyondtrust.KindInvalidHost, permanent: true,
			explain: "Invalid Base URL — remove /login and use the root URL"},
		{name: "scheme in host", opts: func(o *beyondtrust.Options) { o.Host = "https://" + o.Host }, kind: beyondtrust.KindInvalidHost, permanent: true,
			explain: "without http:// or https://"},
		{name: "connection refused", opts: func(o *beyondtrust.Options) { o.Host = closed }, kind: beyondtrust.KindNetwork,
			explain: "check HTTPS 443"},
		{name: "timeout", opts: func(o *beyondtrust.Options) { o.Timeout = 200 * time.Millisecond }, fault: &bttest.Fault{Path: bttest.PathReporting, Hang: true},
			kind: beyondtrust.KindTimeout, explain: "Connection timeout — check HTTPS 443 from this server", is: context.DeadlineExceeded},
		{name: "server error", fault: &bttest.Fault{Path: bttest.PathReporting, Status: http.StatusServiceUnavailable, Body: "maintenance"},
			kind: beyondtrust.KindServer, explain: "HTTP 503"},
		{name: "rate limited", fault: &bttest.Fault{Path: bttest.PathReporting, Status: http.StatusTooManyRequests, RetryAfter: "10"},
			kind: beyondtrust.KindRateLimited, explain: "rate limiting"},
		{name: "malformed XML", fault: &bttest.Fault{Path: bttest.PathReporting, Status: http.StatusOK, Body: "<html><body>Proxy error</body></html>"},
			kind: beyondtrust.KindMalformed, explain: "not as a BeyondTrust appliance API"},
		{name: "token endpoint missing", fault: &bttest.Fault{Path: bttest.PathToken, Status: http.StatusNotFound, Body: "not found"},
			kind: beyondtrust.KindInvalidHost, permanent: true, explain: "Invalid host"},
		{name: "session not found", call: func(c *beyondtrust.Client) error {
			_, err := c.Session(context.Background(), "00000000000000000000000000000000")
			return err
		}, kind: beyondtrust.KindNotFound, explain: "Session not found", is: beyondtrust.ErrNotFound},
		{name: "attributes of an ended session", call: func(c *beyondtrust.Client) error {
			key := "x"
			return c.SetSessionAttributes(context.Background(), lsid, &key, nil)
		}, kind: beyondtrust.KindRejected, explain: "not active"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Not parallel: faults are appliance-wide.
			opts := good
			if tt.opts != nil {
				tt.opts(&opts)
			}
			if tt.fault != nil {
				f := *tt.fault
				f.Times = 1
				if f.Hang {
					f.Times = 0
				}
				a.Inject(f)
				defer a.ClearFaults()
			}
			c := beyondtrust.NewClient(opts, nil)
			call := tt.call
			if call == nil {
				call = func(c *beyondtrust.Client) error {
					_, err := c.Session(context.Background(), lsid)
					return err
				}
			}
			err := call(c)
			var e *beyondtrust.Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v (%T), want *beyondtrust.Error", err, err)
			}
			if e.Kind != tt.kind {
				t.Errorf("kind %v, want %v (%v)", e.Kind, tt.kind, err)
			}
			if e.PermanentError() != tt.permanent {
				t.Errorf("permanent %v, want %v", e.PermanentError(), tt.permanent)
			}
			if got := beyondtrust.Explain(err); !strings.Contains(got, tt.explain) {
				t.Errorf("Explain = %q, want it to contain %q", got, tt.explain)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
			for _, secret := range []string{good.ClientSecret, "wrong-secret-value", "noreport-secret"} {
				if strings.Contains(err.Error(), secret) || strings.Contains(beyondtrust.Explain(err), secret) {
					t.Errorf("error text %q leaks the secret", err)
				}
			}
		})
	}
}

func TestAllowInvalidCertificates(t *testing.T) {
	t.Parallel()
	a := newAppliance(t)
	opts := a.Options()
	opts.RootCAs = nil
	opts.AllowInvalidCerts = true
	c := beyondtrust.NewClient(opts, nil)
	if err := c.CheckTLS(t.Context()); err != nil {
		t.Errorf("CheckTLS with Allow Invalid Certificates: %v", err)
	}
	if _, err := c.APIInfo(t.Context()); err != nil {
		t.Errorf("APIInfo with Allow Invalid Certificates: %v", err)
	}
	opts.AllowInvalidCerts = false
	err := beyondtrust.NewClient(opts, nil).CheckTLS(t.Context())
	var e *beyondtrust.Error
	if !errors.As(err, &e) || e.Kind != beyondtrust.KindCertificate {
		t.Errorf("CheckTLS of a self-signed certificate: %v, want a certificate error", err)
	}
	if err := beyondtrust.NewClient(a.Options(), nil).CheckTLS(t.Context()); err != nil {
		t.Errorf("CheckTLS with the simulator's roots: %v", err)
	}
}

func TestNoDataInEveryLocale(t *testing.T) {
	t.Parallel()
	a := newAppliance(t)
	for _, locale := range []string{"en-us", "fr-fr", "de", "es", "it", "nl", "pt-br", "sv", "ja", "zh-hans"} {
		opts := a.Options()
		opts.Locale = locale
		c := beyondtrust.NewClient(opts, nil)
		_, err := c.Session(t.Context(), "ffffffffffffffffffffffffffffffff")
		if !errors.Is(err, beyondtrust.ErrNotFound) {
			t.Errorf("locale %s: got %v, want ErrNotFound from the localized no-data answer %q", locale, err, bttest.NoDataMessage(locale))
		}
		surveys, err := c.ExitSurveys(t.Context(), beyondtrust.CustomerSurvey, a.Now().Add(-time.Hour), 0)
		if err != nil || len(surveys) != 0 {
			t.Errorf("locale %s: surveys %v, %v; want none", locale, surveys, err)
		}
	}
}

func TestEndedSinceAndSurveys(t *testing.T) {
	t.Parallel()
	clock := bttest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	a := newAppliance(t, bttest.WithClock(clock.Now))
	start := a.Now()
	ended := script(a)
	open := a.Begin(bttest.SessionSpec{Rep: bttest.Rep{ID: "1", DisplayName: "Priya"}}).LSID()
	c := beyondtrust.NewClient(a.Options(), nil)

	list, err := c.EndedSince(t.Context(), start)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].LSID != ended {
		t.Errorf("EndedSince = %+v, want only the ended session %s (not %s)", list, ended, open)
	}
	later, err := c.EndedSince(t.Context(), a.Now().Add(time.Second))
	if err != nil || len(later) != 0 {
		t.Errorf("EndedSince(after the end) = %+v, %v; want none", later, err)
	}

	surveys, err := c.ExitSurveys(t.Context(), beyondtrust.CustomerSurvey, start, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(surveys) != 1 || surveys[0].LSID != ended || surveys[0].Survey.Answers[1].Value != "Great\nthanks" || surveys[0].Survey.Answers[0].Label != "Rating" {
		t.Errorf("customer surveys = %+v", surveys)
	}
	reps, err := c.ExitSurveys(t.Context(), beyondtrust.RepSurvey, start, time.Hour)
	if err != nil || len(reps) != 0 {
		t.Errorf("rep surveys = %+v, %v; want none", reps, err)
	}
	info, err := c.APIInfo(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !info.Timestamp.Equal(a.Now()) || !info.HasReporting() || !info.HasFullCommand() {
		t.Errorf("api info = %+v, want the appliance clock %v and full permissions", info, a.Now())
	}
}

func TestSetSessionAttributes(t *testing.T) {
	t.Parallel()
	a := newAppliance(t)
	l := a.Begin(bttest.SessionSpec{Rep: bttest.Rep{ID: "1", DisplayName: "Priya"}})
	c := beyondtrust.NewClient(a.Options(), nil)
	key := "T123"
	if err := c.SetSessionAttributes(t.Context(), l.LSID(), &key, map[string]string{"ticket_id": "42"}); err != nil {
		t.Fatal(err)
	}
	s, _ := a.Session(l.LSID())
	if v, _ := s.Attribute("ticket_id"); s.ExternalKey != "T123" || v != "42" {
		t.Errorf("external key %q, ticket_id %q", s.ExternalKey, v)
	}
}

func TestThirtyFirstTokenRevokesOldest(t *testing.T) {
	t.Parallel()
	a := newAppliance(t)
	var first *beyondtrust.Client
	for i := 0; i < 31; i++ {
		c := beyondtrust.NewClient(a.Options(), nil) // private caches: 31 tokens
		if err := c.Token(t.Context()); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = c
		}
	}
	if n := a.ValidTokens(bttest.DefaultClientID); n != 30 {
		t.Errorf("%d valid tokens, want 30", n)
	}
	// The first client's token was revoked: its next call is refused once,
	// then succeeds with a new token.
	if _, err := first.APIInfo(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := a.Calls("get_api_info"); n != 2 {
		t.Errorf("%d get_api_info calls, want 2 (revoked token refused, retried)", n)
	}
}

func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestErrorText(t *testing.T) {
	t.Parallel()
	err := &beyondtrust.Error{Kind: beyondtrust.KindServer, Op: "SupportSession", Status: 502, Detail: "bad gateway"}
	if got, want := err.Error(), "beyondtrust: SupportSession: appliance server error (HTTP 502): bad gateway"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := fmt.Sprint(beyondtrust.ErrorKind(99)); got != "error kind 99" {
		t.Errorf("unknown kind prints %q", got)
	}
}

func x509Empty() *x509.CertPool { return x509.NewCertPool() }
