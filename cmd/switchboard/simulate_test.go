package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/server"
	"switchboard/engine/service"
	"switchboard/plugins"
)

// TestSimulateConfigurationWorks follows simulate's printed instructions:
// an engine in this process gets the printed configuration, the simulators
// post to the printed recipient URL, and the played session's report
// reaches the simulated ticket.
func TestSimulateConfigurationWorks(t *testing.T) {
	t.Parallel()
	followSimulate(t, nil, "EOF", "ticket", "note:report")
}

// TestSimulateConnectWise does the same with the ConnectWise simulator's
// printed configuration: its ticket, report and time entry are written.
func TestSimulateConnectWise(t *testing.T) {
	t.Parallel()
	followSimulate(t, []string{"--connectwise-addr", "127.0.0.1:0"}, "CW", "ticket", "note:report", "time_entry")
}

// TestSimulateSIEM does the same with the Splunk HEC receiver's printed
// configuration: the member event goes out as it arrives, the report's
// events at the session end.
func TestSimulateSIEM(t *testing.T) {
	t.Parallel()
	followSimulate(t, []string{"--siem-hec-addr", "127.0.0.1:0"}, "SIEM-HEC", "sent", "sent")
}

// followSimulate runs simulate with args for one session against an
// engine in this process, creates the configuration printed in the
// here-document ending with the line end, and waits for a member-added
// delivery whose checkpoint holds member (a ticket, events sent) and a
// session end whose checkpoint holds every key in done.
func followSimulate(t *testing.T, args []string, end, member string, done ...string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := server.New(ctx, server.Options{
		DataDir: t.TempDir(), IntakeAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		Plugins: plugins.All(), AdminPassword: "simulate-test-password",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
	})

	out, w := io.Pipe()
	finished := make(chan error, 1)
	go func() {
		finished <- simulate(ctx, append([]string{
			"--appliance-addr", "127.0.0.1:0", "--autotask-addr", "127.0.0.1:0",
			"--outbound-url", srv.IntakeURL() + "/ERSPost?appliance=" + engine.DefaultApplianceID,
			"--every", "400ms", "--sessions", "1", "--retry-interval", "100ms",
		}, args...), w, io.Discard)
		w.Close()
	}()
	lines := bufio.NewScanner(out)
	var body strings.Builder
	for in := false; lines.Scan(); {
		line := lines.Text()
		if in && line == end {
			break
		}
		if in {
			body.WriteString(line + "\n")
		}
		in = in || strings.HasSuffix(line, "<<'"+end+"'")
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	var printed struct {
		Plugin    string          `json:"plugin"`
		Appliance json.RawMessage `json:"appliance"`
		Settings  json.RawMessage `json:"settings"`
	}
	if err := json.Unmarshal([]byte(body.String()), &printed); err != nil {
		t.Fatalf("the printed configuration is not JSON: %v\n%s", err, body.String())
	}
	if _, err := srv.Service.CreateConfig(ctx, "test", service.ConfigInput{Plugin: printed.Plugin, Appliance: printed.Appliance, Settings: printed.Settings}); err != nil {
		t.Fatalf("the engine refuses the printed configuration: %v", err)
	}

	deadline := time.Now().Add(60 * time.Second)
	for {
		ds, err := srv.Service.Deliveries(ctx, service.DeliveryFilter{State: "done", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var report, ticket bool
		for _, d := range ds {
			all := d.EventName == engine.EventSessionEnd
			for _, k := range done {
				all = all && d.Checkpoint[k] != ""
			}
			report = report || all
			ticket = ticket || (d.EventName == engine.EventMemberAdded && d.Checkpoint[member] != "")
		}
		if report && ticket {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s and report after 60s; done deliveries: %+v", member, ds)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-finished; err != nil {
		t.Errorf("simulate: %v", err)
	}
}
