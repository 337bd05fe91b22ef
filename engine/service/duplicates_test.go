package service

import (
	"context"
	"testing"
)

// TestDuplicates: an enabled configuration of the same plugin that reads
// the same appliance and writes to the same destination (the settings its
// secrets are bound to) would write every note twice; another tenant, or
// another appliance, or a disabled one would not.
func TestDuplicates(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t, nil)
	ctx := context.Background()
	create := func(name, host, user string) int64 {
		app := validApp()
		app["name"], app["host"] = name, host
		cfg, err := svc.CreateConfig(ctx, "admin", input(app, map[string]any{"username": user, "password": "pw"}))
		if err != nil {
			t.Fatal(err)
		}
		return cfg.ID
	}
	a := create("A", "support.example.com", "api@tenant1")
	otherTenant := create("B", "support.example.com", "api@tenant2")
	otherAppliance := create("C", "other.example.com", "api@tenant1")
	if d, err := svc.Duplicates(ctx, a); err != nil || len(d) != 0 {
		t.Fatalf("duplicates of A = %+v, %v; want none", d, err)
	}
	cp, err := svc.CopyConfig(ctx, "admin", a)
	if err != nil {
		t.Fatal(err)
	}
	// The copy is disabled, but it is the one the admin is looking at:
	// it duplicates A, the enabled one.
	d, err := svc.Duplicates(ctx, cp.ID)
	if err != nil || len(d) != 1 || d[0].ID != a {
		t.Fatalf("duplicates of the copy = %+v, %v; want A", d, err)
	}
	// A disabled copy is no duplicate of A.
	if d, _ := svc.Duplicates(ctx, a); len(d) != 0 {
		t.Errorf("A is duplicated by the disabled copy: %+v", d)
	}
	if err := svc.SetDisabled(ctx, "admin", cp.ID, false); err != nil {
		t.Fatal(err)
	}
	if d, _ := svc.Duplicates(ctx, a); len(d) != 1 || d[0].ID != cp.ID {
		t.Errorf("duplicates of A with the copy enabled = %+v", d)
	}
	for _, id := range []int64{otherTenant, otherAppliance} {
		if d, _ := svc.Duplicates(ctx, id); len(d) != 0 {
			t.Errorf("configuration %d has duplicates %+v", id, d)
		}
	}
}
