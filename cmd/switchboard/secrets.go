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
// and stored sources whose sealed secrets the key at hand cannot open and,
// only with --yes, clears those secrets (to be typed again) and makes that
// key, or a new one when there is none, the installation's.
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
	var sealed store.Unopenable
	if sealed.Configs, err = st.SealedSecrets(ctx); err != nil {
		return err
	}
	if sealed.Sources, err = st.SealedSourceSecrets(ctx); err != nil {
		return err
	}
	check, err := st.KeyCheck(ctx)
	if err != nil {
		return err
	}
	ids := store.Cleared{Configs: slices.Sorted(maps.Keys(sealed.Configs)), Sources: slices.Sorted(maps.Keys(sealed.Sources))}
	if !missing {
		ids = store.Cleared{Configs: box.Unopenable(sealed.Configs), Sources: box.UnopenableSources(sealed.Sources)}
	}
	if !missing && len(ids.Configs)+len(ids.Sources) == 0 && (check == nil || box.Matches(check)) {
		fmt.Fprintf(stdout, "every stored secret opens with %s; nothing to clear\n", src)
		return nil
	}
	names, err := secretOwnerNames(ctx, st)
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
	unopenable := store.Unopenable{Configs: pick(sealed.Configs, ids.Configs), Sources: pick(sealed.Sources, ids.Sources)}
	cleared, err := st.ClearSecrets(ctx, unopenable, func(source bool, id int64) store.AuditEntry {
		return store.AuditEntry{Actor: secretsActor, Action: "clear-secrets", Summary: fmt.Sprintf(
			"cleared the stored secrets of %s: the secret key in use cannot open them; type them again", names.of(source, id))}
	}, box.CheckValue(), store.AuditEntry{Actor: secretsActor, Action: "key-check",
		Summary: "made the secret key in use (" + src + ") the installation's key"})
	if err != nil {
		return err
	}
	printCleared(stdout, cleared, names, verb)
	fmt.Fprintf(stdout, "%s is now this installation's key. Type the cleared secrets again in the admin UI (or config import --secrets); "+
		"restart a running switchboard so that it routes to those configurations and polls those sources again.\n", src)
	return nil
}

// ownerNames name the holders of stored secrets for messages.
type ownerNames struct{ configs, sources map[int64]string }

func (n ownerNames) of(source bool, id int64) string {
	if source {
		return n.sources[id]
	}
	return n.configs[id]
}

// secretOwnerNames names every configuration "configuration plugin/name
// (id N)" and every stored source "source kind/name (id N)".
func secretOwnerNames(ctx context.Context, st *store.Store) (ownerNames, error) {
	rows, err := st.ListConfigs(ctx, "")
	if err != nil {
		return ownerNames{}, err
	}
	out := ownerNames{configs: make(map[int64]string, len(rows)), sources: map[int64]string{}}
	for _, r := range rows {
		out.configs[r.ID] = fmt.Sprintf("configuration %s/%s (id %d)", r.Plugin, r.Name, r.ID)
	}
	srcs, err := st.ListSourceConfigs(ctx)
	if err != nil {
		return ownerNames{}, err
	}
	for _, r := range srcs {
		out.sources[r.ID] = fmt.Sprintf("source %s/%s (id %d)", r.Kind, r.Name, r.ID)
	}
	return out, nil
}

// pick returns the entries of sealed with the ids given.
func pick(sealed map[int64][]byte, ids []int64) map[int64][]byte {
	out := make(map[int64][]byte, len(ids))
	for _, id := range ids {
		out[id] = sealed[id]
	}
	return out
}

func printCleared(w io.Writer, ids store.Cleared, names ownerNames, verb string) {
	if len(ids.Configs)+len(ids.Sources) == 0 {
		fmt.Fprintln(w, "no configuration or source holds secrets this key cannot open")
		return
	}
	fmt.Fprintf(w, "stored secrets that %s:\n", verb)
	for _, id := range ids.Configs {
		fmt.Fprintf(w, "  %s\n", names.of(false, id))
	}
	for _, id := range ids.Sources {
		fmt.Fprintf(w, "  %s\n", names.of(true, id))
	}
}
