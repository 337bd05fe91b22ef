package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
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
