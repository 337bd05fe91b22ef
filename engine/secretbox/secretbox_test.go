package secretbox

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadCreatesKeyFileWithMode0600(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b1, err := Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, want 0600", info.Mode().Perm())
	}
	sealed := b1.Seal([]byte("hunter2"), []byte("config:1"))
	if bytes.Contains(sealed, []byte("hunter2")) {
		t.Fatal("sealed value contains the plaintext")
	}
	b2, err := Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := b2.Open(sealed, []byte("config:1"))
	if err != nil || string(got) != "hunter2" {
		t.Fatalf("reloaded key: Open = %q, %v", got, err)
	}
	if _, err := b2.Open(sealed, []byte("config:2")); err == nil {
		t.Fatal("a value sealed for config 1 opened as config 2")
	}
}

func TestLoadRefusesBadKeys(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, KeyFile), []byte("not base64!"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir, ""); err == nil {
		t.Fatal("Load accepted a broken key file")
	}
	if _, err := Load(t.TempDir(), "c2hvcnQ="); err == nil {
		t.Fatal("Load accepted a 5-byte key from the environment")
	}
	open := t.TempDir()
	if err := os.WriteFile(filepath.Join(open, KeyFile), []byte("AAAA"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(open, ""); err == nil {
		t.Fatal("Load accepted a world-readable key file")
	}
}

func TestOpenWithAnotherKeyFails(t *testing.T) {
	t.Parallel()
	a, _ := Load(t.TempDir(), "")
	b, _ := Load(t.TempDir(), "")
	if _, err := b.Open(a.Seal([]byte("x"), nil), nil); err != ErrCannotOpen {
		t.Fatalf("Open with another key: %v, want ErrCannotOpen", err)
	}
}
