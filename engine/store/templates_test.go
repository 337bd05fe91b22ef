package store

import (
	"context"
	"errors"
	"testing"
)

// Saved templates keep every version; the newest of each set and name
// serves, a revert included; the stamp moves with every save.
func TestTemplateVersions(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		if stamp, err := st.TemplatesStamp(ctx); err != nil || stamp != 0 {
			t.Fatalf("empty stamp %d %v", stamp, err)
		}
		save := func(set, name, body string, reverted bool) int64 {
			t.Helper()
			v := &TemplateVersion{SetName: set, Name: name, Body: body, Reverted: reverted, Actor: "admin"}
			if err := st.SaveTemplateVersion(ctx, v, AuditEntry{Actor: "admin", Action: "template save", Summary: name}); err != nil {
				t.Fatal(err)
			}
			if v.ID == 0 || v.Created().IsZero() {
				t.Fatalf("saved version %+v", v)
			}
			return v.ID
		}
		first := save("", "session_report", "one", false)
		save("", "session_report", "two", false)
		save("acme", "session_report", "acme", false)
		save("acme", "partials/sig", "sig", false)
		last := save("acme", "partials/sig", "", true)

		serving, err := st.ServingTemplates(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]TemplateVersion{}
		for _, v := range serving {
			got[v.SetName+"/"+v.Name] = v
		}
		if len(got) != 3 || got["/session_report"].Body != "two" || got["acme/session_report"].Body != "acme" || !got["acme/partials/sig"].Reverted {
			t.Fatalf("serving %+v", serving)
		}
		if stamp, err := st.TemplatesStamp(ctx); err != nil || stamp != 5 {
			t.Fatalf("stamp %d %v, want 5", stamp, err)
		}
		hist, err := st.TemplateHistory(ctx, "", "session_report", 10)
		if err != nil || len(hist) != 2 || hist[0].Body != "two" || hist[1].ID != first {
			t.Fatalf("history %+v %v", hist, err)
		}
		v, err := st.TemplateVersionByID(ctx, first)
		if err != nil || v.Body != "one" {
			t.Fatalf("version %+v %v", v, err)
		}
		if _, err := st.TemplateVersionByID(ctx, last+100); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown version: %v", err)
		}
		audit, err := st.Audit(ctx, 10)
		if err != nil || len(audit) != 5 || audit[0].Action != "template save" {
			t.Fatalf("audit %+v %v", audit, err)
		}
	})
}
