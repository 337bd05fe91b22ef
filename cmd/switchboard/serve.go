package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"switchboard/engine/server"
	"switchboard/plugins"
)

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := addCommon(fs)
	retention := fs.Duration("retention", envDuration("SWITCHBOARD_RETENTION", 30*24*time.Hour), "how long finished deliveries are kept (env SWITCHBOARD_RETENTION)")
	maxBody := fs.Int64("max-body", 1<<20, "largest outbound-event post accepted, in bytes")
	if err := parse(fs, args); err != nil {
		return err
	}
	log, err := newLogger(stderr, *c.logLevel, *c.logFormat)
	if err != nil {
		return err
	}
	srv, err := server.New(ctx, server.Options{
		DataDir: *c.dataDir, Database: *c.database,
		IntakeAddr: *c.intakeAddr, AdminAddr: *c.adminAddr,
		Logger: log, Plugins: plugins.All(),
		SecretKey:     os.Getenv("SWITCHBOARD_SECRET_KEY"),
		AdminPassword: os.Getenv("SWITCHBOARD_ADMIN_PASSWORD"),
		Retention:     *retention, MaxBody: *maxBody,
		Register: adminRoutes,
	})
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		_ = srv.Store.Close()
		return err
	}
	fmt.Fprintf(stdout, "Switchboard is running.\n  Outbound events: %s/ERSPost?appliance=<Appliance Id>\n  Admin UI:        %s/\n", srv.IntakeURL(), srv.AdminURL())
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

func envDuration(env string, def time.Duration) time.Duration {
	if v, ok := os.LookupEnv(env); ok {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}
