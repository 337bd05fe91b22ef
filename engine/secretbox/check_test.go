package secretbox_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"switchboard/engine/secretbox"
	"switchboard/engine/store"
	"switchboard/engine/storetest"
)

// sealConfig stores a configuration whose secrets box sealed.
func sealConfig(t *testing.T, st *store.Store, box *secretbox.Box) int64 {
	t.Helper()
	c := &store.Config{Plugin: "autotask", Name: "main", ApplianceID: "Default"}
	err := st.CreateConfig(context.Background(), c, store.AuditEntry{Actor: "test", Action: "create", Summary: "test"},
		func(id int64) (string, []byte, error) {
			return "{}", box.Seal([]byte(`{"settings.password":"hunter2"}`), secretbox.Associated(id)), nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func TestLoadFreshInstallationCreatesKeyAndCheckValue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir, st := t.TempDir(), storetest.Open(t)
	box, err := secretbox.Load(ctx, dir, "", st)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(dir, secretbox.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, want 0600", info.Mode().Perm())
	}
	check, err := st.KeyCheck(ctx)
	if err != nil || check == nil {
		t.Fatalf("no key check value stored: %v", err)
	}
	key, _ := os.ReadFile(filepath.Join(dir, secretbox.KeyFile))
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(string(key)))
	if bytes.Contains(check, raw) || bytes.Contains(check, key) {
		t.Fatal("the key check value contains the key")
	}
	if !box.Matches(check) {
		t.Fatal("the stored check value does not match the key")
	}
	id := sealConfig(t, st, box)
	again, err := secretbox.Load(ctx, dir, "", st)
	if err != nil {
		t.Fatalf("second start with the same key: %v", err)
	}
	if got := again.Unopenable(mustSealed(t, st)); len(got) != 0 {
		t.Fatalf("configuration %d unopenable after a restart: %v", id, got)
	}
}

func mustSealed(t *testing.T, st *store.Store) map[int64][]byte {
	t.Helper()
	m, err := st.SealedSecrets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// installed returns a data directory and store set up by a first start with
// one configuration holding sealed secrets.
func installed(t *testing.T) (string, *store.Store) {
	t.Helper()
	dir, st := t.TempDir(), storetest.Open(t)
	box, err := secretbox.Load(context.Background(), dir, "", st)
	if err != nil {
		t.Fatal(err)
	}
	sealConfig(t, st, box)
	return dir, st
}

func wantRefused(t *testing.T, err error, mentions ...string) {
	t.Helper()
	if !errors.Is(err, secretbox.ErrKeyMismatch) {
		t.Fatalf("Load = %v, want ErrKeyMismatch", err)
	}
	for _, m := range append(mentions, "switchboard secrets clear-unopenable", "restore") {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("refusal does not mention %q:\n%v", m, err)
		}
	}
}

func TestLoadRefusesReplacedKeyFile(t *testing.T) {
	t.Parallel()
	dir, st := installed(t)
	path := filepath.Join(dir, secretbox.KeyFile)
	other := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)) + "\n"
	if err := os.WriteFile(path, []byte(other), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := secretbox.Load(context.Background(), dir, "", st)
	abs, _ := filepath.Abs(path)
	wantRefused(t, err, abs)
	if b, _ := os.ReadFile(path); string(b) != other {
		t.Fatal("the refused key file was changed")
	}
}

func TestLoadRefusesMissingKeyFileAndMakesNone(t *testing.T) {
	t.Parallel()
	dir, st := installed(t)
	path := filepath.Join(dir, secretbox.KeyFile)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	_, err := secretbox.Load(context.Background(), dir, "", st)
	wantRefused(t, err, "missing")
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a new key file was written over an installation that had one: %v", err)
	}
}

func TestLoadRefusesWrongEnvironmentKey(t *testing.T) {
	t.Parallel()
	dir, st := installed(t)
	env := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))
	_, err := secretbox.Load(context.Background(), dir, env, st)
	wantRefused(t, err, secretbox.EnvKey)
}

// A database from before key checks has sealed secrets and no check value.
func TestLoadDatabaseWithoutCheckValue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	key := bytes.Repeat([]byte{1}, 32)
	env := base64.StdEncoding.EncodeToString(key)
	box, _ := secretbox.New(key)

	st := storetest.Open(t)
	sealConfig(t, st, box)
	wrong := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
	_, err := secretbox.Load(ctx, t.TempDir(), wrong, st)
	wantRefused(t, err)
	dir := t.TempDir()
	_, err = secretbox.Load(ctx, dir, "", st)
	wantRefused(t, err, "missing")
	if _, err := os.Stat(filepath.Join(dir, secretbox.KeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a new key file was written over sealed secrets")
	}
	if check, _ := st.KeyCheck(ctx); check != nil {
		t.Fatal("a refused key left a check value")
	}

	got, err := secretbox.Load(ctx, t.TempDir(), env, st)
	if err != nil {
		t.Fatalf("the right key was refused: %v", err)
	}
	check, _ := st.KeyCheck(ctx)
	if check == nil || !got.Matches(check) {
		t.Fatal("the right key's check value was not stored")
	}
}

// A database from before key checks whose only sealed secret is a stored
// source's is refused a key that cannot open it, as one holding a
// configuration's is: the key check value is not written over it.
func TestLoadWithoutCheckValueCountsStoredSources(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	key := bytes.Repeat([]byte{3}, 32)
	box, _ := secretbox.New(key)
	st := storetest.Open(t)
	src := &store.SourceConfig{Kind: "pmcloud", Name: "acme"}
	if err := st.CreateSourceConfig(ctx, src, store.AuditEntry{Actor: "test", Action: "create", Summary: "test"},
		func(id int64) (string, []byte, error) {
			return "{}", box.Seal([]byte(`{"client_secret":"pm-secret"}`), secretbox.AssociatedSource(id)), nil
		}); err != nil {
		t.Fatal(err)
	}
	wrong := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{4}, 32))
	_, err := secretbox.Load(ctx, t.TempDir(), wrong, st)
	wantRefused(t, err, "sources with sealed secrets: 1")
	if strings.Contains(fmt.Sprint(err), "pm-secret") {
		t.Fatal("the refusal shows the secret")
	}
	if check, _ := st.KeyCheck(ctx); check != nil {
		t.Fatal("a key that opens no stored source's secret left a check value")
	}
	if _, err := secretbox.Load(ctx, t.TempDir(), base64.StdEncoding.EncodeToString(key), st); err != nil {
		t.Fatalf("the right key was refused: %v", err)
	}
}
