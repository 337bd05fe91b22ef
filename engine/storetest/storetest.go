// Package storetest opens real SQLite stores in temporary directories for
// tests of the packages built on the store.
package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"switchboard/engine/store"
)

// Open returns a migrated store in t's temporary directory, closed when the
// test ends.
func Open(t testing.TB) *store.Store {
	t.Helper()
	return OpenWith(t, store.Options{})
}

// OpenWith is Open with opts.
func OpenWith(t testing.TB, opts store.Options) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "switchboard.db"), opts)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// Config inserts a bare configuration row and returns its id.
func Config(t testing.TB, st *store.Store, plugin, applianceID string) int64 {
	t.Helper()
	c := &store.Config{Plugin: plugin, Name: plugin + " " + applianceID, ApplianceID: applianceID, Settings: "{}"}
	if err := st.CreateConfig(context.Background(), c, store.AuditEntry{Actor: "test", Action: "create", Summary: "test"}, nil); err != nil {
		t.Fatalf("create configuration: %v", err)
	}
	return c.ID
}
