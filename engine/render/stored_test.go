package render

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard/engine"
)

// Templates saved in the database serve above the files of their layer; a
// revert hides the layer's file too; a new list serves from the next render.
func TestStoredTemplatesServeAboveFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r, err := New(Options{OverrideDir: dir, CheckInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	data := NewData(SampleSession(), nil)
	writeFile(t, dir, "session_report.hbs", "file {{lsid}}")
	writeFile(t, dir, "acme/session_report.hbs", "acme file")
	r.Set("acme") // load once, so the hour-long interval would hide a change
	if got := render(t, r, "", SessionReport, data); got != "file "+data.LSID {
		t.Fatalf("before saving: %q", got)
	}

	r.UseStored([]Stored{
		{Name: SessionReport, Text: "saved v1", Version: 1},
		{Set: "acme", Name: SessionReport, Reverted: true, Version: 2},
	})
	if got := render(t, r, "", SessionReport, data); got != "saved v1" {
		t.Errorf("override layer: %q, want the saved version", got)
	}
	if got := render(t, r, "acme", SessionReport, data); got != "saved v1" {
		t.Errorf("reverted set: %q, want the saved override (the set's file hidden)", got)
	}
	info := find(t, r.List(""), SessionReport)
	if info.Version != 1 || info.Source != SourceOverride || info.Path != "database: session_report" || info.Serving() == "" {
		t.Errorf("List: %+v", info)
	}

	r.UseStored([]Stored{{Name: SessionReport, Reverted: true, Version: 3}})
	if got := render(t, r, "", SessionReport, data); !strings.HasPrefix(got, "Remote Support session") {
		t.Errorf("reverted override: %q, want the default", got)
	}
	if got := render(t, r, "acme", SessionReport, data); got != "acme file" {
		t.Errorf("set file after the set's revert is gone from the list: %q", got)
	}
}

// A saved version that no longer parses (say, after an upgrade) gives way
// to the previous version of its layer, and Refused reports it for Test.
func TestRefusedStoredVersionReported(t *testing.T) {
	t.Parallel()
	r, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	data := NewData(SampleSession(), nil)
	r.UseStored([]Stored{{Name: SessionReport, Text: "good", Version: 1}})
	if got := render(t, r, "", SessionReport, data); got != "good" {
		t.Fatalf("got %q", got)
	}
	r.UseStored([]Stored{{Name: SessionReport, Text: "{{#if x}}\n{{/each}}", Version: 2}})
	if got := render(t, r, "", SessionReport, data); got != "good" {
		t.Errorf("a refused version replaced the good one: %q", got)
	}
	refused := r.Set("").(interface{ Refused() []string }).Refused()
	if len(refused) != 1 || !strings.Contains(refused[0], "line 2, column 1") || !strings.Contains(refused[0], "serving instead: version 1") {
		t.Errorf("Refused: %q", refused)
	}
	if r.Check("", SessionReport, "{{#if x}}") == nil || r.Check("", "../x", "a") == nil || r.Check("", SessionReport, "fine") != nil {
		t.Error("Check")
	}
}

func find(t *testing.T, infos []TemplateInfo, name string) TemplateInfo {
	t.Helper()
	for _, i := range infos {
		if i.Name == name {
			return i
		}
	}
	t.Fatalf("no %s in %+v", name, infos)
	return TemplateInfo{}
}

// A template whose blocks multiply (nested #each, partials that include
// each other twice) or whose output explodes stops with a template error
// instead of holding the worker: the attack of a careless or hostile edit.
func TestRunawayTemplatesStop(t *testing.T) {
	t.Parallel()
	r, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	nested := strings.Repeat("{{#each @root.chat}}", 10) + strings.Repeat("{{/each}}", 10)
	wide := strings.Repeat("{{#each @root.chat}}", 6) + "{{@root.customer.details}}" + strings.Repeat("{{/each}}", 6)
	var partials []Stored
	for i := range 30 {
		partials = append(partials, Stored{Name: "partials/p" + strconv.Itoa(i), Text: "{{> p" + strconv.Itoa(i+1) + "}}{{> p" + strconv.Itoa(i+1) + "}}", Version: int64(i + 1)})
	}
	partials = append(partials, Stored{Name: "partials/p30", Text: "x", Version: 31})
	r.UseStored(partials)
	data := NewData(SampleSession(), nil)
	for name, text := range map[string]string{"nested": nested, "wide": wide, "partials": "{{> p0}}"} {
		_, err := r.PreviewText("", SessionReport, text, data)
		var te *TemplateError
		if !errors.As(err, &te) || !errors.Is(err, errTooBig) || outcome(err) != engine.OutcomePermanent {
			t.Errorf("%s: %v", name, err)
		}
	}
}
