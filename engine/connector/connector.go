// Package connector is the part of the connector kit a ticketing plugin
// builds its Handle and Test from, so that a new connector writes only
// what its remote API makes different (docs/connector-kit.md):
//
//   - Settings and Logger start a delivery: the typed settings, the
//     appliance, a logger that is never nil;
//   - FetchSession reads the session report the event names, retrying
//     one the appliance has not written yet;
//   - Clients caches one remote client per configuration, provisioned on
//     first use and cleaned up when the configuration's connection
//     settings change;
//   - KeyedMutex serialises work per (configuration, session);
//   - TimedCheck, SettingsCheck, TemplatesCheck and ExplainNetwork are
//     the shared lines of the Test button.
//
// The rest of the kit lives where it belongs: engine/outbound (HTTP,
// classifier, redactor, rate governor), engine.Job.Once (idempotent
// writes) and engine/plugintest.Conformance (the tests every plugin runs).
package connector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
)

// Appliance is what a ticketing connector needs of the appliance client:
// the session report, and writing the ticket back into the session.
// Job.Client (an engine.Appliance: the real client, or a dry run's
// *engine.PlanAppliance) has it; tests pass the simulator's client.
type Appliance interface {
	Session(ctx context.Context, lsid string) (*bt.Session, error)
	SetSessionAttributes(ctx context.Context, lsid string, externalKey *string, custom map[string]string) error
}

var _ Appliance = engine.Appliance(nil)

// Settings returns the job's settings as the plugin's own type and checks
// the job has an appliance client; the error is permanent.
func Settings[S any](plugin string, job *engine.Job) (*S, error) {
	set, ok := job.Settings.(*S)
	if !ok {
		var zero S
		return nil, engine.Permanent(fmt.Errorf("%s: settings are %T, not %T", plugin, job.Settings, &zero))
	}
	if job.Client == nil {
		return nil, engine.Permanent(fmt.Errorf("%s: the configuration has no appliance client", plugin))
	}
	return set, nil
}

// Logger is the job's logger, or one that discards.
func Logger(job *engine.Job) *slog.Logger {
	if job.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return job.Log
}

// FetchSession reads the report of the session the job's event names.
// The report can lag the event, so a session the appliance does not know
// yet is retried; an event without a session is permanent.
func FetchSession(ctx context.Context, plugin string, app Appliance, job *engine.Job) (*bt.Session, error) {
	lsid := job.Event.LSID
	if lsid == "" {
		return nil, engine.Permanent(fmt.Errorf("%s: the event names no session (lsid is empty)", plugin))
	}
	s, err := app.Session(ctx, lsid)
	if errors.Is(err, bt.ErrNotFound) {
		return nil, fmt.Errorf("%s: session %s is not in the appliance's reports yet: %w", plugin, lsid, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: fetch session %s: %w", plugin, lsid, err)
	}
	return s, nil
}
