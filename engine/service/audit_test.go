package service

import (
	"context"
	"testing"

	"switchboard/engine"
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

// TestAuditShowsJSONAsTyped: a JSON setting's change reads as the admin's
// text, and other values are JSON without \u003c escapes.
func TestAuditShowsJSONAsTyped(t *testing.T) {
	t.Parallel()
	typed := "{\n  \"contactID\": \"<<emailAddress|customer_email>>\"\n}"
	for _, tt := range []struct {
		v    any
		want string
	}{
		{engine.JSONText(typed), typed},
		{[]string{"a<b", "c&d"}, `["a<b","c&d"]`},
		{map[string]string{"k": "<v>"}, `{"k":"<v>"}`},
		{3, "3"},
	} {
		if got := show(tt.v); got != tt.want {
			t.Errorf("show(%#v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

// TestAuditIgnoresEmptyToEmpty: a list that was absent and is now empty
// (a form posts no option as []) is no change.
func TestAuditIgnoresEmptyToEmpty(t *testing.T) {
	t.Parallel()
	a, b := engine.ApplianceSettings{Name: "x"}, engine.ApplianceSettings{Name: "x", PollingEvents: []string{}}
	if got := diffFields(&a, &b); len(got) != 0 {
		t.Errorf("changes = %+v, want none", got)
	}
}
