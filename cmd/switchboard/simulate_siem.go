package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"switchboard/plugins/siem"
	"switchboard/plugins/siem/siemtest"
)

// siemSimFlags are simulate's flags for the optional SIEM receivers.
type siemSimFlags struct {
	hec, elastic, sekoia, syslog *string
	// held reports what the started receivers hold, after each session.
	held []func() string
}

func addSIEMFlags(fs *flag.FlagSet) *siemSimFlags {
	return &siemSimFlags{
		hec:     fs.String("siem-hec-addr", "", "also run a Splunk HEC receiver on this address (HTTP), e.g. 127.0.0.1:8088; empty: none"),
		elastic: fs.String("siem-elastic-addr", "", "also run an Elasticsearch bulk receiver on this address (HTTP), e.g. 127.0.0.1:9200; empty: none"),
		sekoia:  fs.String("siem-sekoia-addr", "", "also run a Sekoia.io HTTP intake receiver on this address (HTTP), e.g. 127.0.0.1:8889; empty: none"),
		syslog:  fs.String("siem-syslog-addr", "", "also run a syslog receiver (TCP, octet counting) on this address, e.g. 127.0.0.1:6601; empty: none"),
	}
}

// start starts the receivers asked for and prints, for each, the SIEM
// configuration that forwards to it; close stops them.
func (f *siemSimFlags) start(w io.Writer, applianceHost, clientID, clientSecret, adminURL string) (close func(), err error) {
	var closers []func()
	close = func() {
		for _, c := range closers {
			c()
		}
	}
	add := func(name, dest, target, end string, held func() int, stop func()) {
		closers = append(closers, stop)
		f.held = append(f.held, func() string { return fmt.Sprintf("%s %d", name, held()) })
		printSIEMConfig(w, name, target, siemDemoSettings(dest, target), applianceHost, clientID, clientSecret, adminURL, end)
	}
	if *f.hec != "" {
		r, err := siemtest.NewHEC(siemtest.HECOptions{Addr: *f.hec, Token: siemtest.DefaultHECToken})
		if err != nil {
			close()
			return nil, fmt.Errorf("start the Splunk HEC receiver: %w", err)
		}
		add("Splunk HEC", siem.DestHEC, r.URL, "SIEM-HEC", func() int { return len(r.Events()) }, r.Close)
	}
	if *f.elastic != "" {
		r, err := siemtest.NewElastic(siemtest.ElasticOptions{Addr: *f.elastic, APIKey: siemtest.DefaultAPIKey})
		if err != nil {
			close()
			return nil, fmt.Errorf("start the Elastic receiver: %w", err)
		}
		add("Elastic", siem.DestElastic, r.URL, "SIEM-ELASTIC", r.Held, r.Close)
	}
	if *f.sekoia != "" {
		r, err := siemtest.NewSekoia(siemtest.SekoiaOptions{Addr: *f.sekoia, IntakeKey: siemtest.DefaultIntakeKey})
		if err != nil {
			close()
			return nil, fmt.Errorf("start the Sekoia.io receiver: %w", err)
		}
		add("Sekoia.io", siem.DestSekoia, r.URL, "SIEM-SEKOIA", r.Held, r.Close)
	}
	if *f.syslog != "" {
		r, err := siemtest.NewSyslog(siemtest.SyslogOptions{Transport: siem.TransportTCP, Addr: *f.syslog})
		if err != nil {
			close()
			return nil, fmt.Errorf("start the syslog receiver: %w", err)
		}
		add("syslog", siem.DestSyslog, r.Addr, "SIEM-SYSLOG", func() int { return len(r.Messages()) }, r.Close)
	}
	return close, nil
}

// report is one line of what the receivers hold, "" when none runs.
func (f *siemSimFlags) report() string {
	var parts []string
	for _, h := range f.held {
		parts = append(parts, h())
	}
	if len(parts) == 0 {
		return ""
	}
	return "SIEM receivers hold (events): " + strings.Join(parts, ", ")
}

func printSIEMConfig(w io.Writer, name, target string, settings map[string]any, applianceHost, clientID, clientSecret, adminURL, end string) {
	in := siemDemoConfig(applianceHost, clientSecret, settings)
	var app map[string]any
	_ = json.Unmarshal(in.Appliance, &app)
	app["name"] = "Simulated appliance to " + name
	app["client_id"] = clientID
	app["allow_invalid_certificates"] = true
	var body strings.Builder
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	enc.SetIndent("  ", "  ")
	_ = enc.Encode(map[string]any{"plugin": in.Plugin, "appliance": app, "settings": settings})
	fmt.Fprintf(w, "\n  %-16s %s\n", name, target)
	fmt.Fprintf(w, "A SIEM configuration forwarding to it, through the JSON API:\n")
	fmt.Fprintf(w, "  curl -u admin:PASSWORD -H 'Content-Type: application/json' %s/api/v1/configurations --data-binary @- <<'%s'\n  %s%s\n", adminURL, end, body.String(), end)
}
