package service

import (
	"context"
	"fmt"
	"strings"
	"time"

	"switchboard/engine"
	"switchboard/engine/store"
)

// TestTimeout bounds a whole Test run: an admin waits for it.
const TestTimeout = 15 * time.Second

// TestConfig runs the Test button on submitted, unsaved values. id names the
// configuration being edited (0 for a new one) so that secret fields left
// empty are filled with the stored secrets, as long as the settings that
// say where each goes are unchanged. Nothing is saved. Settings that are
// not valid are never sent anywhere: the remote checks run only on valid
// ones. Every run is audited with the hosts it contacted.
func (s *Service) TestConfig(ctx context.Context, actor string, id int64, in ConfigInput) ([]engine.Check, error) {
	p, app, settings, errs, err := s.prepareFor(ctx, id, in)
	if err != nil {
		return nil, err
	}
	dups, err := s.duplicatesOf(ctx, p.Info().ID, id, app, settings)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, TestTimeout)
	defer cancel()
	start := time.Now()
	var checks []engine.Check
	var contacted []string
	if len(errs) > 0 {
		checks = []engine.Check{settingsCheck(errs), {
			ID: "remote", Label: "Appliance and remote checks", Status: engine.CheckSkipped,
			Message: "Skipped: fix the settings first. Nothing is contacted with settings that are not valid.",
		}}
	} else {
		cfg := &engine.TestConfig{
			ConfigID: id, Appliance: app, Settings: settings,
			Client:    s.client(&app),
			Templates: s.renderer.PluginSet(p.Info().ID, templateSet(settings)),
			Log:       s.log.With("test", true, "config", id),
		}
		trace := &contacts{}
		tctx := trace.watch(ctx)
		if t, ok := p.(engine.Tester); ok {
			checks = t.Test(tctx, cfg)
		} else {
			checks = append(checks, settingsCheck(errs))
			checks = append(checks, engine.ApplianceChecks(tctx, cfg, false)...)
		}
		contacted = trace.hosts()
	}
	if len(dups) > 0 {
		checks = append(checks, duplicatesCheck(dups, p.Info().Name))
	}
	s.log.Info("configuration tested", "config", id, "plugin", p.Info().ID, "checks", len(checks), "contacted", contacted, "actor", actor, "duration", time.Since(start))
	summary := fmt.Sprintf("tested configuration %s (settings not valid; nothing contacted)", app.Name)
	if len(errs) == 0 {
		summary = fmt.Sprintf("tested configuration %s; contacted: %s", app.Name, orNone(contacted))
	}
	if err := s.st.AddAudit(ctx, store.AuditEntry{Actor: actor, Action: "test", ConfigID: id, Summary: summary}); err != nil {
		// The admin sees the checks; the audit line is what went
		// missing, which the operator must learn.
		s.log.Error("record a Test in the audit log", "config", id, "err", err)
	}
	return checks, nil
}

func orNone(hosts []string) string {
	if len(hosts) == 0 {
		return "none"
	}
	return strings.Join(hosts, ", ")
}

func settingsCheck(errs engine.FieldErrors) engine.Check {
	c := engine.Check{ID: "settings", Label: "Settings are valid", Status: engine.CheckOK, Message: "All settings are valid."}
	if len(errs) > 0 {
		c.Status = engine.CheckFail
		c.Message = fmt.Sprintf("%d setting(s) need fixing: %s", len(errs), errs[0].Field+" "+errs[0].Message)
		c.Detail = errs.Error()
		c.Errors = errs
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
