package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
)

// The Windows service's names, as services.msc and `sc` show them.
const (
	serviceName        = "Switchboard"
	serviceDisplayName = "Switchboard middleware engine"
	serviceDescription = "Receives BeyondTrust Remote Support and PRA outbound events (or polls the appliance) and delivers them to the configured plugins."
)

const serviceUsage = `Usage: switchboard service install|uninstall|start|stop [flags]

Runs Switchboard as a Windows service (for Linux, see deploy/switchboard.service).

  install [--data-dir DIR] [-- serve flags...]
        register the service (automatic start, restarted after a failure) to
        run "switchboard serve --data-dir DIR" plus the serve flags after --;
        DIR (default %ProgramData%\Switchboard) is created, readable only by
        SYSTEM and Administrators; the log is DIR\switchboard.log. Refused
        when accounts other than SYSTEM and Administrators can change this
        program or its folders (the service runs it as LocalSystem)
  uninstall   remove the service (stop it first; the data dir is kept)
  start       start the service
  stop        stop it (in-flight deliveries are finished first)

The service runs "switchboard service run ..."; that entry point is for the
Service Control Manager, not for a console (use "switchboard serve" there).
`

// serviceRequest is a parsed `switchboard service` command line.
type serviceRequest struct {
	Action    string   // install, uninstall, start, stop or run
	DataDir   string   // install and run: absolute
	ServeArgs []string // install and run: serve's flags after --
}

// serviceSpec is what install registers.
type serviceSpec struct {
	Name, DisplayName, Description string
	Exe                            string   // this binary, absolute
	Args                           []string // the command line after Exe
	DataDir                        string
	DelayedAutoStart               bool // start after the network is up at boot
}

// parseService reads `switchboard service ...`. getenv reads the
// environment (ProgramData for the default data dir).
func parseService(args []string, getenv func(string) string, stderr io.Writer) (serviceRequest, error) {
	if len(args) == 0 {
		fmt.Fprint(stderr, serviceUsage)
		return serviceRequest{}, exitError{2}
	}
	req := serviceRequest{Action: args[0]}
	fs := flag.NewFlagSet("service "+req.Action, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, serviceUsage) }
	switch req.Action {
	case "install", "run":
		dataDir := fs.String("data-dir", defaultServiceDataDir(getenv), `the service's data dir: database, secret key, template overrides, log`)
		if err := fs.Parse(args[1:]); err != nil {
			return req, err
		}
		req.ServeArgs = fs.Args()
		if len(req.ServeArgs) > 0 && args[len(args)-len(req.ServeArgs)-1] != "--" {
			return req, fmt.Errorf("service %s: unexpected argument %q; serve's flags go after --, e.g. switchboard service install -- --intake-addr :8443", req.Action, req.ServeArgs[0])
		}
		for _, a := range req.ServeArgs {
			name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if strings.HasPrefix(a, "-") && slices.Contains([]string{"data-dir", "h", "help"}, name) {
				return req, fmt.Errorf("service %s: give %s before --, as a flag of the service", req.Action, a)
			}
		}
		if strings.TrimSpace(*dataDir) == "" {
			return req, fmt.Errorf("service %s: --data-dir is empty", req.Action)
		}
		abs, err := filepath.Abs(*dataDir)
		if err != nil {
			return req, fmt.Errorf("service %s: --data-dir %q: %w", req.Action, *dataDir, err)
		}
		req.DataDir = abs
	case "uninstall", "start", "stop":
		if err := parse(fs, args[1:]); err != nil {
			return req, err
		}
	case "-h", "--help", "help":
		fmt.Fprint(stderr, serviceUsage)
		return req, flag.ErrHelp
	default:
		fmt.Fprintf(stderr, "unknown service command %q\n\n%s", req.Action, serviceUsage)
		return req, exitError{2}
	}
	return req, nil
}

// defaultServiceDataDir is %ProgramData%\Switchboard, where Windows keeps
// the data of services for every user.
func defaultServiceDataDir(getenv func(string) string) string {
	base := strings.TrimRight(getenv("ProgramData"), `\`)
	if base == "" {
		base = `C:\ProgramData`
	}
	return base + `\Switchboard`
}

// installSpec is the service install registers for req, run by exe: the
// service entry point with the same data dir and serve flags.
func installSpec(req serviceRequest, exe string) serviceSpec {
	args := []string{"service", "run", "--data-dir", req.DataDir}
	if len(req.ServeArgs) > 0 {
		args = append(append(args, "--"), req.ServeArgs...)
	}
	return serviceSpec{
		Name: serviceName, DisplayName: serviceDisplayName, Description: serviceDescription,
		Exe: exe, Args: args, DataDir: req.DataDir, DelayedAutoStart: true,
	}
}

// serveArgs is the serve command line the service entry point runs.
func (r serviceRequest) serveArgs() []string {
	return append([]string{"--data-dir", r.DataDir}, r.ServeArgs...)
}

func serviceCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	req, err := parseService(args, getenv, stderr)
	if err != nil {
		return err
	}
	return runService(ctx, req, stdout, stderr)
}
