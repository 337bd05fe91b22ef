package service

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"switchboard/engine"
	"switchboard/engine/render"
	"switchboard/engine/store"
)

// MaxTemplateSize bounds a template saved or previewed through the UI or
// the API; the default session report is 3 kB.
const MaxTemplateSize = 256 << 10

// TemplateHistoryLength is how many versions of a template the editor
// offers to restore.
const TemplateHistoryLength = 20

// Templates lists the templates a configuration uses (0 for the defaults
// with the admin's overrides).
func (s *Service) Templates(ctx context.Context, configID int64) ([]render.TemplateInfo, error) {
	scope, err := s.TemplateScopeOf(ctx, configID)
	if err != nil {
		return nil, err
	}
	return s.TemplatesOf(ctx, scope)
}

// TemplatesOfSet lists the templates of a template set ("" for the
// defaults with the admin's overrides).
func (s *Service) TemplatesOfSet(ctx context.Context, set string) ([]render.TemplateInfo, error) {
	return s.TemplatesOf(ctx, TemplateScope{Set: set})
}

// TemplateScope is where a configuration's templates come from: its
// plugin's own defaults (engine.Info.Templates; none for "") and its
// template set ("" for the overrides of every configuration).
type TemplateScope struct {
	Plugin, Set string
}

// TemplatesOf lists the templates of a scope, each with the layer serving
// it (render.SourceSet, SourceOverride, SourcePlugin, SourceEmbedded).
func (s *Service) TemplatesOf(ctx context.Context, scope TemplateScope) ([]render.TemplateInfo, error) {
	if err := s.SyncTemplates(ctx); err != nil {
		return nil, err
	}
	return s.renderer.PluginList(scope.Plugin, scope.Set), nil
}

// TemplateSetOf names the template set a configuration uses (0: "").
func (s *Service) TemplateSetOf(ctx context.Context, configID int64) (string, error) {
	scope, err := s.TemplateScopeOf(ctx, configID)
	return scope.Set, err
}

// TemplateScopeOf is the plugin and template set of a configuration (0:
// neither).
func (s *Service) TemplateScopeOf(ctx context.Context, configID int64) (TemplateScope, error) {
	if configID == 0 {
		return TemplateScope{}, nil
	}
	l, err := s.Load(ctx, configID)
	if err != nil {
		return TemplateScope{}, err
	}
	return TemplateScope{Plugin: l.Plugin.Info().ID, Set: templateSet(l.Settings)}, nil
}

// PreviewTemplate renders a template of a configuration against the built-in
// sample session (lsid "") or a real session fetched from the appliance, and
// lists the placeholders that resolved to nothing. It says which version
// serves, and why a newer one is refused.
func (s *Service) PreviewTemplate(ctx context.Context, configID int64, name, lsid string) (render.Preview, error) {
	scope, data, err := s.previewData(ctx, configID, lsid)
	if err != nil {
		return render.Preview{}, err
	}
	if err := s.SyncTemplates(ctx); err != nil {
		return render.Preview{}, err
	}
	return s.renderer.PluginPreview(scope.Plugin, scope.Set, name, data)
}

// PreviewTemplateText renders text, not saved yet, as set's template name
// would render: with the set's partials (and those of configuration
// configID's plugin), against the sample session or a real one of
// configuration configID (which also gives the time zone).
func (s *Service) PreviewTemplateText(ctx context.Context, configID int64, set, name, text, lsid string) (render.Preview, error) {
	if err := checkTemplateText(text); err != nil {
		return render.Preview{}, err
	}
	scope, data, err := s.previewData(ctx, configID, lsid)
	if err != nil {
		return render.Preview{}, err
	}
	if err := s.SyncTemplates(ctx); err != nil {
		return render.Preview{}, err
	}
	return s.renderer.PluginPreviewText(scope.Plugin, set, name, text, data)
}

// previewData is the data a preview renders: the sample session, or the
// session lsid from the configuration's appliance, in its report time zone.
func (s *Service) previewData(ctx context.Context, configID int64, lsid string) (TemplateScope, render.Data, error) {
	var scope TemplateScope
	loc := time.UTC
	var l *Loaded
	if configID != 0 {
		var err error
		if l, err = s.Load(ctx, configID); err != nil {
			return scope, render.Data{}, err
		}
		scope = TemplateScope{Plugin: l.Plugin.Info().ID, Set: templateSet(l.Settings)}
		if tz, ok := l.Settings.(engine.ReportZoner); ok && tz.Location() != nil {
			loc = tz.Location()
		}
	}
	session := render.SampleSession()
	if lsid != "" && l != nil {
		real, err := l.Client.Session(ctx, lsid)
		if err != nil {
			return scope, render.Data{}, err
		}
		session = real
	}
	return scope, render.NewData(session, loc), nil
}

func checkTemplateText(text string) error {
	switch {
	case len(text) > MaxTemplateSize:
		return engine.FieldErrors{{Field: "text", Message: fmt.Sprintf("is %d kB; a template may hold at most %d kB", len(text)>>10, MaxTemplateSize>>10)}}
	case !utf8.ValidString(text):
		return engine.FieldErrors{{Field: "text", Message: "is not UTF-8 text"}}
	}
	return nil
}

