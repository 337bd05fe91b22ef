// Package connectwise is the ConnectWise PSA (Manage) connector: at session
// end it adds the session report to the service ticket as a note and
// charges a time entry for the primary representative's member, adds exit
// surveys as notes, and can create the ticket when a representative joins
// a session that has none.
package connectwise

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
const ID = "connectwise"

// Events are the events the plugin handles, in the order the form lists them.
var Events = []string{
	engine.EventMemberAdded,
	engine.EventSessionEnd,
	engine.EventCustomerSurveyDone,
	engine.EventRepSurveyDone,
}

// Plugin is the ConnectWise connector. Its zero value is not usable; call New.
type Plugin struct {
	// HTTPClient overrides the shared HTTP client (tests, the kit).
	HTTPClient *http.Client

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
		Name:        "ConnectWise PSA",
		Description: "Adds session reports and exit surveys to ConnectWise PSA service tickets as notes, charges time entries to the representative's member, and creates tickets when a representative joins.",
		Events:      Events,
		NewSettings: func() any { return NewSettings() },
		Concurrency: 8,
		Timeout:     2 * time.Minute,
	}
}

// run is one delivery: its job, settings and clients together.
type run struct {
	p   *Plugin
	job *engine.Job
	set *Settings
	cw  *Client
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

func (p *Plugin) handle(ctx context.Context, job *engine.Job, set *Settings, app connector.Appliance) error {
	cw, err := p.client(job.ConfigID, set)
	if err != nil {
		return engine.Permanent(err)
	}
	log := connector.Logger(job)
	r := &run{p: p, job: job, set: set, cw: cw, app: app, log: log}
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
	return engine.Skip(fmt.Sprintf("the ConnectWise plugin does not handle %s events", job.Event.Name))
}

// options are the client options a configuration's settings give.
func (p *Plugin) options(s *Settings) Options {
	return Options{
		Site: s.Site, Company: s.CompanyID, PublicKey: s.PublicKey, PrivateKey: s.PrivateKey.Reveal(),
		ClientID: s.ClientID, APIVersion: s.APIVersion, MaxInFlight: s.MaxInFlight, HTTPClient: p.HTTPClient,
	}
}

// client returns the configuration's client, provisioned again when its
// connection settings change, so the codebase is looked up once, not per
// delivery.
func (p *Plugin) client(configID int64, s *Settings) (*Client, error) {
	o := p.options(s)
	key := connector.Fingerprint(o.Site, o.Company, o.PublicKey, o.PrivateKey, o.ClientID, o.APIVersion, strconv.Itoa(o.MaxInFlight))
	return p.clients.Get(configID, key, func() (*Client, error) { return NewClient(o) })
}

// lock serialises work on one (configuration, session).
func (p *Plugin) lock(configID int64, lsid string) func() {
	return p.locks.Lock(strconv.FormatInt(configID, 10) + "|" + lsid)
}

// session fetches the session report the event names.
func (r *run) session(ctx context.Context) (*bt.Session, error) {
	return connector.FetchSession(ctx, ID, r.app, r.job)
}

// once makes one external write at most once, through the kit's
// Job.Once (checkpoint, marker, lease, create).
func (r *run) once(ctx context.Context, key string, find func() (string, bool, error), create func() (string, error)) (v string, existing bool, err error) {
	return r.job.Once(ctx, key,
		func(context.Context) (string, bool, error) { return find() },
		func(context.Context) (string, error) { return create() })
}

var _ engine.ConfigForgetter = (*Plugin)(nil)

// ForgetConfig drops the deleted configuration's cached client.
func (p *Plugin) ForgetConfig(configID int64) { p.clients.Forget(configID) }

var _ engine.Previewer = (*Plugin)(nil)

// PreviewEvents are the events a delivery preview can plan: all of them.
func (p *Plugin) PreviewEvents() []string { return Events }
