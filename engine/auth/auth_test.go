package auth

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"switchboard/engine/store"
)

func TestMain(m *testing.M) {
	// The race detector makes a cost-12 bcrypt check take seconds.
	BcryptCost = bcrypt.MinCost
	os.Exit(m.Run())
}

func newTestManager(t *testing.T) (*Manager, *store.Store) {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "switchboard.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return New(st, nil), st
}

func TestBootstrapWithPassword(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	m, _ := newTestManager(t)

	if _, err := m.Bootstrap(ctx, "short"); err == nil || !strings.Contains(err.Error(), "SWITCHBOARD_ADMIN_PASSWORD") {
		t.Fatalf("Bootstrap with a short password: err = %v, want a rule error naming the variable", err)
	}
	link, err := m.Bootstrap(ctx, "correct horse battery")
	if err != nil || link != "" {
		t.Fatalf("Bootstrap = %q, %v; want no link and no error", link, err)
	}
	if _, err := m.Verify(ctx, DefaultUsername, "correct horse battery", "127.0.0.1"); err != nil {
		t.Fatalf("Verify the bootstrapped password: %v", err)
	}
	// A later start with another password leaves the account alone.
	if link, err := m.Bootstrap(ctx, "another password"); err != nil || link != "" {
		t.Fatalf("second Bootstrap = %q, %v", link, err)
	}
	if _, err := m.Verify(ctx, DefaultUsername, "another password", "127.0.0.1"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("second Bootstrap changed the password: err = %v", err)
	}
}