// SaveTemplate checks text and saves it as the newest version of set's
// template name, audited, and serves it from the next render on (on every
// engine sharing the database within WatchTemplates' interval). A text
// that does not pass is refused with a *render.ParseError (line and
// column) and the serving version stays.
func (s *Service) SaveTemplate(ctx context.Context, actor, set, name, text string) (store.TemplateVersion, error) {
	return s.SaveTemplateFor(ctx, actor, "", set, name, text)
}

// SaveTemplateFor is SaveTemplate checked as plugin's configurations see
// it: the partials the plugin ships count. The version saved is the set's
// (or the overrides'), as with SaveTemplate.
func (s *Service) SaveTemplateFor(ctx context.Context, actor, plugin, set, name, text string) (store.TemplateVersion, error) {
	if err := checkTemplateText(text); err != nil {
		return store.TemplateVersion{}, err
	}
	if err := s.SyncTemplates(ctx); err != nil {
		return store.TemplateVersion{}, err
	}
	if err := s.renderer.PluginCheck(plugin, set, name, text); err != nil {
		return store.TemplateVersion{}, err
	}
	v := store.TemplateVersion{SetName: set, Name: name, Body: text, Actor: actor}
	audit := store.AuditEntry{Actor: actor, Action: "template save", Summary: fmt.Sprintf("saved template %s (%d bytes)", setAndName(set, name), len(text))}
	if err := s.st.SaveTemplateVersion(ctx, &v, audit); err != nil {
		return store.TemplateVersion{}, err
	}
	s.log.Info("template saved", "set", set, "template", name, "version", v.ID, "actor", actor)
	return v, s.SyncTemplates(ctx)
}

// RevertTemplate makes set's template name serve from the next layer again
// (a set: the overrides; the overrides: the plugin's own default, else the
// built-in one), hiding the
// layer's file too. It is audited; the versions stay in the history.
func (s *Service) RevertTemplate(ctx context.Context, actor, set, name string) error {
	if err := s.renderer.Check(set, name, ""); err != nil {
		return err
	}
	v := store.TemplateVersion{SetName: set, Name: name, Reverted: true, Actor: actor}
	audit := store.AuditEntry{Actor: actor, Action: "template revert", Summary: "reverted template " + setAndName(set, name) + " to the next layer's version"}
	if err := s.st.SaveTemplateVersion(ctx, &v, audit); err != nil {
		return err
	}
	s.log.Info("template reverted", "set", set, "template", name, "version", v.ID, "actor", actor)
	return s.SyncTemplates(ctx)
}

func setAndName(set, name string) string {
	if set == "" {
		return name + " (overrides of every configuration)"
	}
	return name + " of set " + set
}

// TemplateHistory lists the newest saved versions of set's template name
// first, at most TemplateHistoryLength.
func (s *Service) TemplateHistory(ctx context.Context, set, name string) ([]store.TemplateVersion, error) {
	return s.st.TemplateHistory(ctx, set, name, TemplateHistoryLength)
}

// TemplateVersion returns one saved version of set's template name.
func (s *Service) TemplateVersion(ctx context.Context, set, name string, id int64) (*store.TemplateVersion, error) {
	v, err := s.st.TemplateVersionByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if v.SetName != set || v.Name != name {
		return nil, fmt.Errorf("template version %d: %w", id, ErrNotFound)
	}
	return v, nil
}

// TemplateSource returns the text serving set's template name.
func (s *Service) TemplateSource(ctx context.Context, set, name string) (string, error) {
	return s.TemplateSourceOf(ctx, TemplateScope{Set: set}, name)
}

// TemplateSourceOf returns the text serving a scope's template name.
func (s *Service) TemplateSourceOf(ctx context.Context, scope TemplateScope, name string) (string, error) {
	if err := s.SyncTemplates(ctx); err != nil {
		return "", err
	}
	return s.renderer.PluginSource(scope.Plugin, scope.Set, name)
}

// SyncTemplates hands the renderer the templates saved in the database when
// they changed since the last look (one cheap query when not).
func (s *Service) SyncTemplates(ctx context.Context) error {
	s.templatesMu.Lock()
	defer s.templatesMu.Unlock()
	stamp, err := s.st.TemplatesStamp(ctx)
	if err != nil {
		return err
	}
	if s.templatesSynced && stamp == s.templatesStamp {
		return nil
	}
	rows, err := s.st.ServingTemplates(ctx)
	if err != nil {
		return err
	}
	stored := make([]render.Stored, 0, len(rows))
	for _, v := range rows {
		stored = append(stored, render.Stored{Set: v.SetName, Name: v.Name, Text: v.Body, Version: v.ID, Reverted: v.Reverted, Saved: v.Created()})
	}
	s.renderer.UseStored(stored)
	s.templatesStamp, s.templatesSynced = stamp, true
	return nil
}

// WatchTemplates looks for templates another engine saved every interval
// until ctx ends, so its deliveries render them too.
func (s *Service) WatchTemplates(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.SyncTemplates(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("look for saved templates", "err", err)
			}
		}
	}
}
