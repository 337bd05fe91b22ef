package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"switchboard/plugins/autotask/autotasktest"
)

// buildEngine compiles cmd/switchboard for the harness to run, without
// the race detector even under go test -race: the engine hashes with bcrypt
// at every start and on every API call, which the detector slows from a
// quarter of a second to twenty.
func buildEngine(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the harness builds the engine with the go command: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "switchboard")
	cmd := exec.Command(goBin, "build", "-o", bin, "switchboard/cmd/switchboard")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the engine: %v\n%s", err, out)
	}
	return bin
}

// TestCrashHarness is the short version of the crash harness that CI runs:
// 60 sessions, the engine SIGKILLed 5 times, a few Autotask answers lost
// after the write. Nothing acknowledged may be lost, nothing written twice.
func TestCrashHarness(t *testing.T) {
	o := defaultOptions()
	o.engine = buildEngine(t)
	o.dataDir = t.TempDir()
	o.sessions, o.kills = 60, 5
	o.faults = autotasktest.RandomFaults{ServerError: 0.03, AfterWrite: 1}
	o.drain = 5 * time.Minute
	var progress strings.Builder
	o.progress = &progress
	r, err := run(context.Background(), o)
	var out strings.Builder
	if r != nil {
		r.print(&out)
	}
	t.Log("\n" + out.String())
	if err != nil {
		t.Log(progress.String())
		if log, rerr := os.ReadFile(filepath.Join(o.dataDir, "engine.log")); rerr == nil {
			t.Logf("engine.log (last 4 kB):\n%s", tail(string(log), 4096))
		}
		t.Fatal(err)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
