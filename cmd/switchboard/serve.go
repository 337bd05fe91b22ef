package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strings"
	"time"

	"switchboard/engine/alert"
	"switchboard/engine/server"
	"switchboard/engine/sources/appliance"
	"switchboard/engine/sources/pmcloud"
	"switchboard/engine/store"
	"switchboard/plugins"
)

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := addCommon(fs)
	retentionText := envFlag(fs, "retention", "SWITCHBOARD_RETENTION", "720h", "how long finished deliveries are kept, e.g. 720h")
	maxBody := fs.Int64("max-body", 1<<20, "largest outbound-event post accepted, in bytes")
	durabilityText := envFlag(fs, "durability", "SWITCHBOARD_DURABILITY", string(store.DurabilityPower), "what an acknowledged event survives: power (a power cut or OS crash; every commit waits for the disk) or process (a crash of switchboard only; faster on slow disks)")
	trustedProxies := envFlag(fs, "trusted-proxies", "SWITCHBOARD_TRUSTED_PROXIES", "", "comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For is believed; empty: the client address is the connection's")
	publicNames := envFlag(fs, "admin-public-names", "SWITCHBOARD_ADMIN_PUBLIC_NAMES", "", "comma-separated host names the admin listener answers to besides localhost and loopback addresses (e.g. the name a reverse proxy serves it under)")
	intakeAllow := envFlag(fs, "intake-allow", "SWITCHBOARD_INTAKE_ALLOW", "", "comma-separated addresses or CIDR ranges outbound events are accepted from (the client address, as --trusted-proxies decides it); empty: any")
	intakeRequireToken := fs.Bool("intake-require-token", os.Getenv("SWITCHBOARD_INTAKE_REQUIRE_TOKEN") == "true", "refuse outbound events for an Appliance Id whose configurations set no Outbound Event Token (env SWITCHBOARD_INTAKE_REQUIRE_TOKEN=true)")
	intakeCert := envFlag(fs, "intake-tls-cert", "SWITCHBOARD_INTAKE_TLS_CERT", "", "serve the intake over HTTPS with this PEM certificate (chain); reloaded when the file changes")
	intakeKey := envFlag(fs, "intake-tls-key", "SWITCHBOARD_INTAKE_TLS_KEY", "", "the PEM private key of --intake-tls-cert; reloaded when the file changes")
	intakePublicURL := envFlag(fs, "intake-public-url", "SWITCHBOARD_INTAKE_PUBLIC_URL", "", "base URL the appliance reaches the intake at (e.g. https://switchboard.example.com:8180), used in the recipient URL the configuration page shows")
	sourcesFile := envFlag(fs, "sources", "SWITCHBOARD_SOURCES", "", "JSON file of sources to poll: PM Cloud events, appliance Team/Vault/Syslog activity (see docs/sources.md); none when empty")
	smtpAddr := envFlag(fs, "smtp-addr", "SWITCHBOARD_SMTP_ADDR", "", "SMTP server (host:port, e.g. smtp.example.com:587) that alert e-mails go through, always with STARTTLS; none when empty")
	smtpFrom := envFlag(fs, "smtp-from", "SWITCHBOARD_SMTP_FROM", "", "sender address of alert e-mails")
	smtpUser := envFlag(fs, "smtp-username", "SWITCHBOARD_SMTP_USERNAME", "", "SMTP login (AUTH PLAIN, after STARTTLS); the password comes from SWITCHBOARD_SMTP_PASSWORD")
	pprofAddr := envFlag(fs, "pprof-addr", "SWITCHBOARD_PPROF_ADDR", "", "serve Go profiling (net/http/pprof) on this address, e.g. 127.0.0.1:6060; off when empty")
	if err := parse(fs, args); err != nil {
		return err
	}
	log, err := newLogger(stderr, *c.logLevel, *c.logFormat)
	if err != nil {
		return err
	}
	retention, err := time.ParseDuration(*retentionText)
	if err != nil || retention <= 0 {
		return fmt.Errorf("--retention %q: give a positive duration such as 720h (30 days)", *retentionText)
	}
	durability, err := store.ParseDurability(*durabilityText)
	if err != nil {
		return fmt.Errorf("--%w", err)
	}
	var sources []*pmcloud.Settings
	var applianceSources []*appliance.Settings
	if *sourcesFile != "" {
		if sources, err = pmcloud.LoadFile(*sourcesFile, os.LookupEnv); err != nil {
			return err
		}
		if applianceSources, err = appliance.LoadFile(*sourcesFile, os.LookupEnv); err != nil {
			return err
		}
		if len(sources)+len(applianceSources) == 0 {
			return fmt.Errorf("sources file %s names no source", *sourcesFile)
		}
	}
	var mailer *alert.Mailer
	if *smtpAddr != "" {
		mailer = &alert.Mailer{Addr: *smtpAddr, From: *smtpFrom, Username: *smtpUser, Password: os.Getenv("SWITCHBOARD_SMTP_PASSWORD")}
		if err := mailer.Check(); err != nil {
			return err
		}
	}
	if *pprofAddr != "" {
		if err := servePprof(*pprofAddr, log); err != nil {
			return err
		}
	}
	srv, err := server.New(ctx, server.Options{
		DataDir: *c.dataDir, Database: *c.database,
		IntakeAddr: *c.intakeAddr, AdminAddr: *c.adminAddr,
		Logger: log, Plugins: plugins.All(),
		SecretKey:     os.Getenv("SWITCHBOARD_SECRET_KEY"),
		AdminPassword: os.Getenv("SWITCHBOARD_ADMIN_PASSWORD"),
		Retention:     retention, MaxBody: *maxBody, Durability: durability,
		Register:       adminRoutes,
		TrustedProxies: splitList(*trustedProxies), AdminPublicNames: splitList(*publicNames),
		IntakeAllow: splitList(*intakeAllow), IntakeRequireToken: *intakeRequireToken,
		IntakeTLSCert: *intakeCert, IntakeTLSKey: *intakeKey, IntakePublicURL: *intakePublicURL,
		Sources: sources, ApplianceSources: applianceSources, Mailer: mailer,
	})
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		_ = srv.Store.Close()
		return err
	}
	fmt.Fprintf(stdout, "Switchboard is running.\n  Outbound events: %s/ERSPost?appliance=<Appliance Id> (each configuration's page shows its URL)\n  Admin UI:        %s/\n", srv.IntakeBaseURL(), srv.AdminURL())
	if srv.SetupURL != "" {
		// The terminal, not the log: log lines travel to shippers.
		fmt.Fprintf(stdout, "  No admin account yet. Open this one-time link on this machine to create one:\n  %s%s\n", srv.AdminURL(), srv.SetupURL)
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-srv.Errors():
		log.Error("stopping after a failure", "err", runErr)
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

// servePprof serves the Go profiler on its own listener, for an operator
// (or the load tool) measuring where time goes. It is off by default.
func servePprof(addr string, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--pprof-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	log.Warn("Go profiling is served without authentication", "addr", ln.Addr().String())
	go func() { _ = (&http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}).Serve(ln) }()
	return nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
