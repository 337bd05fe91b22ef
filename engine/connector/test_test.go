package connector

import (
	"strings"
	"testing"

	"switchboard/engine"
	"switchboard/engine/render"
)

// A refused override fails the templates check even though an older
// version still renders: what serves is not what the admin saved.
func TestTemplatesCheckFailsOnARefusedOverride(t *testing.T) {
	t.Parallel()
	r, err := render.New(render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &engine.TestConfig{Templates: r.Set("")}
	if status, msg, _ := TemplatesCheck(cfg, nil); status != engine.CheckOK {
		t.Fatalf("defaults: %s %s", status, msg)
	}
	r.UseStored([]render.Stored{{Name: render.SessionReport, Text: "{{#each chat}}", Version: 1}})
	status, msg, detail := TemplatesCheck(cfg, nil)
	if status != engine.CheckFail || !strings.Contains(msg, "refused") ||
		!strings.Contains(detail, "session_report: ") || !strings.Contains(detail, "the built-in default") {
		t.Errorf("refused override: %s %q %q", status, msg, detail)
	}
}
