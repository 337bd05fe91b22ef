package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"

	"switchboard/engine/secretbox"
	"switchboard/engine/store"
)

// secretsActor is the audit log's actor for what this command does.
const secretsActor = "switchboard secrets clear-unopenable"

// secretsCommand is "switchboard secrets clear-unopenable": the way out
// when an installation's secret key is lost. It lists the configurations
// whose stored secrets the key at hand cannot open and, only with --yes,
// clears those secrets (to be typed again) and makes that key, or a new
// one when there is none, the installation's.
func secretsCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = "usage: switchboard secrets clear-unopenable [--data-dir DIR] [--yes]"
	if len(args) == 0 || args[0] != "clear-unopenable" {
		fmt.Fprintln(stderr, usage)
		return exitError{2}
	}
	flags := flag.NewFlagSet("secrets clear-unopenable", flag.ContinueOnError)
	flags.SetOutput(stderr)
	dataDir := envFlag(flags, "data-dir", "SWITCHBOARD_DATA_DIR", "./data", "data directory")
	database := envFlag(flags, "database", "SWITCHBOARD_DATABASE", "", "database: a SQLite file path (default <data-dir>/switchboard.db) or a postgres://user:password@host:5432/db URL shared by several engines")
	yes := flags.Bool("yes", false, "clear them; without it the command only lists what it would clear")
	if err := parse(flags, args[1:]); err != nil {
		return err
	}
	st, err := openInstallation(ctx, *dataDir, *database, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	envKey := os.Getenv(secretbox.EnvKey)
	src := secretbox.KeySource(*dataDir, envKey)
	box, err := secretbox.ReadKey(*dataDir, envKey)
	missing := errors.Is(err, fs.ErrNotExist)
	if err != nil && !missing {
		return err
	}
	sealed, err := st.SealedSecrets(ctx)
	if err != nil {
		return err
	}
	check, err := st.KeyCheck(ctx)
	if err != nil {
		return err
	}
	ids := slices.Sorted(maps.Keys(sealed))
	if !missing {
		ids = box.Unopenable(sealed)
	}
	if !missing && len(ids) == 0 && (check == nil || box.Matches(check)) {
		fmt.Fprintf(stdout, "every stored secret opens with %s; nothing to clear\n", src)
		return nil
	}
	names, err := configNames(ctx, st)
	if err != nil {
		return err
	}
	verb := "would be cleared"
	if *yes {
		verb = "cleared"
	}
	if !*yes {
		printCleared(stdout, ids, names, verb)
		if missing {
			fmt.Fprintf(stdout, "%s is missing: a new key would be written there\n", src)
		}
		return fmt.Errorf("nothing changed: this clears stored secrets for good; restore the installation's key to %s if you can, "+
			"otherwise run again with --yes", src)
	}
	if missing {
		if box, err = secretbox.CreateKey(*dataDir); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote a new secret key to %s: back it up with the database\n", src)
	}
	unopenable := make(map[int64][]byte, len(ids))
	for _, id := range ids {
		unopenable[id] = sealed[id]
	}
	cleared, err := st.ClearSecrets(ctx, unopenable, func(id int64) store.AuditEntry {
		return store.AuditEntry{Actor: secretsActor, Action: "clear-secrets", Summary: fmt.Sprintf(
			"cleared the stored secrets of configuration %s: the secret key in use cannot open them; type them again", names[id])}
	}, box.CheckValue(), store.AuditEntry{Actor: secretsActor, Action: "key-check",
		Summary: "made the secret key in use (" + src + ") the installation's key"})
	if err != nil {
		return err
	}
	printCleared(stdout, cleared, names, verb)
	fmt.Fprintf(stdout, "%s is now this installation's key. Type the cleared secrets again in the admin UI (or config import --secrets); "+
		"restart a running switchboard so that it routes to those configurations again.\n", src)
	return nil
}

// configNames names every configuration "plugin/name (id N)" for messages.
func configNames(ctx context.Context, st *store.Store) (map[int64]string, error) {
	rows, err := st.ListConfigs(ctx, "")
	if err != nil {
		return nil, err
	}
	out := make(map[int64]string, len(rows))
	for _, r := range rows {
		out[r.ID] = fmt.Sprintf("%s/%s (id %d)", r.Plugin, r.Name, r.ID)
	}
	return out, nil
}

func printCleared(w io.Writer, ids []int64, names map[int64]string, verb string) {
	if len(ids) == 0 {
		fmt.Fprintln(w, "no configuration holds secrets this key cannot open")
		return
	}
	fmt.Fprintf(w, "stored secrets that %s:\n", verb)
	for _, id := range ids {
		fmt.Fprintf(w, "  %s\n", names[id])
	}
}
