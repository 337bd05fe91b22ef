package service

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"switchboard/engine"
	"switchboard/engine/render"
	"switchboard/engine/secretbox"
	"switchboard/engine/store"
	"switchboard/engine/storetest"
)

type setPlugin struct{}

type setSettings struct {
	Set string `json:"set" label:"Template Set"`
}

func (s *setSettings) TemplateSet() string { return s.Set }

func (setPlugin) Info() engine.Info {
	return engine.Info{ID: "set", Events: []string{engine.EventSessionEnd}, NewSettings: func() any { return &setSettings{} }}
}

func (setPlugin) Handle(context.Context, *engine.Job) error { return nil }

// A configuration naming a template set renders that set's templates; one
// that names none gets the defaults; the preview follows the same choice.
func TestConfigurationTemplateSet(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "acme"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "acme", "session_report.hbs"), []byte("ACME report for {{lsid}}"), 0o644); err != nil {
		t.Fatal(err)
	}
	svc := newTemplatesService(t, dir, setPlugin{})
	ctx := context.Background()
	app, _ := json.Marshal(map[string]any{"name": "A", "host": "bt.example.com"})
	create := func(set string) int64 {
		s, _ := json.Marshal(map[string]any{"set": set})
		c, err := svc.CreateConfig(ctx, "t", ConfigInput{Plugin: "set", Appliance: app, Settings: s})
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	withSet, plain := create("acme"), create("")
	p, err := svc.PreviewTemplate(ctx, withSet, render.SessionReport, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := "ACME report for " + render.SampleSession().LSID; p.Output != want {
		t.Fatalf("preview with set: %q, want %q", p.Output, want)
	}
	p, err = svc.PreviewTemplate(ctx, plain, render.SessionReport, "")
	if err != nil || len(p.Output) < 200 {
		t.Fatalf("preview without set: %q %v, want the default report", p.Output, err)
	}
}

// newTemplatesService is a service over a fresh store with plugins and a
// renderer of the override folder dir (with the plugins' templates).
func newTemplatesService(t *testing.T, dir string, plugins ...engine.Plugin) *Service {
	t.Helper()
	st := storetest.Open(t)
	box, err := secretbox.Load(context.Background(), t.TempDir(), "", st)
	if err != nil {
		t.Fatal(err)
	}
	return serviceOn(t, st, box, dir, plugins...)
}

// serviceOn is an engine's service on st with plugins and a renderer of
// the override folder dir ("" for none).
func serviceOn(t *testing.T, st *store.Store, box *secretbox.Box, dir string, plugins ...engine.Plugin) *Service {
	t.Helper()
	reg, err := engine.NewRegistry(plugins...)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := render.New(render.Options{OverrideDir: dir, PluginTemplates: reg.Templates(), PluginHelpers: reg.Helpers()})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := New(Options{Store: st, Registry: reg, Box: box, Renderer: rd})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}
