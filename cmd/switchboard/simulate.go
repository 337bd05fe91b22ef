package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"switchboard/engine"
	"switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/plugins/autotask/autotasktest"
)

// simulate runs the appliance and Autotask simulators standalone, so that
// a separately running `switchboard serve` can be tried without a real
// appliance or tenant, optionally against a flaky tenant. It plays support
// sessions whose outbound events go to the engine's intake.
func simulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	applianceAddr := fs.String("appliance-addr", "127.0.0.1:8443", "listen address of the simulated appliance (HTTPS, self-signed)")
	autotaskAddr := fs.String("autotask-addr", "127.0.0.1:8880", "listen address of the simulated Autotask tenant (HTTP)")
	outbound := fs.String("outbound-url", "http://127.0.0.1:8180/ERSPost?appliance="+engine.DefaultApplianceID, "where the appliance posts its outbound events: the engine's intake")
	adminURL := fs.String("admin-url", "http://127.0.0.1:53231", "the engine's admin listener, for the printed API command")
	clientID := fs.String("client-id", "switchboard-sim", "the appliance's API account")
	clientSecret := fs.String("client-secret", "", "its secret (default: random, printed)")
	every := fs.Duration("every", time.Minute, "play a support session this often (0: none; script your own)")
	sessions := fs.Int("sessions", 0, "stop playing after this many sessions (0: no limit)")
	retry := fs.Duration("retry-interval", 10*time.Second, "the appliance's Retry Interval: how soon an event not answered 200 is sent again")
	seed := fs.Uint64("seed", 1, "seed of the random Autotask faults, to repeat a run")
	rf := autotasktest.RandomFaults{}
	fs.Float64Var(&rf.ServerError, "autotask-5xx", 0, "share of Autotask requests answered 500 (0 to 1)")
	fs.Float64Var(&rf.AfterWrite, "autotask-after-write", 0.5, "share of those 500s given after the request was carried out")
	fs.Float64Var(&rf.TooMany, "autotask-429", 0, "share of Autotask requests answered 429 with Retry-After")
	fs.StringVar(&rf.RetryAfter, "autotask-retry-after", "1", "Retry-After of those 429s, in seconds")
	fs.Float64Var(&rf.Timeout, "autotask-timeout", 0, "share of Autotask requests carried out and then left unanswered for --autotask-timeout-delay")
	fs.DurationVar(&rf.TimeoutDelay, "autotask-timeout-delay", time.Minute, "how long a timed-out request is held (the plugin gives up after 30s)")
	cwFlags := addConnectWiseFlags(fs)
	siemFlags := addSIEMFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	rf.Seed = *seed
	if err := rf.Validate(); err != nil {
		return err
	}
	if err := cwFlags.faults.Validate(); err != nil {
		return err
	}
	target, err := url.Parse(*outbound)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return fmt.Errorf("--outbound-url %q: give the engine's intake URL, e.g. http://127.0.0.1:8180/ERSPost?appliance=Default", *outbound)
	}
	if *clientSecret == "" {
		*clientSecret = randomHex(16)
	}

	appliance, err := bttest.Serve(*applianceAddr, bttest.WithAccount(bttest.Account{
		ClientID: *clientID, ClientSecret: *clientSecret, Reporting: true, Command: "full",
	}))
	if err != nil {
		return fmt.Errorf("start the simulated appliance: %w", err)
	}
	defer appliance.Close()
	psa, err := autotasktest.StartWithFaults(*autotaskAddr, autotasktest.Options{}, rf)
	if err != nil {
		return fmt.Errorf("start the simulated Autotask: %w", err)
	}
	defer psa.Close()
	// The appliance keeps retrying the head event for its Retry Duration
	// (an hour by default) before dropping it.
	sender := appliance.SendOutbound(target.String(), bttest.RetryInterval(*retry))

	cfg, err := simulatorConfig(appliance.Host(), *clientID, *clientSecret, psa.RESTRoot())
	if err != nil {
		return err
	}
	printSimulators(stdout, simulatorInfo{
		appliance: appliance, psa: psa, clientID: *clientID, clientSecret: *clientSecret,
		outbound: target.String(), adminURL: strings.TrimSuffix(*adminURL, "/"), retry: *retry, faults: rf, config: cfg,
	})
	closeCW, err := cwFlags.start(stdout, *seed, appliance.Host(), *clientID, *clientSecret, strings.TrimSuffix(*adminURL, "/"))
	if err != nil {
		return err
	}
	defer closeCW()
	closeSIEM, err := siemFlags.start(stdout, appliance.Host(), *clientID, *clientSecret, strings.TrimSuffix(*adminURL, "/"))
	if err != nil {
		return err
	}
	defer closeSIEM()

	if *every <= 0 {
		fmt.Fprintln(stdout, "\nNo sessions are played (--every 0). Press Ctrl-C to stop.")
		<-ctx.Done()
		return nil
	}
	fmt.Fprintf(stdout, "\nPlaying a support session every %s, the first one %s from now (events posted before a\nconfiguration exists are kept as unrouted). Press Ctrl-C to stop.\n", *every, *every)
	// A session ends half an interval after it starts, so that the ticket
	// is created (and its number written into the session) while the
	// session runs, as with a real one.
	tick := time.NewTicker(*every / 2)
	defer tick.Stop()
	wait := func() bool {
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
			return true
		}
	}
	if !wait() { // the first session starts a whole interval from now
		return nil
	}
	for n := 1; *sessions == 0 || n <= *sessions; n++ {
		if !wait() {
			return nil
		}
		end := beginSession(appliance, n)
		if !wait() {
			return nil
		}
		fmt.Fprintf(stdout, "%s  session %d (%s) ended; %d outbound events wait for a 200\n", time.Now().Format(time.TimeOnly), n, end(), sender.Pending())
		if line := siemFlags.report(); line != "" {
			fmt.Fprintf(stdout, "%s  %s\n", time.Now().Format(time.TimeOnly), line)
		}
	}
	fmt.Fprintf(stdout, "Played %d sessions. Press Ctrl-C to stop.\n", *sessions)
	<-ctx.Done()
	return nil
}

