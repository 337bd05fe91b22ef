package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
)

// TestDemoConnectWise plays the demo session against the ConnectWise
// simulator: every step (ticket, external key, report note, time entry,
// survey note) must succeed.
func TestDemoConnectWise(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	err := demo(context.Background(), []string{"--once", "--plugin", "connectwise", "--data-dir", t.TempDir()}, &out, io.Discard)
	if err != nil || strings.Count(out.String(), "[ok]") != 5 || !strings.Contains(out.String(), "Every step succeeded.") {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
}

func TestDemoSIEM(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	err := demo(context.Background(), []string{"--once", "--plugin", "siem", "--data-dir", t.TempDir()}, &out, io.Discard)
	if err != nil || strings.Count(out.String(), "[ok]") != 3 || !strings.Contains(out.String(), `"file-upload"`) || !strings.Contains(out.String(), "3 PM Cloud events") {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
}

func TestDemoUnknownPlugin(t *testing.T) {
	t.Parallel()
	err := demo(context.Background(), []string{"--once", "--plugin", "servicenow"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "use autotask, connectwise or siem") {
		t.Errorf("err = %v", err)
	}
}

// TestDemoClockAgreesWithHost: each demo script plays minutes of session in
// an instant, yet the simulated appliance's clock stays the host's: its
// get_api_info timestamp is now, and the session it reports began minutes
// ago and ended now (not minutes in the future, nor long before). Steps
// fail at once (no engine here); the script plays through regardless.
func TestDemoClockAgreesWithHost(t *testing.T) {
	t.Parallel()
	for _, connector := range []string{"autotask", "connectwise", "siem"} {
		t.Run(connector, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			appliance, err := bttest.Serve("127.0.0.1:0", bttest.WithAccount(bttest.Account{
				ClientID: "demo", ClientSecret: "secret", Reporting: true, Command: "full",
			}))
			if err != nil {
				t.Fatal(err)
			}
			defer appliance.Close()
			target, err := startDemoTarget(connector, appliance, "secret", io.Discard, time.Nanosecond)
			if err != nil {
				t.Fatal(err)
			}
			defer target.close()
			before := time.Now().Truncate(time.Second)
			target.play(ctx)
			after := time.Now()

			opts := appliance.Options()
			client := beyondtrust.NewClient(opts, nil)
			info, err := client.APIInfo(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if info.Timestamp.Before(before) || info.Timestamp.After(time.Now()) {
				t.Errorf("get_api_info timestamp %s; the host's clock read %s..%s", info.Timestamp, before, after)
			}
			ended, err := client.EndedSince(ctx, before.Add(-time.Hour))
			if err != nil || len(ended) != 1 {
				t.Fatalf("sessions ended in the last hour: %+v, %v; want the demo's", ended, err)
			}
			s, err := client.Session(ctx, ended[0].LSID)
			if err != nil {
				t.Fatal(err)
			}
			// Whole seconds: the appliance reports Unix seconds.
			if s.EndTime.Before(before) || s.EndTime.After(after) {
				t.Errorf("session ended at %s; the host's clock read %s..%s", s.EndTime, before, after)
			}
			if d := s.EndTime.Sub(s.StartTime); d < 5*time.Minute || d > 10*time.Minute {
				t.Errorf("session lasted %s (%s..%s); the script plays several minutes", d, s.StartTime, s.EndTime)
			}
			for _, e := range s.Events {
				if e.Timestamp.Before(s.StartTime) || e.Timestamp.After(s.EndTime) {
					t.Errorf("event %s at %s, outside the session %s..%s", e.Type, e.Timestamp, s.StartTime, s.EndTime)
				}
			}
			if now := appliance.Now(); now.Before(before) || now.After(time.Now()) {
				t.Errorf("appliance clock %s after the demo; host %s", now, time.Now())
			}
		})
	}
}
