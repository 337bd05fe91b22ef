package store

import (
	"context"
	"errors"
	"sync"
	"testing"
)

// TestAdminsNeverAllDisabled: two admins disabling each other at once (or
// removing each other) cannot both succeed, on either database: one
// enabled account is always left.
func TestAdminsNeverAllDisabled(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		for round, op := range []func(id int64) error{
			func(id int64) error {
				return st.SetAdminDisabled(ctx, id, true, AuditEntry{Actor: "t", Action: "admin.disable"})
			},
			func(id int64) error {
				return st.DeleteAdminUser(ctx, id, AuditEntry{Actor: "t", Action: "admin.remove"})
			},
		} {
			var ids []int64
			for _, name := range []string{"a", "b"} {
				u := &AdminUser{Username: name + string(rune('0'+round)), PasswordHash: "x"}
				if err := st.CreateAdminUser(ctx, u, AuditEntry{Actor: "t", Action: "admin.create"}); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, u.ID)
			}
			if err := st.CreateAdminUser(ctx, &AdminUser{Username: "a" + string(rune('0'+round)), PasswordHash: "x"}, AuditEntry{}); !errors.Is(err, ErrAdminNameTaken) {
				t.Fatalf("a taken username: %v", err)
			}
			// Earlier rounds' accounts are out of the way first.
			all, _ := st.ListAdminUsers(ctx)
			for _, u := range all {
				if u.ID != ids[0] && u.ID != ids[1] && !u.Disabled() {
					if err := st.SetAdminDisabled(ctx, u.ID, true, AuditEntry{}); err != nil {
						t.Fatal(err)
					}
				}
			}
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, id := range ids {
				wg.Go(func() { errs[i] = op(id) })
			}
			wg.Wait()
			ok, last := 0, 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case errors.Is(err, ErrLastAdmin):
					last++
				default:
					t.Fatal(err)
				}
			}
			if ok != 1 || last != 1 {
				t.Fatalf("round %d: %d succeeded, %d refused as the last; want one each", round, ok, last)
			}
			all, _ = st.ListAdminUsers(ctx)
			enabled := 0
			for _, u := range all {
				if !u.Disabled() {
					enabled++
				}
			}
			if enabled != 1 {
				t.Fatalf("round %d: %d enabled accounts left", round, enabled)
			}
		}
	})
}