// simulatorConfig is the demo's configuration pointed at standalone
// simulators: the engine runs in another process, so it accepts the
// appliance's self-signed certificate instead of being handed it.
func simulatorConfig(host, clientID, secret, restRoot string) (map[string]any, error) {
	in := demoConfig(host, secret, restRoot)
	var app, settings map[string]any
	if err := json.Unmarshal(in.Appliance, &app); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(in.Settings, &settings); err != nil {
		return nil, err
	}
	app["name"] = "Simulated appliance and Autotask"
	app["client_id"] = clientID
	app["allow_invalid_certificates"] = true
	return map[string]any{"plugin": in.Plugin, "appliance": app, "settings": settings}, nil
}

type simulatorInfo struct {
	appliance              *bttest.Appliance
	psa                    *autotasktest.Server
	clientID, clientSecret string
	outbound, adminURL     string
	retry                  time.Duration
	faults                 autotasktest.RandomFaults
	config                 map[string]any
}

func printSimulators(w io.Writer, s simulatorInfo) {
	app, _ := s.config["appliance"].(map[string]any)
	set, _ := s.config["settings"].(map[string]any)
	f := s.faults
	fmt.Fprintf(w, "Switchboard simulators\n")
	fmt.Fprintf(w, "  appliance  https://%s  (Remote Support, self-signed certificate)\n", s.appliance.Host())
	fmt.Fprintf(w, "  Autotask   %s  (faults: %.0f%% 500 of which %.0f%% after the write, %.0f%% 429, %.0f%% timeouts; seed %d)\n",
		s.psa.URL, 100*f.ServerError, 100*f.AfterWrite, 100*f.TooMany, 100*f.Timeout, f.Seed)
	fmt.Fprintf(w, "\nPoint an Autotask configuration at them (admin UI > Configurations > New, Autotask PSA):\n")
	rows := [][2]string{
		{"Appliance Id", fmt.Sprint(app["appliance_id"])},
		{"B Series Appliance Host Name", s.appliance.Host()},
		{"Integration API OAuth Client ID", s.clientID},
		{"Integration API OAuth Client Secret", s.clientSecret},
		{"Allow Invalid Certificates", "on"},
		{"Outbound Event Types", "all four"},
		{"Autotask Services URL", s.psa.RESTRoot()},
		{"Autotask Username", autotasktest.DefaultUsername},
		{"Autotask Password", autotasktest.DefaultSecret},
		{"API Integration Code", autotasktest.DefaultIntegrationCode},
		{"Update Time Entry", "on, Time Entry Default Data " + fmt.Sprint(set["time_entry_defaults"])},
		{"Automatic Ticket Creation", "both on, Ticket Default Data " + fmt.Sprint(set["ticket_defaults"])},
	}
	for _, r := range rows {
		fmt.Fprintf(w, "  %-37s %s\n", r[0], r[1])
	}
	var body strings.Builder
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false) // the contact expression's <<…>> stays readable
	enc.SetIndent("  ", "  ")
	_ = enc.Encode(s.config)
	fmt.Fprintf(w, "\nor create it through the JSON API (with an admin's password):\n")
	fmt.Fprintf(w, "  curl -u admin:PASSWORD -H 'Content-Type: application/json' %s/api/v1/configurations --data-binary @- <<'EOF'\n  %sEOF\n", s.adminURL, body.String())
	fmt.Fprintf(w, "\nThe appliance posts its outbound events to %s\n", s.outbound)
	fmt.Fprintf(w, "(its HTTP recipient URL; run `switchboard serve` with the matching --intake-addr). Like a real\n")
	fmt.Fprintf(w, "appliance it sends them in order and retries the first unanswered one every %s.\n", s.retry)
}

