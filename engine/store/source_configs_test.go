package store

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

// Stored sources on both databases: sealed secrets kept byte for byte,
// unique names, versions, the stamp moving with every change.
func TestSourceConfigs(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		stamp0, err := st.SourceConfigStamp(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sealed := []byte{0, 1, 2, 255}
		c := &SourceConfig{Kind: "pmcloud", Name: "acme"}
		seal := func(id int64) (string, []byte, error) { return `{"name":"acme"}`, sealed, nil }
		if err := st.CreateSourceConfig(ctx, c, AuditEntry{Actor: "t", Action: "create", Summary: "s"}, seal); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateSourceConfig(ctx, &SourceConfig{Kind: "appliance", Name: "acme"}, AuditEntry{Actor: "t", Action: "create", Summary: "s"}, seal); !errors.Is(err, ErrSourceNameTaken) {
			t.Fatalf("same name: %v", err)
		}
		got, err := st.GetSourceConfig(ctx, c.ID)
		if err != nil || !bytes.Equal(got.Secrets, sealed) || got.Settings != `{"name":"acme"}` || got.Version != 1 || got.EnabledAt == 0 {
			t.Fatalf("got %+v %v", got, err)
		}
		stamp1, _ := st.SourceConfigStamp(ctx)
		if stamp1 == stamp0 {
			t.Fatal("stamp did not move on create")
		}
		up := &SourceConfig{ID: c.ID, Name: "acme2", Disabled: true, Settings: "{}", Version: 1}
		if err := st.UpdateSourceConfig(ctx, up, nil, AuditEntry{}); err != nil || up.Version != 2 || up.Kind != "pmcloud" {
			t.Fatalf("update %+v %v", up, err)
		}
		if err := st.UpdateSourceConfig(ctx, &SourceConfig{ID: c.ID, Name: "x", Version: 1}, nil, AuditEntry{}); !errors.Is(err, ErrConflict) {
			t.Fatalf("stale: %v", err)
		}
		list, err := st.ListSourceConfigs(ctx)
		if err != nil || len(list) != 1 || list[0].Name != "acme2" || !list[0].Disabled {
			t.Fatalf("list %+v %v", list, err)
		}
		if err := st.DeleteSourceConfig(ctx, c.ID, AuditEntry{Actor: "t", Action: "delete", Summary: "s"}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.GetSourceConfig(ctx, c.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("after delete: %v", err)
		}
		if err := st.DeleteSourceConfig(ctx, c.ID, AuditEntry{Actor: "t", Action: "delete", Summary: "s"}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("delete twice: %v", err)
		}
	})
}

// A rename moves the source's cursor rows with it, in the update's
// transaction, and drops a deleted source's row left under the new name
// (the renamed source never goes on from another source's cursor); a poll
// still holding the old id's lease can no longer commit.
func TestRenameMovesCursorRows(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		now := time.Now()
		c := &SourceConfig{Kind: "appliance", Name: "pra"}
		if err := st.CreateSourceConfig(ctx, c, AuditEntry{Actor: "t", Action: "create", Summary: "s"}, func(int64) (string, []byte, error) { return "{}", nil, nil }); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"appliance/pra/team", "appliance/gone/team", "appliance/gone/vault"} {
			if _, _, err := st.AcquireSourceLease(ctx, id, "engine-1", now, now.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			at := now.Add(-5 * time.Hour) // the deleted source's
			if id == "appliance/pra/team" {
				at = now.Add(-time.Hour)
			}
			if _, err := st.CommitSource(ctx, SourceResult{SourceID: id, Owner: "engine-1", Cursor: at, PolledAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := st.AcquireSourceLease(ctx, "appliance/pra/team", "engine-2", now.Add(2*time.Minute), now.Add(3*time.Minute)); err != nil {
			t.Fatal(err)
		}
		moves := []CursorMove{{"appliance/pra/team", "appliance/gone/team"}, {"appliance/pra/vault", "appliance/gone/vault"}}
		up := &SourceConfig{ID: c.ID, Name: "gone", Settings: "{}"}
		if err := st.UpdateSourceConfig(ctx, up, moves, AuditEntry{}); err != nil {
			t.Fatal(err)
		}
		rows, err := st.ListSourceCursors(ctx)
		if err != nil || len(rows) != 1 || rows[0].SourceID != "appliance/gone/team" || rows[0].LeaseOwner != "engine-2" || rows[0].CursorAt != ms(now.Add(-time.Hour)) {
			t.Fatalf("cursor rows after the rename: %+v %v", rows, err)
		}
		if _, err := st.CommitSource(ctx, SourceResult{SourceID: "appliance/pra/team", Owner: "engine-2", Cursor: now, PolledAt: now}); !errors.Is(err, ErrPollLeaseLost) {
			t.Fatalf("a poll of the old id committed after the rename: %v", err)
		}
	})
}
