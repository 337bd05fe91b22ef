package render

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// TestPluginTemplates: a plugin's own defaults serve its configurations
// before the embedded ones, may add names and partials, and give way to
// the admin's overrides and sets; other plugins keep the embedded defaults.
func TestPluginTemplates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fsys := fstest.MapFS{
		"session_report.hbs":      {Data: []byte(`{"text": {{json customer.name}}, "by": "{{> who}}" }`)},
		"work_note.hbs":           {Data: []byte(`Work on {{lsid}}`)},
		"partials/who.hbs":        {Data: []byte(`ticketer`)},
		"not_a_template.txt":      {Data: []byte(`{{#if}}`)},
		"partials/readme.md":      {Data: []byte(`-`)},
		"rep_exit_survey.hbs.bak": {Data: []byte(`{{`)},
	}
	r, err := New(Options{OverrideDir: dir, PluginTemplates: map[string]fs.FS{"ticketer": fsys}})
	if err != nil {
		t.Fatal(err)
	}
	data := NewData(SampleSession(), time.UTC)
	render := func(plugin, set, name string) string {
		t.Helper()
		out, err := r.PluginSet(plugin, set).Render(name, data)
		if err != nil {
			t.Fatalf("%s/%s/%s: %v", plugin, set, name, err)
		}
		return out
	}
	if got := render("ticketer", "", SessionReport); got != `{"text": "Dana Whitfield", "by": "ticketer" }` {
		t.Errorf("the plugin's session report: %s", got)
	}
	if got := render("ticketer", "", "work_note"); got != "Work on "+data.LSID {
		t.Errorf("the plugin's own template: %s", got)
	}
	if got := render("ticketer", "", CustomerSurvey); got != render("", "", CustomerSurvey) {
		t.Errorf("a name the plugin does not ship is the embedded default: %s", got)
	}
	for _, plugin := range []string{"", "other"} {
		if got := render(plugin, "", SessionReport); strings.Contains(got, `"by"`) {
			t.Errorf("plugin %q serves the ticketer's template: %s", plugin, got)
		}
	}
	var source string
	for _, info := range r.PluginSet("ticketer", "").(*set).current().infos {
		if info.Name == SessionReport {
			source = info.Source + " " + info.Path
		}
	}
	if source != "plugin plugins/ticketer/session_report.hbs" {
		t.Errorf("source %q", source)
	}
	// The admin's override, then a set, still come first.
	if err := os.WriteFile(filepath.Join(dir, "session_report.hbs"), []byte("override {{lsid}}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "acme"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "acme", "work_note.hbs"), []byte("acme {{lsid}}"), 0o600); err != nil {
		t.Fatal(err)
	}
	r.changed()
	if got := render("ticketer", "", SessionReport); got != "override "+data.LSID {
		t.Errorf("the override: %s", got)
	}
	if got := render("ticketer", "acme", "work_note"); got != "acme "+data.LSID {
		t.Errorf("the set: %s", got)
	}
	if got := render("ticketer", "other", "work_note"); got != "Work on "+data.LSID {
		t.Errorf("a set without the name: %s", got)
	}
}

// A plugin template that does not parse stops the engine at start, as an
// embedded one would: it is the plugin author's mistake.
func TestBrokenPluginTemplateFailsNew(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{"session_report.hbs": {Data: []byte("{{#each chat}}no end")}}
	_, err := New(Options{PluginTemplates: map[string]fs.FS{"ticketer": fsys}})
	if err == nil || !strings.Contains(err.Error(), "plugin ticketer") {
		t.Fatalf("got %v", err)
	}
}
