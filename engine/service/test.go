package service

import (
	"context"
	"fmt"
	"time"

	"switchboard/engine"
)

// TestTimeout bounds a whole Test run: an admin waits for it.
const TestTimeout = 15 * time.Second

// TestConfig runs the Test button on submitted, unsaved values. id names the
// configuration being edited (0 for a new one) so that secret fields left
// empty are filled with the stored secrets. Nothing is saved.
func (s *Service) TestConfig(ctx context.Context, id int64, in ConfigInput) ([]engine.Check, error) {
	p, app, settings, errs, err := s.prepareFor(ctx, id, in)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, TestTimeout)
	defer cancel()
	cfg := &engine.TestConfig{
		ConfigID: id, Appliance: app, Settings: settings, Errors: errs,
		Client:    s.client(&app),
		Templates: s.renderer.Set(templateSet(settings)),
		Log:       s.log.With("test", true, "config", id),
	}
	start := time.Now()
	var checks []engine.Check
	if t, ok := p.(engine.Tester); ok {
		checks = t.Test(ctx, cfg)
	} else {
		checks = append(checks, settingsCheck(errs))
		checks = append(checks, engine.ApplianceChecks(ctx, cfg, false)...)
	}
	s.log.Info("configuration tested", "config", id, "plugin", p.Info().ID, "checks", len(checks), "duration", time.Since(start))
	return checks, nil
}

func settingsCheck(errs engine.FieldErrors) engine.Check {
	c := engine.Check{ID: "settings", Label: "Settings are valid", Status: engine.CheckOK, Message: "All settings are valid."}
	if len(errs) > 0 {
		c.Status = engine.CheckFail
		c.Message = fmt.Sprintf("%d setting(s) need fixing: %s", len(errs), errs[0].Field+" "+errs[0].Message)
		c.Detail = errs.Error()
	}
	return c
}

// prepareFor is prepare for a submission about configuration id (0 for a
// new one): the stored configuration fills its secrets, and its plugin
// applies when the submission names none.
func (s *Service) prepareFor(ctx context.Context, id int64, in ConfigInput) (engine.Plugin, engine.ApplianceSettings, any, engine.FieldErrors, error) {
	var stored *Loaded
	if id != 0 {
		l, err := s.Load(ctx, id)
		if err != nil {
			return nil, engine.ApplianceSettings{}, nil, nil, err
		}
		stored = l
		if in.Plugin == "" {
			in.Plugin = l.Plugin.Info().ID
		}
	}
	return s.prepare(in, stored)
}
