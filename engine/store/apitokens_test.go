package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestAPITokenRows: on either database a token is stored with its audit
// line, found by prefix, revoked once (a second revoke changes nothing and
// writes no second audit line), and its last use only moves forward.
func TestAPITokenRows(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		tok := &APIToken{Name: "SOAR", Prefix: "abcdefghijkl", TokenHash: strings.Repeat("a", 64), Scope: "read", CreatedBy: "admin"}
		if err := st.CreateAPIToken(ctx, tok, AuditEntry{Actor: "admin", Action: "apitoken.create", Summary: "created"}); err != nil {
			t.Fatal(err)
		}
		found, err := st.APITokensByPrefix(ctx, "abcdefghijkl")
		if err != nil || len(found) != 1 || found[0].ID != tok.ID || found[0].CreatedAt == 0 || found[0].RevokedAt != 0 {
			t.Fatalf("by prefix: %+v %v", found, err)
		}
		if none, err := st.APITokensByPrefix(ctx, "zzzzzzzzzzzz"); err != nil || len(none) != 0 {
			t.Fatalf("unknown prefix: %+v %v", none, err)
		}
		later, earlier := time.Now().Add(time.Minute), time.Now()
		if err := st.TouchAPIToken(ctx, tok.ID, later); err != nil {
			t.Fatal(err)
		}
		if err := st.TouchAPIToken(ctx, tok.ID, earlier); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := st.RevokeAPIToken(ctx, tok.ID, AuditEntry{Actor: "admin", Action: "apitoken.revoke", Summary: "revoked"}); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.RevokeAPIToken(ctx, tok.ID+100, AuditEntry{}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown id: %v", err)
		}
		list, err := st.ListAPITokens(ctx)
		if err != nil || len(list) != 1 || list[0].RevokedAt == 0 || list[0].LastUsedAt != later.UnixMilli() {
			t.Fatalf("list: %+v %v", list, err)
		}
		audit, err := st.Audit(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		revokes := 0
		for _, a := range audit {
			if a.Action == "apitoken.revoke" {
				revokes++
			}
		}
		if revokes != 1 {
			t.Fatalf("%d revoke audit lines, want 1", revokes)
		}
	})
}
