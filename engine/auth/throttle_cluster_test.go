package auth

import (
	"errors"
	"testing"

	"switchboard/engine/store"
	"switchboard/engine/store/pgtest"
)

// Two engines behind a load balancer, each with its own login stack, on
// one PostgreSQL database: failed logins against one count on the other,
// so a guesser alternating between them is slowed down as against one.
func TestThrottleSharedAcrossEngines(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn := pgtest.URL(t)
	var engines [2]*Manager
	for i := range engines {
		st, err := store.Open(ctx, dsn, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		engines[i] = New(st, nil)
	}
	const password = "correct horse battery"
	if _, err := engines[0].Bootstrap(ctx, password); err != nil {
		t.Fatal(err)
	}
	for i := range userRule.free {
		if _, err := engines[i%2].Verify(ctx, DefaultUsername, "guess", "203.0.113.7"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	// The next try, on either engine and from another address, waits:
	// the username's failures were counted on both.
	for i, m := range engines {
		var throttled *ThrottledError
		if _, err := m.Verify(ctx, DefaultUsername, password, "198.51.100.1"); !errors.As(err, &throttled) {
			t.Fatalf("engine %d let a login through after %d failures spread over two engines: %v", i, userRule.free, err)
		}
	}
	// The address is throttled on both as well, for any username.
	for i, m := range engines {
		var throttled *ThrottledError
		if _, err := m.Verify(ctx, "someone", "guess", "203.0.113.7"); !errors.As(err, &throttled) {
			t.Fatalf("engine %d did not throttle the guessing address: %v", i, err)
		}
	}
}
