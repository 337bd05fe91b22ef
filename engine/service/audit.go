package service

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	"switchboard/engine"
)

// Change is one field an audit entry records as changed. Secret fields show
// only that they were set, replaced or cleared.
type Change struct {
	Field string `json:"field"`
	// Label is the field's label on the form (entries written before labels
	// were recorded have none).
	Label string `json:"label,omitempty"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// AuditEntry is one recorded configuration change.
type AuditEntry struct {
	ID       int64    `json:"id"`
	At       string   `json:"at"`
	Actor    string   `json:"actor"`
	Action   string   `json:"action"`
	ConfigID int64    `json:"config_id"`
	Summary  string   `json:"summary"`
	Changes  []Change `json:"changes"`
}

// Audit returns the newest audit entries first.
func (s *Service) Audit(ctx context.Context, limit int) ([]AuditEntry, error) {
	rows, err := s.st.Audit(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]AuditEntry, 0, len(rows))
	for i := range rows {
		r := &rows[i]
		e := AuditEntry{ID: r.ID, At: r.When().Format("2006-01-02T15:04:05Z07:00"), Actor: r.Actor, Action: r.Action, ConfigID: r.ConfigID, Summary: r.Summary}
		_ = json.Unmarshal([]byte(r.Changes), &e.Changes)
		out = append(out, e)
	}
	return out, nil
}

// diff lists the fields that differ between two versions of a
// configuration, as JSON for the audit log. Old values may be nil (create).
func diff(oldApp, newApp *engine.ApplianceSettings, oldSettings, newSettings any) string {
	var oldA any // a nil *ApplianceSettings must read as "no old value"
	if oldApp != nil {
		oldA = oldApp
	}
	changes := append(diffFields(oldA, newApp), diffFields(oldSettings, newSettings)...)
	if changes == nil {
		changes = []Change{}
	}
	b, _ := json.Marshal(changes)
	return string(b)
}

// diffFields lists the fields whose values differ; oldV nil means all are
// new, and then fields left empty are not listed.
func diffFields(oldV, newV any) []Change {
	var out []Change
	for _, f := range engine.Fields(newV, nil) {
		nv, _ := engine.FieldValue(newV, f.Name)
		var ov any
		if oldV != nil {
			ov, _ = engine.FieldValue(oldV, f.Name)
		}
		if f.Kind == engine.KindSecret {
			if c, ok := secretChange(ov, nv); ok {
				c.Field, c.Label = f.Name, f.Label
				out = append(out, c)
			}
			continue
		}
		os, ns := show(ov), show(nv)
		if oldV == nil && empty(ns) {
			continue
		}
		if os != ns && !(empty(os) && empty(ns)) {
			out = append(out, Change{Field: f.Name, Label: f.Label, Old: os, New: ns})
		}
	}
	return out
}

// empty says whether a shown value is a field left empty.
func empty(shown string) bool {
	switch shown {
	case "", "false", "0", "null", "[]", "{}":
		return true
	}
	return false
}

func secretChange(oldV, newV any) (Change, bool) {
	o, _ := oldV.(engine.Secret)
	n, _ := newV.(engine.Secret)
	switch {
	case !o.IsSet() && n.IsSet():
		return Change{Old: "", New: "[set]"}, true
	case o.IsSet() && !n.IsSet():
		return Change{Old: "[set]", New: "[cleared]"}, true
	case o.Reveal() != n.Reveal():
		return Change{Old: "[set]", New: "[replaced]"}, true
	}
	return Change{}, false
}

func show(v any) string {
	if v == nil {
		return ""
	}
	switch x := v.(type) {
	case string:
		return x
	case fmt.Stringer:
		return x.String()
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.String {
		return rv.String() // a named string type, such as JSON as typed
	}
	b, err := engine.MarshalPlain(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
