package render

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"switchboard/engine"
)

// helperPlugin is a plugin of a test registry that ships templates and helpers.
type helperPlugin struct {
	id        string
	templates fstest.MapFS
	helpers   map[string]engine.Helper
}

func (p helperPlugin) Info() engine.Info {
	return engine.Info{ID: p.id, NewSettings: func() any { return &struct{}{} }, Templates: p.templates, Helpers: p.helpers}
}

func (helperPlugin) Handle(context.Context, *engine.Job) error { return nil }

// newFromRegistry builds a renderer as the server does, from a registry.
func newFromRegistry(t *testing.T, plugins ...engine.Plugin) (*Renderer, error) {
	t.Helper()
	reg, err := engine.NewRegistry(plugins...)
	if err != nil {
		t.Fatal(err)
	}
	return New(Options{OverrideDir: t.TempDir(), PluginTemplates: reg.Templates(), PluginHelpers: reg.Helpers()})
}

var priorityHelper = engine.Helper{Args: 2, Text: func(args ...any) string {
	return fmt.Sprintf("P%v-%v", args[0], args[1])
}}

// TestPluginHelper: a plugin's helper serves its templates, the admin's
// templates (checked as they are saved) and previews; its arity is checked
// like a built-in's; a panic in it fails the render, naming it.
func TestPluginHelper(t *testing.T) {
	t.Parallel()
	ticketer := helperPlugin{id: "ticketer",
		templates: fstest.MapFS{"session_report.hbs": {Data: []byte(`{{ticketer_priority lsid "high"}} {{ticketer_now}}`)}},
		helpers: map[string]engine.Helper{
			"ticketer_priority": priorityHelper,
			"ticketer_now":      {Text: func(...any) string { return "now" }},
			"ticketer_boom":     {Args: 1, Text: func(args ...any) string { panic("no " + fmt.Sprint(args[0])) }},
		},
	}
	r, err := newFromRegistry(t, ticketer)
	if err != nil {
		t.Fatal(err)
	}
	data := NewData(SampleSession(), time.UTC)
	out, err := r.PluginSet("ticketer", "").Render(SessionReport, data)
	if err != nil || out != "P"+data.LSID+"-high now" {
		t.Fatalf("the plugin's template: %q %v", out, err)
	}
	preview, err := r.PreviewText("", "work_note", `{{ticketer_priority lsid "high"}}|{{ticketer_now}}`, data)
	if err != nil || preview.Output != "P"+data.LSID+"-high|now" {
		t.Fatalf("preview: %q %v", preview.Output, err)
	}
	if err := r.Check("", "work_note", `{{ticketer_priority lsid}}`); err == nil || !strings.Contains(err.Error(), "ticketer_priority takes 2 arguments, got 1") {
		t.Errorf("arity: %v", err)
	}
	_, err = r.PreviewText("", "work_note", `{{ticketer_boom lsid}}`, data)
	var te *TemplateError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "helper ticketer_boom failed: no "+data.LSID) {
		t.Errorf("panic: %v", err)
	}
	// Without the plugin the name is no helper.
	plain, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.Check("", "work_note", `{{ticketer_priority lsid "high"}}`); err == nil || !strings.Contains(err.Error(), `unknown helper "ticketer_priority"`) {
		t.Errorf("without the plugin: %v", err)
	}
}

// TestPluginHelperRefused: a helper that would replace a built-in or
// another plugin's, or has a bad name, arity or no function, stops New with
// an error naming the plugin and the helper (never a panic); so does a
// plugin template calling its helper with the wrong arity.
func TestPluginHelperRefused(t *testing.T) {
	t.Parallel()
	text := func(...any) string { return "" }
	for _, tt := range []struct {
		plugins []engine.Plugin
		want    string
	}{
		{[]engine.Plugin{helperPlugin{id: "ticketer", helpers: map[string]engine.Helper{"json": {Args: 1, Text: text}}}},
			`plugin ticketer's helper "json": it would replace the built-in helper "json"; name it ticketer_json`},
		{[]engine.Plugin{helperPlugin{id: "ticketer", helpers: map[string]engine.Helper{"each": {Args: 1, Text: text}}}},
			`plugin ticketer's helper "each": it would replace the built-in helper "each"`},
		{[]engine.Plugin{
			helperPlugin{id: "paging", helpers: map[string]engine.Helper{"paging_level": {Args: 1, Text: text}}},
			helperPlugin{id: "ticketer", helpers: map[string]engine.Helper{"paging_level": {Args: 1, Text: text}}},
		}, `plugin ticketer's helper "paging_level": the name is in plugin paging's namespace, not ticketer's`},
		{[]engine.Plugin{helperPlugin{id: "ticketer", helpers: map[string]engine.Helper{"priority": {Args: 1, Text: text}}}},
			`plugin ticketer's helper "priority": a plugin's helper is named ticketer_<name>`},
		{[]engine.Plugin{helperPlugin{id: "ticketer", helpers: map[string]engine.Helper{"ticketer_a_b": {Args: 1, Text: text}}}},
			`after ticketer_ comes a letter`},
		{[]engine.Plugin{helperPlugin{id: "ticketer", helpers: map[string]engine.Helper{"ticketer_x y": {Args: 1, Text: text}}}},
			`after ticketer_ comes a letter`},
		{[]engine.Plugin{helperPlugin{id: "ticketer", helpers: map[string]engine.Helper{"ticketer_x": {Args: 3, Text: text}}}},
			`"ticketer_x": takes 3 arguments; a helper takes 0 to 2`},
		{[]engine.Plugin{helperPlugin{id: "ticketer", helpers: map[string]engine.Helper{"ticketer_x": {Args: 1}}}},
			`"ticketer_x": has no Text function`},
		{[]engine.Plugin{helperPlugin{id: "ticketer", helpers: map[string]engine.Helper{"ticketer_x": {Args: 1, Text: text}},
			templates: fstest.MapFS{"session_report.hbs": {Data: []byte(`{{ticketer_x}}`)}}}},
			`plugin ticketer's templates: template session_report: line 1, column 1: ticketer_x takes 1 argument, got 0`},
	} {
		_, err := newFromRegistry(t, tt.plugins...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("want %q, got %v", tt.want, err)
		}
	}
}
