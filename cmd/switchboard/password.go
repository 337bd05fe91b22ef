package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"switchboard/engine/auth"
	"switchboard/engine/store"
)

// resetPassword sets an admin account's password (or creates the first
// account), for an admin who forgot theirs. It runs beside a running
// server: the database allows it.
func resetPassword(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("reset-password", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := envFlag(fs, "data-dir", "SWITCHBOARD_DATA_DIR", "./data", "data directory")
	database := envFlag(fs, "database", "SWITCHBOARD_DATABASE", "", "database: a SQLite file path (default <data-dir>/switchboard.db) or a postgres://user:password@host:5432/db URL shared by several engines")
	user := fs.String("user", "admin", "the admin account")
	if err := parse(fs, args); err != nil {
		return err
	}
	password := os.Getenv("SWITCHBOARD_ADMIN_PASSWORD")
	if password == "" {
		fmt.Fprintf(stderr, "New password for %s (or set SWITCHBOARD_ADMIN_PASSWORD): ", *user)
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		password = strings.TrimRight(line, "\r\n")
	}
	st, err := openInstallation(ctx, *dataDir, *database, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := auth.New(st, nil).ResetPassword(ctx, *user, password); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "password of %s set; the account's existing sign-ins have ended\n", *user)
	return nil
}
