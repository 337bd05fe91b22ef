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

	"golang.org/x/term"

	"switchboard/engine/auth"
	"switchboard/engine/store"
)

// resetPassword sets an admin account's password (or creates the first
// account), for an admin who forgot theirs. It runs beside a running
// server: the database allows it. The password never is an argument (ps
// and shell history would show it): it comes from SWITCHBOARD_ADMIN_PASSWORD,
// from a terminal without echo, or from the first line of stdin.
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
		var err error
		if password, err = readNewPassword(stdin, *user); err != nil {
			return err
		}
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

// readNewPassword reads a new password: from a terminal twice, without
// echo, prompting on the terminal itself; otherwise the first line of in
// (a pipe, a file), without a prompt.
func readNewPassword(in io.Reader, user string) (string, error) {
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return readFromTerminal(f, user)
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the new password from stdin: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	if password == "" {
		return "", errors.New("no password: type it at a terminal, pipe it on stdin, or set SWITCHBOARD_ADMIN_PASSWORD")
	}
	return password, nil
}

func readFromTerminal(tty *os.File, user string) (string, error) {
	fd := int(tty.Fd())
	ask := func(prompt string) (string, error) {
		fmt.Fprint(tty, prompt)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(tty)
		if err != nil {
			return "", fmt.Errorf("read the new password from the terminal: %w", err)
		}
		return string(b), nil
	}
	first, err := ask("New password for " + user + ": ")
	if err != nil {
		return "", err
	}
	again, err := ask("Type it again: ")
	if err != nil {
		return "", err
	}
	if first != again {
		return "", errors.New("the two passwords differ; nothing was changed")
	}
	return first, nil
}