func TestSetupLink(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	m, _ := newTestManager(t)

	first, err := m.Bootstrap(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	link, err := m.Bootstrap(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	token, ok := strings.CutPrefix(link, "/setup?token=")
	if !ok || len(token) < 40 {
		t.Fatalf("setup link = %q, want /setup?token=<long random token>", link)
	}
	oldToken := strings.TrimPrefix(first, "/setup?token=")
	if ok, _ := m.SetupTokenValid(ctx, oldToken); ok {
		t.Error("a replaced setup link still works")
	}
	if ok, err := m.SetupTokenValid(ctx, token); !ok || err != nil {
		t.Fatalf("SetupTokenValid(current) = %v, %v", ok, err)
	}

	tests := []struct {
		name, token, user, password string
		want                        string
	}{
		{"wrong token", "nope", "admin", "long enough password", store.ErrSetupToken.Error()},
		{"empty token", "", "admin", "long enough password", store.ErrSetupToken.Error()},
		{"short password", token, "admin", "short", "at least 10 characters"},
		{"colon in username", token, "ad:min", "long enough password", "colon"},
		{"password over bcrypt's limit", token, "admin", strings.Repeat("x", 73), "at most 72 bytes"},
	}
	for _, tt := range tests {
		err := m.CompleteSetup(ctx, tt.token, tt.user, tt.password)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: CompleteSetup error = %v, want it to say %q", tt.name, err, tt.want)
		}
	}

	if err := m.CompleteSetup(ctx, token, "alice", "long enough password"); err != nil {
		t.Fatalf("CompleteSetup: %v", err)
	}
	if err := m.CompleteSetup(ctx, token, "mallory", "long enough password"); err == nil {
		t.Fatal("the setup link worked twice")
	}
	if ok, _ := m.SetupTokenValid(ctx, token); ok {
		t.Error("the setup link is still valid after use")
	}
	if link, err := m.Bootstrap(ctx, ""); link != "" || err != nil {
		t.Errorf("Bootstrap with an account = %q, %v; want nothing", link, err)
	}
	if _, err := m.Verify(ctx, "alice", "long enough password", "127.0.0.1"); err != nil {
		t.Errorf("Verify the account created by setup: %v", err)
	}
}

func TestLoginSessions(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	m, _ := newTestManager(t)
	if _, err := m.Bootstrap(ctx, "correct horse battery"); err != nil {
		t.Fatal(err)
	}

	if _, err := m.Login(ctx, "admin", "wrong password", "10.0.0.1", "test"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("Login with a wrong password: err = %v", err)
	}
	if _, err := m.Login(ctx, "nobody", "correct horse battery", "10.0.0.1", "test"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("Login with an unknown user: err = %v", err)
	}
	sess, err := m.Login(ctx, " admin ", "correct horse battery", "10.0.0.1", "test")
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if sess.User.Username != "admin" || time.Until(sess.Expires) < SessionIdle-time.Minute {
		t.Errorf("session = %+v", sess)
	}
	u, err := m.Authenticate(ctx, sess.Token)
	if err != nil || u.Username != "admin" {
		t.Fatalf("Authenticate = %+v, %v", u, err)
	}
	if _, err := m.Authenticate(ctx, sess.Token+"x"); !errors.Is(err, ErrNoSession) {
		t.Errorf("Authenticate(wrong token) err = %v, want ErrNoSession", err)
	}
	if err := m.Logout(ctx, sess.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Authenticate(ctx, sess.Token); !errors.Is(err, ErrNoSession) {
		t.Errorf("Authenticate after Logout err = %v, want ErrNoSession", err)
	}
}

func TestLoginThrottled(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	m, _ := newTestManager(t)
	if _, err := m.Bootstrap(ctx, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	for range userRule.free {
		if _, err := m.Login(ctx, "admin", "guess", "10.0.0.9", ""); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("guess: err = %v", err)
		}
	}
	// Even the right password waits now: the guesser must not learn it was right.
	_, err := m.Login(ctx, "admin", "correct horse battery", "10.0.0.9", "")
	var throttled *ThrottledError
	if !errors.As(err, &throttled) || throttled.Wait <= 0 {
		t.Fatalf("Login after %d failures: err = %v, want *ThrottledError", userRule.free, err)
	}
	if !strings.Contains(err.Error(), "try again in") {
		t.Errorf("message %q does not say when to try again", err)
	}
}

func TestChangeAndResetPassword(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	m, _ := newTestManager(t)

	// Reset on an empty database creates the account.
	if err := m.ResetPassword(ctx, "ops", "first password!"); err != nil {
		t.Fatalf("ResetPassword (create): %v", err)
	}
	if err := m.ResetPassword(ctx, "someone", "first password!"); err == nil {
		t.Error("ResetPassword created a second account")
	}
	sess, err := m.Login(ctx, "ops", "first password!", "10.0.0.1", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.ChangePassword(ctx, sess.User, "not it at all", "second password!", "10.0.0.1"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("ChangePassword with a wrong current password: err = %v", err)
	}
	if err := m.ChangePassword(ctx, sess.User, "first password!", "short", "10.0.0.1"); err == nil {
		t.Error("ChangePassword accepted a short password")
	}
	if err := m.ChangePassword(ctx, sess.User, "first password!", "second password!", "10.0.0.1"); err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	if _, err := m.Authenticate(ctx, sess.Token); !errors.Is(err, ErrNoSession) {
		t.Error("a session survived the password change")
	}
	if err := m.ResetPassword(ctx, "ops", "third password!"); err != nil {
		t.Fatalf("ResetPassword: %v", err)
	}
	if _, err := m.Verify(ctx, "ops", "third password!", "10.0.0.1"); err != nil {
		t.Errorf("Verify after reset: %v", err)
	}
}

func TestRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		ok   bool
	}{
		{"10 characters", CheckPasswordRules("0123456789"), true},
		{"9 characters", CheckPasswordRules("012345678"), false},
		{"10 multibyte characters", CheckPasswordRules(strings.Repeat("ü", 10)), true},
		{"72 bytes", CheckPasswordRules(strings.Repeat("x", 72)), true},
		{"73 bytes", CheckPasswordRules(strings.Repeat("x", 73)), false},
		{"username admin", CheckUsernameRules("admin"), true},
		{"username with @", CheckUsernameRules("ops@example.com"), true},
		{"empty username", CheckUsernameRules(""), false},
		{"username with space", CheckUsernameRules("a b"), false},
		{"username with colon", CheckUsernameRules("a:b"), false},
		{"username of 65", CheckUsernameRules(strings.Repeat("a", 65)), false},
	}
	for _, tt := range tests {
		if (tt.err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok=%v", tt.name, tt.err, tt.ok)
		}
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	a, b := newToken(), newToken()
	if a == b || len(a) != 43 {
		t.Errorf("newToken gave %q and %q", a, b)
	}
	if hashToken(a) == a || len(hashToken(a)) != 64 {
		t.Errorf("hashToken(%q) = %q", a, hashToken(a))
	}
	if got := truncate("ääää", 3); got != "ä" {
		t.Errorf("truncate cut a character in half: %q", got)
	}
}

func BenchmarkAuthenticate(b *testing.B) {
	st, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "switchboard.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	m := New(st, nil)
	if _, err := m.Bootstrap(b.Context(), "correct horse battery"); err != nil {
		b.Fatal(err)
	}
	sess, err := m.Login(b.Context(), "admin", "correct horse battery", "127.0.0.1", "")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := m.Authenticate(b.Context(), sess.Token); err != nil {
			b.Fatal(err)
		}
	}
}
