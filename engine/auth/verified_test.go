package auth

import (
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"switchboard/engine/store"
)

// countCompares makes m count its bcrypt comparisons.
func countCompares(m *Manager) *atomic.Int64 {
	var n atomic.Int64
	m.compare = func(hash, password []byte) error {
		n.Add(1)
		return bcrypt.CompareHashAndPassword(hash, password)
	}
	return &n
}

// The command line authenticates every API request with HTTP Basic: the
// password is hashed with bcrypt once, and later requests with the same
// credentials are checked against a keyed hash of them. A wrong password
// always costs bcrypt, and a changed password is never let in by the old
// one.
func TestVerifyHashesACorrectPasswordOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	m, _ := newTestManager(t)
	if _, err := m.Bootstrap(ctx, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	n := countCompares(m)
	for i := range 3 {
		if _, err := m.Verify(ctx, DefaultUsername, "correct horse battery", "127.0.0.1"); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if n.Load() != 1 {
		t.Fatalf("%d bcrypt comparisons for three requests with one password, want 1", n.Load())
	}
	for i := range 2 {
		if _, err := m.Verify(ctx, DefaultUsername, "correct horse batterY", "127.0.0.2"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("wrong password %d: %v", i, err)
		}
	}
	if n.Load() != 3 {
		t.Fatalf("%d bcrypt comparisons after two wrong passwords, want 3 (each wrong one hashed)", n.Load())
	}
	if err := m.ResetPassword(ctx, DefaultUsername, "a brand new passphrase"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Verify(ctx, DefaultUsername, "correct horse battery", "127.0.0.3"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("old password after a reset: %v, want refused", err)
	}
	if _, err := m.Verify(ctx, DefaultUsername, "a brand new passphrase", "127.0.0.3"); err != nil {
		t.Fatalf("new password: %v", err)
	}
}

// BenchmarkVerify is one API request's password check at the production
// cost: "bcrypt" with credentials not seen before, "cached" with
// credentials already verified.
func BenchmarkVerify(b *testing.B) {
	st, err := store.Open(b.Context(), filepath.Join(b.TempDir(), "switchboard.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	m := New(st, nil)
	m.cost = 12
	if _, err := m.Bootstrap(b.Context(), "correct horse battery"); err != nil {
		b.Fatal(err)
	}
	b.Run("bcrypt", func(b *testing.B) {
		for b.Loop() {
			m.verified.clear()
			if _, err := m.Verify(b.Context(), DefaultUsername, "correct horse battery", "127.0.0.1"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			if _, err := m.Verify(b.Context(), DefaultUsername, "correct horse battery", "127.0.0.1"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
