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
	done := make(chan error, 1)
	go func() {
		done <- simulate(ctx, []string{
			"--appliance-addr", "127.0.0.1:0", "--autotask-addr", "127.0.0.1:0",
			"--outbound-url", srv.IntakeURL() + "/ERSPost?appliance=" + engine.DefaultApplianceID,
			"--every", "400ms", "--sessions", "1", "--retry-interval", "100ms",
		}, w, io.Discard)
		w.Close()
	}()
	lines := bufio.NewScanner(out)
	var body strings.Builder
	for in := false; lines.Scan(); {
		line := lines.Text()
		switch {
		case strings.HasSuffix(line, "<<'EOF'"):
			in = true
			continue
		case line == "EOF":
			in = false
		}
		if in {
			body.WriteString(line + "\n")
		}
		if line == "EOF" {
			break
		}
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
			report = report || (d.EventName == engine.EventSessionEnd && d.Checkpoint["note:report"] != "")
			ticket = ticket || (d.EventName == engine.EventMemberAdded && d.Checkpoint["ticket"] != "")
		}
		if report && ticket {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no ticket and report after 60s; done deliveries: %+v", ds)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("simulate: %v", err)
	}
}
