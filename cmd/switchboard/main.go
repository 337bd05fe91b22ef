// Command switchboard is the Switchboard middleware engine: it receives
// BeyondTrust outbound events (or polls the appliance) and delivers them to
// plugin configurations such as Autotask.
//
//	switchboard serve     run the engine (SQLite in ./data by default)
//	switchboard demo      run the engine against built-in simulators
//	switchboard simulate  run the appliance and Autotask simulators standalone
//	switchboard migrate   apply database migrations and show their status
//	switchboard migrate-store   copy a SQLite installation into PostgreSQL
//	switchboard plugins   list compiled-in plugins and their settings
//	switchboard reset-password   set an admin account's password
//	switchboard config    export or import configurations as files
//	switchboard secrets clear-unopenable   clear secrets a lost key sealed
//	switchboard service   install, remove, start or stop the Windows service
//	switchboard query <kind>   an investigation query through the JSON API
//	switchboard version   print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `Switchboard: an open middleware engine for BeyondTrust Remote Support and PRA.

Usage:
  switchboard serve    [flags]   run the engine
  switchboard demo     [flags]   run the engine with simulated appliance and Autotask
  switchboard simulate [flags]   run the simulated appliance and Autotask for a separate engine
  switchboard migrate  [flags]   apply database migrations and show their status
  switchboard migrate-store --from sqlite:PATH --to postgres://…   copy a SQLite
                                 installation into an empty PostgreSQL database
  switchboard plugins  [flags]   list compiled-in plugins and their settings
  switchboard reset-password [--user admin]   set an admin's password (typed without
                                 echo, piped on stdin, or SWITCHBOARD_ADMIN_PASSWORD)
  switchboard config export|import [flags]   configurations as files
  switchboard secrets clear-unopenable [--yes]   after losing the secret key: clear
                                 the stored secrets it sealed, to type them again
  switchboard service install|uninstall|start|stop   run it as a Windows service
                                 (on Linux: deploy/switchboard.service)
  switchboard query <kind> --config <id> [flags]   an investigation query (sessions,
                                 session, recordings, team-activity, vault-activity,
                                 jump-items, license-usage) through a running engine,
                                 with SWITCHBOARD_API_TOKEN
  switchboard version            print the version

Run "switchboard <command> -h" for a command's flags. A flag that can also be
set by an environment variable names it in its help (every flag of serve
does); a query's own parameters are flags only.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "switchboard:", err)
		}
		os.Exit(exitCode(err))
	}
}

// exitError carries an exit code for a failure already reported.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func exitCode(err error) int {
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError{2}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, stdout, stderr)
	case "demo":
		return demo(ctx, rest, stdout, stderr)
	case "simulate":
		return simulate(ctx, rest, stdout, stderr)
	case "migrate":
		return migrate(ctx, rest, stdout, stderr)
	case "migrate-store":
		return migrateStore(ctx, rest, stdout, stderr)
	case "plugins":
		return listPlugins(rest, stdout, stderr)
	case "reset-password":
		return resetPassword(ctx, rest, os.Stdin, stdout, stderr)
	case "config":
		return configCommand(ctx, rest, stdout, stderr)
	case "secrets":
		return secretsCommand(ctx, rest, stdout, stderr)
	case "service":
		return serviceCommand(ctx, rest, os.Getenv, stdout, stderr)
	case "query":
		return queryCommand(ctx, rest, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "switchboard", versionString())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "unknown command %q\n\n%s", cmd, usage)
	return exitError{2}
}

func versionString() string {
	v := version
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
		v += " " + info.GoVersion
	}
	return v
}

// envFlag defines a string flag whose default comes from an environment
// variable, so every setting has an environment twin.
func envFlag(fs *flag.FlagSet, name, env, def, help string) *string {
	if v, ok := os.LookupEnv(env); ok {
		def = v
	}
	return fs.String(name, def, help+" (env "+env+")")
}

// commonFlags are the flags every engine-running command shares.
type commonFlags struct {
	dataDir, database, intakeAddr, adminAddr, logLevel, logFormat *string
}

func addCommon(fs *flag.FlagSet) *commonFlags {
	return &commonFlags{
		dataDir:    envFlag(fs, "data-dir", "SWITCHBOARD_DATA_DIR", "./data", "directory for the database, the secret key and template overrides"),
		database:   envFlag(fs, "database", "SWITCHBOARD_DATABASE", "", "database: a SQLite file path (default <data-dir>/switchboard.db) or a postgres://user:password@host:5432/db URL shared by several engines"),
		intakeAddr: envFlag(fs, "intake-addr", "SWITCHBOARD_INTAKE_ADDR", ":8180", "listen address for the appliance's outbound events"),
		adminAddr:  envFlag(fs, "admin-addr", "SWITCHBOARD_ADMIN_ADDR", "127.0.0.1:53231", "listen address for the admin UI, JSON API and metrics (local only by default)"),
		logLevel:   envFlag(fs, "log-level", "SWITCHBOARD_LOG_LEVEL", "info", "log level: debug, info, warn or error"),
		logFormat:  envFlag(fs, "log-format", "SWITCHBOARD_LOG_FORMAT", "text", "log format: text or json"),
	}
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", format)
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return nil
}
