// Package autotask is the Autotask PSA connector: at session end it adds
// the session report to the ticket as a note (and optionally a time entry),
// adds exit surveys as notes, and can create the ticket when a
// representative joins a session that has none.
package autotask

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
	"switchboard/engine/connector"
)

// ID is the plugin's id in configurations and URLs.
const ID = "autotask"

// Events are the events the plugin handles, in the order the form lists them.
var Events = []string{
	engine.EventMemberAdded,
	engine.EventSessionEnd,
	engine.EventCustomerSurveyDone,
	engine.EventRepSurveyDone,
}

// Plugin is the Autotask connector. Its zero value is not usable; call New.
type Plugin struct {
	// ZoneInformationURL overrides zone discovery (tests, the demo).
	ZoneInformationURL string
	// HTTPClient overrides the shared HTTP client.
	HTTPClient *http.Client
	// RequestTimeout bounds one request (default 30s) and TimeoutGrace
	// holds a timed-out request's thread (default 30s); tests shorten them.
	RequestTimeout, TimeoutGrace time.Duration

	clients connector.Clients[*Client]
	// locks serialise ticket creation per (configuration, session), so
	// two representatives joining at once do not both create one.
	locks connector.KeyedMutex
}

var (
	_ engine.Plugin = (*Plugin)(nil)
	_ engine.Tester = (*Plugin)(nil)
)

// New returns the plugin.
func New() *Plugin { return &Plugin{} }

// Info describes the plugin.
func (p *Plugin) Info() engine.Info {
	return engine.Info{
		ID:          ID,
		Name:        "Autotask PSA",
		Description: "Adds session reports and exit surveys to Autotask tickets as notes, records time entries, and creates tickets when a representative joins.",
		Events:      Events,
		NewSettings: func() any { return NewSettings() },
		// Autotask takes 3 requests per endpoint at once from one
		// integration code; more deliveries in flight would only queue.
		Concurrency: 8,
		Timeout:     2 * time.Minute,
	}
}

// run is one delivery: its job, settings and clients together.
type run struct {
	p   *Plugin
	job *engine.Job
	set *Settings
	at  *Client
	app connector.Appliance
	log *slog.Logger
}

// Handle delivers one event to one configuration.
func (p *Plugin) Handle(ctx context.Context, job *engine.Job) error {
	set, err := connector.Settings[Settings](ID, job)
	if err != nil {
		return err
	}
	return p.handle(ctx, job, set, job.Client)
}

// handle delivers a job through app, the appliance's client.
func (p *Plugin) handle(ctx context.Context, job *engine.Job, set *Settings, app connector.Appliance) error {
	at, err := p.client(job.ConfigID, set)
	if err != nil {
		return engine.Permanent(err)
	}
	log := connector.Logger(job)
	r := &run{p: p, job: job, set: set, at: at, app: app, log: log}
	switch job.Event.Name {
	case engine.EventSessionEnd:
		return r.sessionEnd(ctx)
	case engine.EventCustomerSurveyDone:
		return r.surveys(ctx, surveyCustomer)
	case engine.EventRepSurveyDone:
		return r.surveys(ctx, surveyRep)
	case engine.EventMemberAdded:
		return r.memberAdded(ctx)
	}
	return engine.Skip(fmt.Sprintf("the Autotask plugin does not handle %s events", job.Event.Name))
}

// client returns the configuration's client, provisioned again when its
// connection settings change, so that the zone and picklists are looked
// up once, not per delivery.
func (p *Plugin) client(configID int64, s *Settings) (*Client, error) {
	opts := p.options(s)
	key := connector.Fingerprint(opts.ServicesURL, opts.ZoneInformationURL, opts.Username, opts.Secret, opts.IntegrationCode,
		strconv.FormatInt(opts.ImpersonationResourceID, 10))
	return p.clients.Get(configID, key, func() (*Client, error) { return NewClient(opts) })
}

func (p *Plugin) options(s *Settings) Options {
	return Options{
		ServicesURL:             s.ServicesURL,
		ZoneInformationURL:      p.ZoneInformationURL,
		Username:                s.Username,
		Secret:                  s.Password.Reveal(),
		IntegrationCode:         s.IntegrationCode.Reveal(),
		ImpersonationResourceID: s.ImpersonationResourceID,
		HTTPClient:              p.HTTPClient,
		Timeout:                 p.RequestTimeout,
		TimeoutGrace:            p.TimeoutGrace,
	}
}

// session fetches the session report the event names.
func (r *run) session(ctx context.Context) (*bt.Session, error) {
	return connector.FetchSession(ctx, ID, r.app, r.job)
}

// checkpointed runs write unless the checkpoint already records key, and
// records what write returns right after it succeeds.
func (r *run) checkpointed(ctx context.Context, key string, write func() (string, error)) (string, error) {
	if v, ok := r.job.Checkpoint.Get(key); ok {
		return v, nil
	}
	v, err := write()
	if err != nil {
		return "", err
	}
	if err := r.job.Checkpoint.Set(ctx, key, v); err != nil {
		return "", err
	}
	return v, nil
}

var _ engine.ConfigForgetter = (*Plugin)(nil)

// ForgetConfig drops the deleted configuration's cached client.
func (p *Plugin) ForgetConfig(configID int64) { p.clients.Forget(configID) }

var _ engine.Previewer = (*Plugin)(nil)

// PreviewEvents are the events a delivery preview can plan: all of them.
func (p *Plugin) PreviewEvents() []string { return Events }
