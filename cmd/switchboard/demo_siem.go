package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"switchboard/engine"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/server"
	"switchboard/engine/service"
	"switchboard/engine/sources/pmcloud"
	"switchboard/engine/sources/pmcloud/pmcloudtest"
	"switchboard/plugins/siem"
	"switchboard/plugins/siem/siemtest"
)

// startSIEMDemo starts a local Splunk HEC receiver and a SIEM
// configuration that forwards to it, member events as they arrive and
// the report's events at the session end.
func startSIEMDemo(appliance *bttest.Appliance, secret string, out io.Writer, timeout time.Duration) (*demoTarget, error) {
	hec, err := siemtest.NewHEC(siemtest.HECOptions{Token: siemtest.DefaultHECToken})
	if err != nil {
		return nil, fmt.Errorf("start the Splunk HEC receiver: %w", err)
	}
	// A PM Cloud tenant whose endpoint events the SOC wants too.
	pm := pmcloudtest.New("switchboard-demo", secret)
	now := time.Now()
	for i, id := range []string{"7d3a1c52-demo-0001", "7d3a1c52-demo-0002", "7d3a1c52-demo-0003"} {
		if err := pm.Add(pmcloudtest.Event(id, now.Add(time.Duration(i-10)*time.Minute))); err != nil {
			pm.Close()
			hec.Close()
			return nil, err
		}
	}
	p := &siemPlayer{player: player{out: out, appliance: appliance, timeout: timeout}, hec: hec}
	return &demoTarget{name: "Splunk HEC", url: hec.URL + "/services/collector/event", config: siemDemoConfig(appliance.Host(), secret, siemDemoSettings(siem.DestHEC, hec.URL)),
		play: p.play, close: func() { pm.Close(); hec.Close() }, sourcesHTTP: pm.Client(),
		started: func(ctx context.Context, srv *server.Server, cfg service.Config) (string, error) {
			set, _ := json.Marshal(map[string]any{
				"name": "Demo: Contoso endpoints (PM Cloud)", "services_url": pm.ServicesURL(), "client_id": "switchboard-demo",
				"client_secret": secret, "interval": 30, "deliver_to": []string{cfg.Name},
			})
			if _, err := srv.Service.CreateSource(ctx, "demo", service.SourceInput{Kind: pmcloud.Source, Settings: set}); err != nil {
				return "", fmt.Errorf("create the demo PM Cloud source: %w", err)
			}
			return fmt.Sprintf("  simulated PM Cloud   %s  (source \"Demo: Contoso endpoints (PM Cloud)\", 3 events)\n", pm.ServicesURL()), nil
		}}, nil
}

// siemDemoSettings are a SIEM configuration's settings for one of the
// siemtest receivers: ECS JSON, outbound events forwarded as they arrive.
func siemDemoSettings(dest, target string) map[string]any {
	s := map[string]any{"destination": dest, "format": siem.FormatECS, "forward_outbound": true, "test_send_event": false}
	switch dest {
	case siem.DestHEC:
		s["url"], s["credential"] = target, siemtest.DefaultHECToken
	case siem.DestElastic:
		s["url"], s["credential"] = target, siemtest.DefaultAPIKey
	case siem.DestSekoia:
		s["url"], s["credential"] = target, siemtest.DefaultIntakeKey
	case siem.DestSyslog:
		s["syslog_transport"], s["syslog_address"] = siem.TransportTCP, target
	}
	return s
}

func siemDemoConfig(host, secret string, settings map[string]any) service.ConfigInput {
	events := []string{engine.EventMemberAdded, engine.EventMemberDeparted, engine.EventSessionEnd}
	app, _ := json.Marshal(map[string]any{
		"name": "Demo: session activity to the SOC", "appliance_id": engine.DefaultApplianceID, "host": host,
		"client_id": "switchboard-demo", "client_secret": secret, "product": engine.ProductRemoteSupport,
		"outbound_events": events, "retry_outbound_events": events, "retry_attempt_limit": 3,
	})
	set, _ := json.Marshal(settings)
	return service.ConfigInput{Plugin: siem.ID, Appliance: app, Settings: set}
}

// siemPlayer plays the demo session and watches the HEC receiver.
type siemPlayer struct {
	player
	hec *siemtest.HEC
}

func (p *siemPlayer) play(ctx context.Context) bool {
	fmt.Fprintln(p.out, "Playing a support session: Jane Doe asks for help, Alice joins, they chat, Alice uploads a tool, the session ends.")
	live := p.appliance.Begin(bttest.SessionSpec{
		Customer: &bttest.Customer{Name: "Jane Doe", Username: "jdoe", Hostname: "CONTOSO-LT-042", OS: "Windows 11 Pro",
			PublicIP: "203.0.113.10:50312", PrivateIP: "10.0.4.42", Issue: "Printer offline"},
		Rep:        bttest.Rep{ID: "7", Username: "alice", DisplayName: "Alice Tech", Hostname: "MSP-DESK-1", OS: "Windows 11 Pro"},
		StartedAgo: 7 * time.Minute, // the Afters below: it ends now, by the host's clock
	})
	lsid := live.LSID()
	p.step(ctx, "representative joined → live event in Splunk", func() (string, bool) {
		for _, e := range p.hec.Events() {
			if f, _ := e.Envelope["fields"].(map[string]any); f["lsid"] == lsid && strings.Contains(fmt.Sprint(f["kind"]), "member_added") {
				return fmt.Sprint(f["event_id"]), true
			}
		}
		return "", false
	})
	live.After(30*time.Second).Chat("Alice Tech", "Hi Jane, I'm connected.\nLet me look at the printer queue.").
		After(time.Minute).Upload("Alice Tech", `C:\Tools\printfix.exe`, 48128).
		After(5*time.Minute).Chat("Jane Doe", "It prints again, thank you!").
		After(30 * time.Second).End()
	var last map[string]any
	p.step(ctx, "session ended → every report event and the summary in Splunk", func() (string, bool) {
		n := 0
		for _, e := range p.hec.Events() {
			if f, _ := e.Envelope["fields"].(map[string]any); f["lsid"] == lsid && f["kind"] != nil && !strings.HasPrefix(fmt.Sprint(f["kind"]), "support_conference_") {
				n++
				if f["kind"] == siem.KindSummary {
					last = e.Envelope
				}
			}
		}
		return fmt.Sprintf("%d events for session %s", n, lsid), last != nil
	})
	p.step(ctx, "PM Cloud source polled → endpoint events in Splunk", func() (string, bool) {
		n := 0
		for _, e := range p.hec.Events() {
			if f, _ := e.Envelope["fields"].(map[string]any); strings.HasPrefix(fmt.Sprint(f["event_id"]), "pmcloud:") {
				n++
			}
		}
		return fmt.Sprintf("%d PM Cloud events", n), n == 3
	})
	if !p.failed {
		for _, e := range p.hec.Events() {
			if f, _ := e.Envelope["fields"].(map[string]any); f["lsid"] == lsid && f["kind"] == "file-upload" {
				b, _ := json.MarshalIndent(e.Envelope, "", "  ")
				fmt.Fprintf(p.out, "\nThe file upload as Splunk received it:\n\n%s\n", indent(string(b)))
			}
		}
	}
	return !p.failed
}
