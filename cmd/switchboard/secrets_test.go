package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"switchboard/engine/secretbox"
	"switchboard/engine/server"
	"switchboard/engine/service"
	"switchboard/engine/sources/pmcloud"
	"switchboard/engine/store"
	"switchboard/plugins"
)

// installWithSecrets makes an installation in dir holding one Autotask
// configuration with stored secrets, as `config import` makes it.
func installWithSecrets(t *testing.T, dir string) {
	t.Helper()
	createInstallation(t, dir)
	file := filepath.Join(t.TempDir(), "acme.json")
	doc := `{"format": "switchboard.configurations/v1", "configurations": [{
		"plugin": "autotask",
		"appliance": {"name": "Acme", "appliance_id": "Default", "host": "support.example.com", "product": "rs"},
		"settings": {"username": "api@example.com", "password": "pw-in-file", "integration_code": "code-in-file",
			"time_entry_defaults": {}}
	}]}`
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, _, err := runCLI(t, "config", "import", "--data-dir", dir, file); err != nil {
		t.Fatalf("import: %s %v", out, err)
	}
}

// startServer builds the engine the way serve does, without listening.
func startServer(dir string) error {
	srv, err := server.New(context.Background(), server.Options{DataDir: dir, Plugins: plugins.All()})
	if err != nil {
		return err
	}
	return srv.Store.Close()
}

func wantKeyRefusal(t *testing.T, what string, err error, mentions ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s started with a key that does not open the stored secrets", what)
	}
	for _, m := range append(mentions, "switchboard secrets clear-unopenable", "restore") {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("%s: the refusal does not mention %q:\n%v", what, m, err)
		}
	}
}

// TestKeyLoss: an installation whose key file was replaced or lost refuses
// to start (engine and config command alike), says what to do and writes
// no key; clear-unopenable, asked explicitly, clears the secrets, audits it
// and lets the installation start again.
func TestKeyLoss(t *testing.T) {
	t.Setenv(secretbox.EnvKey, "")
	dir := t.TempDir()
	installWithSecrets(t, dir)
	keyPath := filepath.Join(dir, secretbox.KeyFile)
	absKey, _ := filepath.Abs(keyPath)
	original, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}

	other := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)) + "\n"
	if err := os.WriteFile(keyPath, []byte(other), 0o600); err != nil {
		t.Fatal(err)
	}
	wantKeyRefusal(t, "serve with a replaced key file", startServer(dir), absKey)
	_, _, err = runCLI(t, "config", "export", "--data-dir", dir)
	wantKeyRefusal(t, "config export with a replaced key file", err, absKey)

	if err := os.Remove(keyPath); err != nil {
		t.Fatal(err)
	}
	wantKeyRefusal(t, "serve without its key file", startServer(dir), absKey, "missing")
	_, _, err = runCLI(t, "config", "export", "--data-dir", dir)
	wantKeyRefusal(t, "config export without its key file", err, "missing")
	if _, err := os.Stat(keyPath); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a new key file was written over an installation that had one (%v)", err)
	}

	// Restoring the key file is enough.
	if err := os.WriteFile(keyPath, original, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := startServer(dir); err != nil {
		t.Fatalf("the restored key was refused: %v", err)
	}
	if out, _, err := runCLI(t, "secrets", "clear-unopenable", "--data-dir", dir); err != nil || !strings.Contains(out, "nothing to clear") {
		t.Fatalf("clear-unopenable with the right key: %q %v", out, err)
	}

	// Lost for good: clear-unopenable lists, refuses without --yes, then clears.
	if err := os.Remove(keyPath); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCLI(t, "secrets", "clear-unopenable", "--data-dir", dir)
	if err == nil || !strings.Contains(out, "autotask/Acme") || !strings.Contains(err.Error(), "--yes") {
		t.Fatalf("clear-unopenable without --yes: %q %v", out, err)
	}
	if _, err := os.Stat(keyPath); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("clear-unopenable without --yes wrote a key")
	}
	wantKeyRefusal(t, "serve after a refused clear-unopenable", startServer(dir), "missing")

	out, _, err = runCLI(t, "secrets", "clear-unopenable", "--data-dir", dir, "--yes")
	if err != nil || !strings.Contains(out, "autotask/Acme (id 1)") || !strings.Contains(out, "back it up") {
		t.Fatalf("clear-unopenable --yes: %q %v", out, err)
	}
	if info, err := os.Stat(keyPath); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("new key file: %v %v", info, err)
	}
	if err := startServer(dir); err != nil {
		t.Fatalf("start after clear-unopenable: %v", err)
	}
	out, _, err = runCLI(t, "config", "export", "--data-dir", dir)
	if err != nil || !strings.Contains(out, `"Acme"`) {
		t.Fatalf("the configuration did not survive its secrets: %q %v", out, err)
	}

	st, err := store.Open(context.Background(), store.DefaultPath(dir), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if sealed, _ := st.SealedSecrets(context.Background()); len(sealed) != 0 {
		t.Fatalf("secrets left after clear-unopenable: %v", sealed)
	}
	audit, _ := st.Audit(context.Background(), 10)
	var actions []string
	for _, a := range audit {
		if a.Actor == secretsActor {
			actions = append(actions, a.Action)
		}
	}
	if strings.Join(actions, ",") != "key-check,clear-secrets" {
		t.Fatalf("audit of clear-unopenable: %v", actions)
	}
}

