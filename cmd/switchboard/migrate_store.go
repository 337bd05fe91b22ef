package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"switchboard/engine/secretbox"
	"switchboard/engine/store"
)

// migrateStore copies an installation's SQLite database into an empty
// PostgreSQL database, for moving to several engines: configurations with
// their secrets still sealed, events, deliveries and their history, links,
// cursors, admin accounts and the audit log. It checks the row counts of
// every table afterwards.
func migrateStore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate-store", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := envFlag(fs, "data-dir", "SWITCHBOARD_DATA_DIR", "./data", "data directory of the SQLite installation (its database is <data-dir>/switchboard.db unless --from says otherwise)")
	from := fs.String("from", "", "the SQLite database to copy: sqlite:PATH or a file path (default <data-dir>/switchboard.db)")
	to := fs.String("to", "", "the empty PostgreSQL database to copy into: postgres://user:password@host:5432/db")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *to == "" || !store.IsPostgres(*to) {
		return errors.New("--to must be a postgres://user:password@host:5432/db URL of an empty database")
	}
	if *from != "" && store.IsPostgres(*from) {
		return errors.New("--from must be a SQLite database (sqlite:PATH or a file path); copies go from SQLite to PostgreSQL")
	}
	src, err := openInstallation(ctx, *dataDir, *from, store.Options{SkipMigrate: true})
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := store.Open(ctx, *to, store.Options{})
	if err != nil {
		return err
	}
	defer dst.Close()
	fmt.Fprintf(stdout, "copying %s into %s\n", src.Path(), dst.Path())
	counts, err := src.CopyTo(ctx, dst, func(table string, n int64) {
		fmt.Fprintf(stdout, "  %-20s %d rows\n", table, n)
	})
	if err != nil {
		if errors.Is(err, store.ErrTargetNotEmpty) {
			return fmt.Errorf("nothing copied: %w", err)
		}
		return fmt.Errorf("nothing copied (the target is left as it was): %w", err)
	}
	var total int64
	for _, n := range counts {
		total += n
	}
	fmt.Fprintf(stdout, "verified: every table has as many rows in the target as in the source (%d rows in %d tables)\n", total, len(counts))
	fmt.Fprintln(stdout, strings.Join([]string{
		"Secrets were copied sealed: start every engine with this installation's secret key",
		"(" + secretbox.KeySource(*dataDir, os.Getenv(secretbox.EnvKey)) + ") and --database set to the new URL.",
		"Keep the SQLite file until the engines on PostgreSQL run as expected.",
	}, "\n"))
	return nil
}
