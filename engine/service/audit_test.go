package service

import (
	"context"
	"testing"
)

// TestAuditRecordsRealChangesWithLabels checks that the audit log names
// fields by their labels, leaves empty fields out of a creation, and
// writes nothing for a save that changed nothing.
func TestAuditRecordsRealChangesWithLabels(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t, nil)
	ctx := context.Background()
	cfg, err := svc.CreateConfig(ctx, "admin", input(validApp(), map[string]any{"username": "u", "password": "pw"}))
	if err != nil {
		t.Fatal(err)
	}
	audit, _ := svc.Audit(ctx, 10)
	if len(audit) != 1 {
		t.Fatalf("audit = %+v", audit)
	}
	for _, c := range audit[0].Changes {
		if c.New == "" || c.New == "false" || c.New == "null" || c.New == "[]" {
			t.Errorf("creation records the empty field %s (%q)", c.Field, c.New)
		}
		if c.Label == "" {
			t.Errorf("change of %s has no label", c.Field)
		}
	}

	// The same values saved again: no entry.
	if _, err := svc.UpdateConfig(ctx, "admin", cfg.ID, input(validApp(), map[string]any{"username": "u"})); err != nil {
		t.Fatal(err)
	}
	if audit, _ = svc.Audit(ctx, 10); len(audit) != 1 {
		t.Errorf("a save that changed nothing was audited: %+v", audit[0])
	}
	// One real change: one entry, one labelled change.
	if _, err := svc.UpdateConfig(ctx, "admin", cfg.ID, input(validApp(), map[string]any{"username": "u", "note": "hello"})); err != nil {
		t.Fatal(err)
	}
	audit, _ = svc.Audit(ctx, 10)
	if len(audit) != 2 || len(audit[0].Changes) != 1 || audit[0].Changes[0].Label != "Note" || audit[0].Changes[0].New != "hello" {
		t.Errorf("audit after one change = %+v", audit[0])
	}
}
