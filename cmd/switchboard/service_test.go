package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// TestParseService: install and run take the data dir (by default under
// ProgramData) and serve's flags after --; the other actions take nothing.
func TestParseService(t *testing.T) {
	t.Parallel()
	wd, _ := os.Getwd()
	abs := func(p string) string { return filepath.Join(wd, p) }
	pd := env(map[string]string{"ProgramData": `D:\Data\`})
	tests := []struct {
		args      []string
		getenv    func(string) string
		action    string
		dataDir   string
		serveArgs []string
		err       string
	}{
		{args: []string{"install"}, getenv: pd, action: "install", dataDir: abs(`D:\Data\Switchboard`)},
		{args: []string{"install"}, getenv: env(nil), action: "install", dataDir: abs(`C:\ProgramData\Switchboard`)},
		{args: []string{"install", "--data-dir", "/srv/sb", "--", "--intake-addr", ":8443", "--log-format=json"}, getenv: pd,
			action: "install", dataDir: "/srv/sb", serveArgs: []string{"--intake-addr", ":8443", "--log-format=json"}},
		{args: []string{"run", "--data-dir", "rel"}, getenv: pd, action: "run", dataDir: abs("rel")},
		{args: []string{"start"}, action: "start"},
		{args: []string{"stop"}, action: "stop"},
		{args: []string{"uninstall"}, action: "uninstall"},
		{args: []string{"install", "--intake-addr", ":1"}, getenv: pd, err: "flag provided but not defined"},
		{args: []string{"install", "extra"}, getenv: pd, err: `unexpected argument "extra"; serve's flags go after --`},
		{args: []string{"install", "--", "--data-dir", "x"}, getenv: pd, err: "give --data-dir before --"},
		{args: []string{"install", "--", "-data-dir=x"}, getenv: pd, err: "give -data-dir=x before --"},
		{args: []string{"install", "--data-dir", " "}, getenv: pd, err: "--data-dir is empty"},
		{args: []string{"start", "now"}, err: `unexpected argument "now"`},
		{args: []string{"restart"}, err: "exit 2"},
		{args: nil, err: "exit 2"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stderr bytes.Buffer
			getenv := tt.getenv
			if getenv == nil {
				getenv = env(nil)
			}
			req, err := parseService(tt.args, getenv, &stderr)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v; want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if req.Action != tt.action || req.DataDir != tt.dataDir || !slices.Equal(req.ServeArgs, tt.serveArgs) {
				t.Errorf("got %+v; want %s %s %q", req, tt.action, tt.dataDir, tt.serveArgs)
			}
		})
	}
	for vars, want := range map[string]string{`D:\Data\`: `D:\Data\Switchboard`, `E:\PD`: `E:\PD\Switchboard`, "": `C:\ProgramData\Switchboard`} {
		if got := defaultServiceDataDir(env(map[string]string{"ProgramData": vars})); got != want {
			t.Errorf("data dir with ProgramData=%q: %q; want %q", vars, got, want)
		}
	}
	var stderr bytes.Buffer
	if _, err := parseService([]string{"help"}, env(nil), &stderr); err != flag.ErrHelp || !strings.Contains(stderr.String(), "deploy/switchboard.service") {
		t.Errorf("help: %v %q", err, stderr.String())
	}
}

// TestInstallSpec: the service install registers runs this binary's
// service entry point with the same data dir and serve flags, starts
// automatically after the network is up.
func TestInstallSpec(t *testing.T) {
	t.Parallel()
	req := serviceRequest{Action: "install", DataDir: `C:\ProgramData\Switchboard`, ServeArgs: []string{"--intake-addr", ":8443"}}
	spec := installSpec(req, `C:\Program Files\Switchboard\switchboard.exe`)
	if spec.Name != "Switchboard" || spec.Exe != `C:\Program Files\Switchboard\switchboard.exe` || !spec.DelayedAutoStart || spec.DataDir != req.DataDir {
		t.Errorf("spec = %+v", spec)
	}
	want := []string{"service", "run", "--data-dir", `C:\ProgramData\Switchboard`, "--", "--intake-addr", ":8443"}
	if !slices.Equal(spec.Args, want) {
		t.Errorf("args = %q; want %q", spec.Args, want)
	}
	// What install registers, run parses back to the same request.
	back, err := parseService(spec.Args[1:], env(nil), &bytes.Buffer{})
	wantDir, _ := filepath.Abs(req.DataDir) // itself on Windows
	if err != nil || back.Action != "run" || back.DataDir != wantDir || !slices.Equal(back.ServeArgs, req.ServeArgs) {
		t.Errorf("run parses %q as %+v, %v", spec.Args[1:], back, err)
	}
	if got := back.serveArgs(); !slices.Equal(got[2:], req.ServeArgs) || got[0] != "--data-dir" {
		t.Errorf("serve args = %q", got)
	}
	if s := installSpec(serviceRequest{DataDir: `C:\sb`}, "sb.exe"); !slices.Equal(s.Args, []string{"service", "run", "--data-dir", `C:\sb`}) {
		t.Errorf("args without serve flags = %q", s.Args)
	}
}

// TestServiceElsewhere: on Linux the command says it is for Windows and
// where the systemd unit is.
func TestServiceElsewhere(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the service itself runs here")
	}
	t.Parallel()
	_, _, err := runCLI(t, "service", "install")
	if err == nil || !strings.Contains(err.Error(), "Windows") || !strings.Contains(err.Error(), "deploy/switchboard.service") {
		t.Errorf("service install on %s: %v", runtime.GOOS, err)
	}
}

// TestRotatingLog: the log file is set aside as .1 before a write would
// take it past its limit, so at most about twice the limit is kept.
func TestRotatingLog(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "switchboard.log")
	if err := os.WriteFile(path, []byte("old line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := openRotatingLog(path, 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"first\n", "second line\n", "third\n"} {
		if _, err := l.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// "old line\nfirst\n" is 15 bytes; "second line\n" would make 27.
	if got, want := read(path+".1"), "old line\nfirst\n"; got != want {
		t.Errorf(".1 = %q; want %q", got, want)
	}
	if got, want := read(path), "second line\nthird\n"; got != want {
		t.Errorf("log = %q; want %q", got, want)
	}
}
