package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"switchboard/engine"
	"switchboard/engine/auth"
	"switchboard/engine/store"
	"switchboard/plugins"
)

var update = flag.Bool("update", false, "rewrite docs/settings.md from the code")

// docs/settings.md is generated from the settings structs; this fails when
// someone changes a setting without regenerating it (make settings-doc).
func TestSettingsReferenceIsCurrent(t *testing.T) {
	reg, err := engine.NewRegistry(plugins.All()...)
	if err != nil {
		t.Fatal(err)
	}
	want := settingsReference(reg)
	path := filepath.Join("..", "..", "docs", "settings.md")
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatal("docs/settings.md is out of date: run `make settings-doc` (or go test ./cmd/switchboard -run SettingsReference -update)")
	}
}

func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestCommands(t *testing.T) {
	t.Parallel()
	if out, _, err := runCLI(t, "version"); err != nil || !strings.HasPrefix(out, "switchboard ") {
		t.Errorf("version: %q %v", out, err)
	}
	if _, errOut, err := runCLI(t, "frobnicate"); exitCode(err) != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: %q %v", errOut, err)
	}
	if _, _, err := runCLI(t); exitCode(err) != 2 {
		t.Errorf("no command: %v", err)
	}
	out, _, err := runCLI(t, "plugins")
	if err != nil || !strings.Contains(out, "autotask") || !strings.Contains(out, "integration_code") {
		t.Errorf("plugins: %q %v", out, err)
	}
	if _, errOut, err := runCLI(t, "serve", "--log-format", "yaml", "--data-dir", t.TempDir()); err == nil || !strings.Contains(err.Error(), "use text or json") {
		t.Errorf("bad log format: %v %s", err, errOut)
	}
	for _, r := range []string{"thirty days", "-1h", "0s"} {
		if _, _, err := runCLI(t, "serve", "--retention", r, "--data-dir", t.TempDir()); err == nil || !strings.Contains(err.Error(), "positive duration") {
			t.Errorf("--retention %s: %v", r, err)
		}
	}
	if _, _, err := runCLI(t, "serve", "--durability", "fast", "--data-dir", t.TempDir()); err == nil || !strings.Contains(err.Error(), "power") || !strings.Contains(err.Error(), "process") {
		t.Errorf("--durability fast: %v, want the two choices named", err)
	}
}

func TestMigrateCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	createInstallation(t, dir)
	out, _, err := runCLI(t, "migrate", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "applied") || strings.Contains(out, "pending") {
		t.Fatalf("migrate: %q %v", out, err)
	}
	out, _, err = runCLI(t, "migrate", "--status", "--data-dir", dir)
	if err != nil || strings.Contains(out, "pending") || !strings.Contains(out, "00001") {
		t.Fatalf("migrate --status: %q %v", out, err)
	}
}

func TestEnvironmentTwins(t *testing.T) {
	t.Setenv("SWITCHBOARD_DATA_DIR", "/srv/switchboard")
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	c := addCommon(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if *c.dataDir != "/srv/switchboard" {
		t.Fatalf("data dir %q, want the environment's", *c.dataDir)
	}
	if err := fs.Parse([]string{"--data-dir", "/tmp/x"}); err != nil || *c.dataDir != "/tmp/x" {
		t.Fatalf("a flag must win over the environment: %q", *c.dataDir)
	}
}

func TestResetPassword(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SWITCHBOARD_ADMIN_PASSWORD", "a-new-long-password")
	auth.BcryptCost = bcrypt.MinCost
	createInstallation(t, dir)
	out, _, err := runCLI(t, "reset-password", "--data-dir", dir, "--user", "admin")
	if err != nil || !strings.Contains(out, "password of admin set") {
		t.Fatalf("reset-password: %q %v", out, err)
	}
	st, err := store.Open(context.Background(), store.DefaultPath(dir), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := auth.New(st, nil).Verify(context.Background(), "admin", "a-new-long-password", "127.0.0.1"); err != nil {
		t.Fatalf("the new password does not sign in: %v", err)
	}
	t.Setenv("SWITCHBOARD_ADMIN_PASSWORD", "short")
	if _, _, err := runCLI(t, "reset-password", "--data-dir", dir); err == nil {
		t.Fatal("a too-short password was accepted")
	}
}

// createInstallation makes the database serve would make in dir.
func createInstallation(t *testing.T, dir string) {
	t.Helper()
	st, err := store.Open(context.Background(), store.DefaultPath(dir), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestMaintenanceNeverCreatesADatabase: a maintenance command pointed at the
// wrong folder says where it looked and how to point it, and leaves no new
// database behind that would make the mistake look like success.
func TestMaintenanceNeverCreatesADatabase(t *testing.T) {
	t.Setenv("SWITCHBOARD_ADMIN_PASSWORD", "a-new-long-password")
	for _, args := range [][]string{
		{"reset-password"},
		{"migrate"},
		{"migrate", "--status"},
	} {
		dir := filepath.Join(t.TempDir(), "wrong")
		_, _, err := runCLI(t, append(args, "--data-dir", dir)...)
		if err == nil {
			t.Errorf("%v in a folder without a database succeeded", args)
			continue
		}
		if !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "--data-dir") {
			t.Errorf("%v: %q does not say where it looked and how to point it", args, err)
		}
		if _, err := os.Stat(store.DefaultPath(dir)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%v created a database in the wrong folder (%v)", args, err)
		}
	}
}
