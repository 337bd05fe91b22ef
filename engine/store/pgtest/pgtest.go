// Package pgtest gives tests a PostgreSQL database of their own: a fresh
// schema in the test server's database, dropped when the test ends, so
// tests and packages running in parallel never see each other's rows.
//
// The server is SWITCHBOARD_TEST_POSTGRES (default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable). When it does
// not answer the test is skipped, or fails when CI=true: CI must prove
// the PostgreSQL dialect, not skip it.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the test server when SWITCHBOARD_TEST_POSTGRES is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// BaseURL is the test server's URL.
func BaseURL() string {
	if u := os.Getenv("SWITCHBOARD_TEST_POSTGRES"); u != "" {
		return u
	}
	return DefaultURL
}

// Server returns BaseURL once the test server answers; a harness that
// makes its own schemas (cmd/switchboard-chaos) needs only that. It skips
// or fails t as Unavailable does.
func Server(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, BaseURL())
	if err != nil {
		Unavailable(t, err)
	}
	_ = conn.Close(context.Background())
	return BaseURL()
}

// URL creates an empty schema for t and returns a URL whose connections
// use it (search_path), for store.Open. The schema is dropped at cleanup.
func URL(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u, drop, err := NewSchema(ctx, BaseURL(), "t_")
	if errors.Is(err, errConnect) {
		Unavailable(t, err)
	}
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Logf("pgtest: %v", err)
		}
	})
	return u
}

var errConnect = errors.New("connect")

// NewSchema creates an empty schema named prefix and random hex on the
// server of base and returns a URL whose connections use it (search_path)
// and the function that drops it with everything in it. Harnesses that run
// engines as processes (cmd/switchboard-chaos, cmd/switchboard-load) use it
// too, so that runs in parallel never share rows.
func NewSchema(ctx context.Context, base, prefix string) (string, func() error, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, errors.New("the PostgreSQL URL does not parse") // not echoed: it may hold a password
	}
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, fmt.Errorf("%w to PostgreSQL at %s: %w", errConnect, u.Host, err)
	}
	defer conn.Close(context.Background())
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := prefix + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, fmt.Errorf("create schema %s: %w", schema, err)
	}
	drop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			return fmt.Errorf("drop schema %s: %w", schema, err)
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			return fmt.Errorf("drop schema %s: %w", schema, err)
		}
		return nil
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}

// Unavailable skips t because the test server does not answer, or fails
// it when CI=true.
func Unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("PostgreSQL at %s does not answer (CI=true: this fails rather than skips): %v", BaseURL(), err)
	}
	t.Skipf("PostgreSQL at %s does not answer; skipped (set CI=true to fail instead): %v", BaseURL(), err)
}