// TestKeyLossCoversStoredSources: a stored source's sealed secret counts
// as a configuration's does. After the key is lost, clear-unopenable lists
// the source, clears its secret (audited), and the engine then loads the
// source (to have its secret typed again) instead of leaving it out.
func TestKeyLossCoversStoredSources(t *testing.T) {
	t.Setenv(secretbox.EnvKey, "")
	dir := t.TempDir()
	createInstallation(t, dir)
	ctx := context.Background()
	srv, err := server.New(ctx, server.Options{DataDir: dir, Plugins: plugins.All()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = srv.Service.CreateSource(ctx, "test", service.SourceInput{Kind: pmcloud.Source, Settings: []byte(
		`{"name":"acme-epm","services_url":"https://acme-services.pm.beyondtrustcloud.com","client_id":"c","client_secret":"source-secret-xyz"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Store.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, secretbox.KeyFile)); err != nil {
		t.Fatal(err)
	}
	wantKeyRefusal(t, "serve without its key file", startServer(dir), "missing", "sources with sealed secrets: 1")

	out, _, err := runCLI(t, "secrets", "clear-unopenable", "--data-dir", dir)
	if err == nil || !strings.Contains(out, "source pmcloud/acme-epm (id 1)") || strings.Contains(out, "source-secret-xyz") {
		t.Fatalf("clear-unopenable without --yes: %q %v", out, err)
	}
	out, _, err = runCLI(t, "secrets", "clear-unopenable", "--data-dir", dir, "--yes")
	if err != nil || !strings.Contains(out, "source pmcloud/acme-epm (id 1)") {
		t.Fatalf("clear-unopenable --yes: %q %v", out, err)
	}
	srv, err = server.New(ctx, server.Options{DataDir: dir, Plugins: plugins.All()})
	if err != nil {
		t.Fatalf("start after clear-unopenable: %v", err)
	}
	defer srv.Store.Close()
	if sealed, err := srv.Store.SealedSourceSecrets(ctx); err != nil || len(sealed) != 0 {
		t.Fatalf("source secrets left after clear-unopenable: %d %v", len(sealed), err)
	}
	list := srv.Service.StoredSources(pmcloud.Source)
	if len(list) != 1 || list[0].Settings.SourceName() != "acme-epm" {
		t.Fatalf("the source was not loaded after its secret was cleared: %+v", list)
	}
	audit, _ := srv.Store.Audit(ctx, 10)
	found := false
	for _, a := range audit {
		found = found || (a.Actor == secretsActor && a.Action == "clear-secrets" && strings.Contains(a.Summary, "source pmcloud/acme-epm"))
	}
	if !found {
		t.Fatalf("the source's cleared secret is not audited: %+v", audit)
	}
}
