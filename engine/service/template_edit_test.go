package service

import (
	"context"
	"errors"
	"strings"
	"testing"

	"switchboard/engine"
	"switchboard/engine/render"
	"switchboard/engine/secretbox"
	"switchboard/engine/store"
)

// Saving a template through the service: a text that does not pass is
// refused with its line and column and the serving version stays; a good
// one serves at once, to the engine that saved it and (after its next
// look) to another engine sharing the database; revert brings the default
// back; every save and revert is audited; the history keeps each version.
func TestSaveTemplateServesAndAudits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, st := newService(t, nil)
	data := render.NewData(render.SampleSession(), nil)
	serving := func(s *Service) string {
		t.Helper()
		out, err := s.renderer.Set("").Render(render.SessionReport, data)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	other := secondEngine(t, st, svc.box)
	if err := other.SyncTemplates(ctx); err != nil {
		t.Fatal(err)
	}

	_, err := svc.SaveTemplate(ctx, "admin", "", render.SessionReport, "Report\n{{#if customer}}\n{{/each}}")
	var pe *render.ParseError
	if !errors.As(err, &pe) || pe.Line != 3 || pe.Column != 1 {
		t.Fatalf("bad save: %v", err)
	}
	if !strings.HasPrefix(serving(svc), "Remote Support session") {
		t.Fatal("a refused save changed what serves")
	}

	v, err := svc.SaveTemplate(ctx, "admin", "", render.SessionReport, "Mine {{lsid}}")
	if err != nil {
		t.Fatal(err)
	}
	if got := serving(svc); got != "Mine "+data.LSID {
		t.Errorf("after save: %q", got)
	}
	if err := other.SyncTemplates(ctx); err != nil {
		t.Fatal(err)
	}
	if got := serving(other); got != "Mine "+data.LSID {
		t.Errorf("the other engine after its look: %q", got)
	}
	p, err := svc.PreviewTemplate(ctx, 0, render.SessionReport, "")
	if err != nil || p.Output != "Mine "+data.LSID || !strings.Contains(p.Serving, "version") || p.Refused != "" {
		t.Errorf("preview %+v %v", p, err)
	}

	if err := svc.RevertTemplate(ctx, "admin", "", render.SessionReport); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(serving(svc), "Remote Support session") {
		t.Error("revert did not bring the default back")
	}
	hist, err := svc.TemplateHistory(ctx, "", render.SessionReport)
	if err != nil || len(hist) != 2 || !hist[0].Reverted || hist[1].ID != v.ID {
		t.Errorf("history %+v %v", hist, err)
	}
	if old, err := svc.TemplateVersion(ctx, "", render.SessionReport, v.ID); err != nil || old.Body != "Mine {{lsid}}" {
		t.Errorf("old version %+v %v", old, err)
	}
	if _, err := svc.TemplateVersion(ctx, "acme", render.SessionReport, v.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("a version read through another set: %v", err)
	}
	audit, err := svc.Audit(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, a := range audit {
		actions = append(actions, a.Action+": "+a.Summary)
	}
	if len(actions) != 2 || !strings.HasPrefix(actions[0], "template revert: reverted template session_report") ||
		!strings.HasPrefix(actions[1], "template save: saved template session_report") {
		t.Errorf("audit %q", actions)
	}
}

// Bad input to save: a huge text, text that is not UTF-8, a name or set
// that could climb out of the templates, all refused and nothing stored.
func TestSaveTemplateRefusesBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, st := newService(t, nil)
	var fe engine.FieldErrors
	for name, c := range map[string]struct{ set, name, text string }{
		"huge":       {"", render.SessionReport, strings.Repeat("x", MaxTemplateSize+1)},
		"not utf-8":  {"", render.SessionReport, "\xff\xfe"},
		"climb name": {"", "../secret", "x"},
		"climb set":  {"../..", render.SessionReport, "x"},
		"partials":   {"partials", render.SessionReport, "x"},
	} {
		_, err := svc.SaveTemplate(ctx, "admin", c.set, c.name, c.text)
		if err == nil || (strings.HasPrefix(name, "huge") || strings.HasPrefix(name, "not")) && !errors.As(err, &fe) {
			t.Errorf("%s: %v", name, err)
		}
		if err := svc.RevertTemplate(ctx, "admin", c.set, c.name); err == nil && name != "huge" && name != "not utf-8" {
			t.Errorf("%s: revert accepted", name)
		}
	}
	if n, err := st.TemplatesStamp(ctx); err != nil || n != 2 {
		// the huge and non-UTF-8 cases have valid names: their reverts are stored
		t.Errorf("stored %d versions (%v), want only the 2 valid reverts", n, err)
	}
}

// secondEngine is another engine's service on the same database.
func secondEngine(t *testing.T, st *store.Store, box *secretbox.Box) *Service {
	t.Helper()
	return serviceOn(t, st, box, "", secretPlugin{})
}
