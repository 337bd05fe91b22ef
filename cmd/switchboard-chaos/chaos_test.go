package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/engine/store/pgtest"
	"switchboard/plugins/autotask/autotasktest"
)

// binDir holds the engine the tests build, once for all of them.
var binDir string

func TestMain(m *testing.M) {
	d, err := os.MkdirTemp("", "switchboard-chaos-bin-")
	if err != nil {
		panic(err)
	}
	binDir = d
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}

var build struct {
	sync.Mutex
	bin string
	out []byte
	err error
}

// buildEngine compiles cmd/switchboard for the harness to run, once per
// test binary, without the race detector even under go test -race: the
// engine hashes with bcrypt at every start and on every API call, which the
// detector slows from a quarter of a second to twenty.
func buildEngine(t *testing.T) string {
	t.Helper()
	build.Lock()
	defer build.Unlock()
	if build.bin == "" && build.err == nil {
		goBin, err := exec.LookPath("go")
		if err != nil {
			t.Fatalf("the harness builds the engine with the go command: %v", err)
		}
		bin := filepath.Join(binDir, "switchboard")
		build.out, build.err = exec.Command(goBin, "build", "-o", bin, "switchboard/cmd/switchboard").CombinedOutput()
		if build.err == nil {
			build.bin = bin
		}
	}
	if build.err != nil {
		t.Fatalf("build the engine: %v\n%s", build.err, build.out)
	}
	return build.bin
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
	playHarness(t, o)
}

// TestClusterCrashHarness is the short cluster version: three engines on
// one PostgreSQL database (a fresh schema), the appliance posting to each
// in turn, an engine picked at random SIGKILLed 6 times. Without
// PostgreSQL it skips, or fails when CI=true.
func TestClusterCrashHarness(t *testing.T) {
	o := defaultOptions()
	o.database = pgtest.Server(t)
	o.engine = buildEngine(t)
	o.dataDir = t.TempDir()
	o.engines, o.sessions, o.kills = 3, 45, 6
	o.seed = 3
	o.faults = autotasktest.RandomFaults{ServerError: 0.03, AfterWrite: 1}
	o.drain = 5 * time.Minute
	playHarness(t, o)
}

// playHarness runs the harness and fails t with its report, its progress
// and the end of each engine's log when a check fails.
func playHarness(t *testing.T, o options) {
	t.Helper()
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
		logs, _ := filepath.Glob(filepath.Join(o.dataDir, "engine.log"))
		more, _ := filepath.Glob(filepath.Join(o.dataDir, "engine-*", "engine.log"))
		for _, l := range append(logs, more...) {
			if log, rerr := os.ReadFile(l); rerr == nil {
				t.Logf("%s (last 4 kB):\n%s", l, tail(string(log), 4096))
			}
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

// Bad cluster options are refused before anything starts, and a bad
// -database URL is not echoed (it may hold a password).
func TestClusterOptionsRefused(t *testing.T) {
	o := defaultOptions()
	o.engines = 2
	if err := o.validate(); err == nil || !strings.Contains(err.Error(), "-database") {
		t.Fatalf("two engines on SQLite: %v", err)
	}
	for _, bad := range []string{"mysql://u:hunter2@h/db", "postgres://u:hunter2@/db", "postgres://u:hunter2@%zz/db"} {
		_, err := newPGSchema(context.Background(), bad)
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: %v", bad, err)
		}
	}
	o.engines = 0
	if err := o.validate(); err == nil {
		t.Fatal("zero engines accepted")
	}
}
