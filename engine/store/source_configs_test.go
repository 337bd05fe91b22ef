package store

import (
	"bytes"
	"context"
	"errors"
	"testing"
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
		if err := st.UpdateSourceConfig(ctx, up, AuditEntry{}); err != nil || up.Version != 2 || up.Kind != "pmcloud" {
			t.Fatalf("update %+v %v", up, err)
		}
		if err := st.UpdateSourceConfig(ctx, &SourceConfig{ID: c.ID, Name: "x", Version: 1}, AuditEntry{}); !errors.Is(err, ErrConflict) {
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
