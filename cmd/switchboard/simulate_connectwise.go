package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"switchboard/plugins/connectwise/connectwisetest"
)

// cwSimFlags are simulate's flags for the optional ConnectWise simulator.
type cwSimFlags struct {
	addr   *string
	faults connectwisetest.RandomFaults
}

func addConnectWiseFlags(fs *flag.FlagSet) *cwSimFlags {
	f := &cwSimFlags{addr: fs.String("connectwise-addr", "", "also run a simulated ConnectWise PSA on this address (HTTP), e.g. 127.0.0.1:8881; empty: none")}
	fs.Float64Var(&f.faults.ServerError, "connectwise-5xx", 0, "share of ConnectWise requests answered 500 (0 to 1)")
	fs.Float64Var(&f.faults.AfterWrite, "connectwise-after-write", 0.5, "share of those 500s given after the request was carried out")
	fs.Float64Var(&f.faults.TooMany, "connectwise-429", 0, "share of ConnectWise requests answered 429 by its front end")
	fs.StringVar(&f.faults.RetryAfter, "connectwise-retry-after", "", "Retry-After of those 429s, in seconds (empty: none sent)")
	fs.Float64Var(&f.faults.Slow, "connectwise-slow", 0, "share of ConnectWise requests held for --connectwise-slow-delay")
	fs.DurationVar(&f.faults.SlowDelay, "connectwise-slow-delay", 0, "how long a slow request is held (default 5s)")
	return f
}

// startConnectWise starts the ConnectWise simulator when asked to and
// prints how to point a configuration at it; close stops it.
func (f *cwSimFlags) start(w io.Writer, seed uint64, applianceHost, clientID, clientSecret, adminURL string) (close func(), err error) {
	if *f.addr == "" {
		return func() {}, nil
	}
	f.faults.Seed = seed
	cw, err := connectwisetest.StartWithFaults(*f.addr, connectwisetest.Options{}, f.faults)
	if err != nil {
		return nil, fmt.Errorf("start the simulated ConnectWise PSA: %w", err)
	}
	in := connectwiseDemoConfig(applianceHost, clientSecret, cw.URL)
	var app, settings map[string]any
	_ = json.Unmarshal(in.Appliance, &app)
	_ = json.Unmarshal(in.Settings, &settings)
	app["name"] = "Simulated appliance and ConnectWise PSA"
	app["client_id"] = clientID
	app["allow_invalid_certificates"] = true
	rf := f.faults
	fmt.Fprintf(w, "\n  ConnectWise PSA  %s  (company %s; faults: %.0f%% 500 of which %.0f%% after the write, %.0f%% 429, %.0f%% slow)\n",
		cw.APIRoot(), connectwisetest.DefaultCompany, 100*rf.ServerError, 100*rf.AfterWrite, 100*rf.TooMany, 100*rf.Slow)
	var body strings.Builder
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	enc.SetIndent("  ", "  ")
	_ = enc.Encode(map[string]any{"plugin": in.Plugin, "appliance": app, "settings": settings})
	fmt.Fprintf(w, "A ConnectWise configuration for it, through the JSON API:\n")
	fmt.Fprintf(w, "  curl -u admin:PASSWORD -H 'Content-Type: application/json' %s/api/v1/configurations --data-binary @- <<'CW'\n  %sCW\n", adminURL, body.String())
	return cw.Close, nil
}
