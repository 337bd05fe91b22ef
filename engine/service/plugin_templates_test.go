package service

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"

	"switchboard/engine"
	"switchboard/engine/render"
)

type ownTemplatesPlugin struct{ setPlugin }

func (ownTemplatesPlugin) Info() engine.Info {
	info := setPlugin{}.Info()
	info.ID = "ticketer"
	info.Templates = fstest.MapFS{
		"session_report.hbs": {Data: []byte(`Ticketer {{lsid}} {{> sig}}`)},
		"partials/sig.hbs":   {Data: []byte(`-- ticketer`)},
	}
	return info
}

// TestPluginTemplatesOfAConfiguration: a configuration of a plugin that
// ships templates lists, previews and edits them with the plugin layer
// between the overrides and the engine's defaults.
func TestPluginTemplatesOfAConfiguration(t *testing.T) {
	t.Parallel()
	svc := newTemplatesService(t, t.TempDir(), setPlugin{}, ownTemplatesPlugin{})
	ctx := context.Background()
	app, _ := json.Marshal(map[string]any{"name": "A", "host": "bt.example.com"})
	c, err := svc.CreateConfig(ctx, "t", ConfigInput{Plugin: "ticketer", Appliance: app, Settings: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	source := func(id int64, name string) string {
		t.Helper()
		infos, err := svc.Templates(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, info := range infos {
			if info.Name == name {
				return info.Source
			}
		}
		return "missing"
	}
	if got := source(c.ID, render.SessionReport); got != render.SourcePlugin {
		t.Errorf("session_report of the ticketer's configuration: %s", got)
	}
	if got := source(c.ID, "partials/sig"); got != render.SourcePlugin {
		t.Errorf("the plugin's partial: %s", got)
	}
	if got := source(0, render.SessionReport); got != render.SourceEmbedded {
		t.Errorf("without a configuration: %s", got)
	}
	lsid := render.SampleSession().LSID
	p, err := svc.PreviewTemplate(ctx, c.ID, render.SessionReport, "")
	if err != nil || p.Output != "Ticketer "+lsid+" -- ticketer" || !strings.Contains(p.Serving, "plugins/ticketer/session_report.hbs") {
		t.Fatalf("preview: %+v %v", p, err)
	}
	scope, err := svc.TemplateScopeOf(ctx, c.ID)
	if err != nil || scope != (TemplateScope{Plugin: "ticketer"}) {
		t.Fatalf("scope %+v %v", scope, err)
	}
	text, err := svc.TemplateSourceOf(ctx, scope, render.SessionReport)
	if err != nil || text != `Ticketer {{lsid}} {{> sig}}` {
		t.Fatalf("source %q %v", text, err)
	}
	// An override using the plugin's partial: checked with the plugin's
	// partials, refused without them.
	if _, err := svc.SaveTemplate(ctx, "admin", "", render.SessionReport, `Mine {{> sig}}`); err == nil {
		t.Error("saved without the plugin's partial")
	}
	if _, err := svc.SaveTemplateFor(ctx, "admin", "ticketer", "", render.SessionReport, `Mine {{> sig}}`); err != nil {
		t.Fatal(err)
	}
	if got := source(c.ID, render.SessionReport); got != render.SourceOverride {
		t.Errorf("after the save: %s", got)
	}
	if err := svc.RevertTemplate(ctx, "admin", "", render.SessionReport); err != nil {
		t.Fatal(err)
	}
	if got := source(c.ID, render.SessionReport); got != render.SourcePlugin {
		t.Errorf("after the revert: %s", got)
	}
}
