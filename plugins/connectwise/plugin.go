// Package connectwise is the ConnectWise PSA (Manage) connector: at session
// end it adds the session report to the service ticket as a note and
// charges a time entry for the primary representative's member, adds exit
// surveys as notes, and can create the ticket when a representative joins
// a session that has none.
package connectwise

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
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

	mu      sync.Mutex
	clients map[string]*Client
	// stripes serialise ticket creation per (configuration, session), so
	// two representatives joining at once do not both create one.
	stripes [64]sync.Mutex
}

var (
	_ engine.Plugin = (*Plugin)(nil)
	_ engine.Tester = (*Plugin)(nil)
)

// New returns the plugin.
func New() *Plugin { return &Plugin{clients: map[string]*Client{}} }

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

// appliance is what the flows need from the appliance client.
type appliance interface {
	Session(ctx context.Context, lsid string) (*bt.Session, error)
	SetSessionAttributes(ctx context.Context, lsid string, externalKey *string, custom map[string]string) error
}

// run is one delivery: its job, settings and clients together.
type run struct {
	p   *Plugin
	job *engine.Job
	set *Settings
	cw  *Client
	app appliance
	log *slog.Logger
}

// Handle delivers one event to one configuration.
func (p *Plugin) Handle(ctx context.Context, job *engine.Job) error {
	set, ok := job.Settings.(*Settings)
	if !ok {
		return engine.Permanent(fmt.Errorf("connectwise: settings are %T, not *connectwise.Settings", job.Settings))
	}
	if job.Client == nil {
		return engine.Permanent(errors.New("connectwise: the configuration has no appliance client"))
	}
	return p.handle(ctx, job, set, job.Client)
}

func (p *Plugin) handle(ctx context.Context, job *engine.Job, set *Settings, app appliance) error {
	cw, err := p.client(set)
	if err != nil {
		return engine.Permanent(err)
	}
	log := job.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if job.Checkpoint == nil {
		job.Checkpoint = engine.NewCheckpoint(nil, nil)
	}
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

// client returns the cached client for a configuration's connection
// settings, so the codebase is looked up once, not per delivery.
func (p *Plugin) client(s *Settings) (*Client, error) {
	o := p.options(s)
	h := sha256.New()
	for _, part := range []string{o.Site, o.Company, o.PublicKey, o.PrivateKey, o.ClientID, o.APIVersion, strconv.Itoa(o.MaxInFlight)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	key := hex.EncodeToString(h.Sum(nil))
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := p.clients[key]; c != nil {
		return c, nil
	}
	c, err := NewClient(o)
	if err != nil {
		return nil, err
	}
	// Configurations are few; the bound drops edited-away keys.
	if len(p.clients) >= 64 {
		clear(p.clients)
	}
	p.clients[key] = c
	return c, nil
}

// lock serialises work on one (configuration, session).
func (p *Plugin) lock(configID int64, lsid string) func() {
	h := fnv.New32a()
	h.Write([]byte(strconv.FormatInt(configID, 10) + "|" + lsid))
	m := &p.stripes[h.Sum32()%uint32(len(p.stripes))]
	m.Lock()
	return m.Unlock
}

// session fetches the session report. The report can lag the event, so a
// session the appliance does not know yet is retried.
func (r *run) session(ctx context.Context) (*bt.Session, error) {
	lsid := r.job.Event.LSID
	if lsid == "" {
		return nil, engine.Permanent(errors.New("connectwise: the event names no session (lsid is empty)"))
	}
	s, err := r.app.Session(ctx, lsid)
	if errors.Is(err, bt.ErrNotFound) {
		return nil, fmt.Errorf("connectwise: session %s is not in the appliance's reports yet: %w", lsid, err)
	}
	if err != nil {
		return nil, fmt.Errorf("connectwise: fetch session %s: %w", lsid, err)
	}
	return s, nil
}

// once makes one external write at most once: the checkpoint first, then
// find (a write of an earlier attempt whose checkpoint was lost, found by
// its marker), then create; what either returns is checkpointed. existing
// is true when the write was there before this attempt.
func (r *run) once(ctx context.Context, key string, find func() (string, bool, error), create func() (string, error)) (v string, existing bool, err error) {
	if v, ok := r.job.Checkpoint.Get(key); ok {
		return v, true, nil
	}
	v, found, err := find()
	if err != nil {
		return "", false, err
	}
	if found {
		r.log.Info("connectwise: found the write of an earlier attempt", "write", key, "id", v)
	} else if v, err = create(); err != nil {
		return "", false, err
	}
	if err := r.job.Checkpoint.Set(ctx, key, v); err != nil {
		return "", false, err
	}
	return v, found, nil
}
