package secretbox

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestCreateKeyThenReadIt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b1, err := CreateKey(dir)
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
	sealed := b1.Seal([]byte("hunter2"), Associated(1))
	if bytes.Contains(sealed, []byte("hunter2")) {
		t.Fatal("sealed value contains the plaintext")
	}
	b2, err := ReadKey(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := b2.Open(sealed, Associated(1))
	if err != nil || string(got) != "hunter2" {
		t.Fatalf("reloaded key: Open = %q, %v", got, err)
	}
	if _, err := b2.Open(sealed, Associated(2)); err == nil {
		t.Fatal("a value sealed for config 1 opened as config 2")
	}
	// A second CreateKey (another process starting at once) keeps the first key.
	b3, err := CreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b3.Open(sealed, Associated(1)); err != nil {
		t.Fatalf("CreateKey replaced an existing key file: %v", err)
	}
}

func TestReadKeyRefusesBadKeys(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, KeyFile), []byte("not base64!"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadKey(dir, ""); err == nil {
		t.Fatal("ReadKey accepted a broken key file")
	}
	if _, err := ReadKey(t.TempDir(), "c2hvcnQ="); err == nil {
		t.Fatal("ReadKey accepted a 5-byte key from the environment")
	}
	open := t.TempDir()
	if err := os.WriteFile(filepath.Join(open, KeyFile), []byte("AAAA"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadKey(open, ""); err == nil {
		t.Fatal("ReadKey accepted a world-readable key file")
	}
	empty := t.TempDir()
	if _, err := ReadKey(empty, ""); !os.IsNotExist(err) && err == nil {
		t.Fatal("ReadKey without a key file returned a key")
	}
	if _, err := os.Stat(filepath.Join(empty, KeyFile)); !os.IsNotExist(err) {
		t.Fatal("ReadKey created a key file")
	}
}

func TestOpenWithAnotherKeyFails(t *testing.T) {
	t.Parallel()
	a, _ := New(bytes.Repeat([]byte{1}, 32))
	b, _ := New(bytes.Repeat([]byte{2}, 32))
	if _, err := b.Open(a.Seal([]byte("x"), nil), nil); err != ErrCannotOpen {
		t.Fatalf("Open with another key: %v, want ErrCannotOpen", err)
	}
	if b.Matches(a.CheckValue()) || !a.Matches(a.CheckValue()) {
		t.Fatal("Matches does not tell the keys apart")
	}
	if a.Matches(a.Seal([]byte("switchboard key check v1"), Associated(1))) {
		t.Fatal("a configuration's sealed value passed as a key check value")
	}
}
