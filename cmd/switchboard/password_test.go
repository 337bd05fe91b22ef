package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"switchboard/engine/auth"
	"switchboard/engine/store"
)

// signsIn reports whether password signs admin in on the installation in dir.
func signsIn(t *testing.T, dir, password string) bool {
	t.Helper()
	st, err := store.Open(context.Background(), store.DefaultPath(dir), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = auth.New(st, nil).Verify(context.Background(), "admin", password, "127.0.0.1")
	return err == nil
}

// TestResetPasswordNeverFromArgv: no flag takes the password (ps and shell
// history would show it); a pipe on stdin gives it, without a prompt; an
// empty stdin changes nothing.
func TestResetPasswordNeverFromArgv(t *testing.T) {
	t.Setenv("SWITCHBOARD_ADMIN_PASSWORD", "")
	auth.BcryptCost = bcrypt.MinCost
	dir := t.TempDir()
	createInstallation(t, dir)
	var out, errOut bytes.Buffer
	for _, flag := range []string{"--password", "--pass", "--new-password"} {
		err := resetPassword(context.Background(), []string{"--data-dir", dir, flag, "argv-password-1"}, strings.NewReader(""), &out, &errOut)
		if err == nil {
			t.Fatalf("%s was accepted as a flag", flag)
		}
	}
	if signsIn(t, dir, "argv-password-1") {
		t.Fatal("a password given in argv was set")
	}
	if err := resetPassword(context.Background(), []string{"--data-dir", dir}, strings.NewReader(""), &out, &errOut); err == nil ||
		!strings.Contains(err.Error(), "no password") {
		t.Fatalf("an empty stdin: %v", err)
	}
	errOut.Reset()
	if err := resetPassword(context.Background(), []string{"--data-dir", dir}, strings.NewReader("piped-password-2\r\nignored\n"), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !signsIn(t, dir, "piped-password-2") {
		t.Fatal("the piped password does not sign in")
	}
	if strings.Contains(out.String()+errOut.String(), "piped-password-2") {
		t.Fatalf("the password was written out: %q %q", out.String(), errOut.String())
	}
}
