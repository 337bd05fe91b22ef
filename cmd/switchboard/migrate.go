package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"switchboard/engine/store"
)

func migrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := envFlag(fs, "data-dir", "SWITCHBOARD_DATA_DIR", "./data", "data directory")
	database := envFlag(fs, "database", "SWITCHBOARD_DATABASE", "", "database: a SQLite file path (default <data-dir>/switchboard.db) or a postgres://user:password@host:5432/db URL shared by several engines")
	statusOnly := fs.Bool("status", false, "only show which migrations are applied")
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := openInstallation(ctx, *dataDir, *database, store.Options{SkipMigrate: true})
	if err != nil {
		return err
	}
	defer st.Close()
	if !*statusOnly {
		n, err := st.Migrate(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "applied %d migration(s) to %s\n", n, st.Path())
	}
	ms, err := st.Migrations(ctx)
	if err != nil {
		return err
	}
	for _, m := range ms {
		state := "pending"
		if m.Applied {
			state = "applied"
		}
		fmt.Fprintf(stdout, "%05d  %-8s %s\n", m.Version, state, m.Source)
	}
	return nil
}
