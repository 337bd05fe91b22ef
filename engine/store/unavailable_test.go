package store

import (
	"context"
	"errors"
	"testing"
)

// A store failure wraps both ErrUnavailable and its cause, so callers can
// tell a closed database or a cancelled request apart.
func TestUnavailableKeepsItsCause(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := st.Ping(ctx)
		if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) {
			t.Fatalf("ping with a cancelled context: %v; want both ErrUnavailable and context.Canceled", err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		_, err = st.Release(context.Background(), "w")
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("release on a closed store: %v; want ErrUnavailable", err)
		}
	})
}
