package service

import (
	"context"
	"time"

	"switchboard/engine"
	"switchboard/engine/render"
)

// Templates lists the templates a configuration uses (0 for the defaults
// with the admin's overrides).
func (s *Service) Templates(ctx context.Context, configID int64) ([]render.TemplateInfo, error) {
	set := ""
	if configID != 0 {
		l, err := s.Load(ctx, configID)
		if err != nil {
			return nil, err
		}
		set = templateSet(l.Settings)
	}
	return s.renderer.List(set), nil
}

// PreviewTemplate renders a template of a configuration against the built-in
// sample session (lsid "") or a real session fetched from the appliance, and
// lists the placeholders that resolved to nothing.
func (s *Service) PreviewTemplate(ctx context.Context, configID int64, name, lsid string) (render.Preview, error) {
	set, loc := "", time.UTC
	var l *Loaded
	if configID != 0 {
		var err error
		if l, err = s.Load(ctx, configID); err != nil {
			return render.Preview{}, err
		}
		set = templateSet(l.Settings)
		if tz, ok := l.Settings.(engine.ReportZoner); ok && tz.Location() != nil {
			loc = tz.Location()
		}
	}
	session := render.SampleSession()
	if lsid != "" && l != nil {
		real, err := l.Client.Session(ctx, lsid)
		if err != nil {
			return render.Preview{}, err
		}
		session = real
	}
	return s.renderer.Preview(set, name, render.NewData(session, loc))
}
