package engine_test

import (
	"strings"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/render"
)

// zoned is a settings struct that names a report time zone.
type zoned struct{ loc *time.Location }

func (z zoned) Location() *time.Location { return z.loc }

// TestRenderSession: a plugin renders a session through its job, in the
// time zone its settings name, without importing engine/render.
func TestRenderSession(t *testing.T) {
	t.Parallel()
	r, err := render.New(render.Options{OverrideDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	tokyo, err := engine.LoadZone("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	session := render.SampleSession()
	for _, tt := range []struct {
		settings any
		zone     string
	}{{zoned{tokyo}, "JST"}, {struct{}{}, "UTC"}} {
		job := &engine.Job{Settings: tt.settings, Templates: r.Set("")}
		out, err := job.RenderSession(engine.TemplateSessionReport, session)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, session.LSID) || !strings.Contains(out, " "+tt.zone) {
			t.Errorf("%T: the report lacks the lsid or times in %s:\n%s", tt.settings, tt.zone, out)
		}
	}
	_, err = (&engine.Job{}).RenderSession(engine.TemplateSessionReport, session)
	if o, _ := engine.Classify(err); err == nil || o != engine.OutcomePermanent {
		t.Errorf("no templates: %v (%v), want a permanent error", err, o)
	}
}