// simCustomers are the people sessions are played for: two are contacts of
// the simulated tenant (matched by the customer_email custom field), one
// is not (the ticket gets the default contact).
var simCustomers = []struct {
	name, email, company, issue string
}{
	{"Jane Doe", "jane.doe@contoso.example", "Contoso Ltd", "Printer offline"},
	{"John Roe", "john.roe@fabrikam.example", "Fabrikam Inc", "Mail not syncing"},
	{"Sam Walk-in", "sam@example.org", "", "VPN drops every hour"},
}

// beginSession starts the n-th session (its begin and member events queue
// on the appliance's sender) and returns what ends it: the chat, the end
// and the customer's exit survey. The end returns the session's lsid.
func beginSession(a *bttest.Appliance, n int) (end func() string) {
	c := simCustomers[(n-1)%len(simCustomers)]
	rep := bttest.Rep{ID: "7", Username: "alice", DisplayName: "Alice Tech", Hostname: "MSP-DESK-1", OS: "Windows 11 Pro"}
	if n%2 == 0 {
		rep = bttest.Rep{ID: "8", Username: "bob", DisplayName: "Bob Senior", Hostname: "MSP-DESK-2", OS: "Windows 11 Pro"}
	}
	live := a.Begin(bttest.SessionSpec{
		Customer: &bttest.Customer{Name: c.name, Hostname: fmt.Sprintf("PC-%03d", n), OS: "Windows 11 Pro", Company: c.company, Issue: c.issue, Details: c.issue + " since this morning."},
		Rep:      rep,
		Custom:   []beyondtrust.CustomAttribute{{CodeName: "customer_email", DisplayName: "Customer Email", Value: c.email}},
		// The Afters of end: the session ends about now, by the host's
		// clock, however often sessions are played.
		StartedAgo: 6 * time.Minute,
	})
	return func() string {
		live.After(time.Minute).Chat(rep.DisplayName, "Hi, I'm connected and looking at it now.").
			After(4*time.Minute).Note(rep.DisplayName, "Fixed: "+strings.ToLower(c.issue)+".").
			After(time.Minute).End().
			CustomerSurvey(beyondtrust.SurveyAnswer{Name: "rating", Label: "How satisfied are you?", Value: fmt.Sprint(3 + n%3)})
		return live.LSID()
	}
}
