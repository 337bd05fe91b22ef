// Package autotask is the Autotask PSA connector: at session end it adds
// the session report to the ticket as a note (and optionally a time entry),
// adds exit surveys as notes, and can create the ticket when a
// representative joins a session that has none.
package autotask

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
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

	mu      sync.Mutex
	clients map[string]*Client
	locks   keyedMutex
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
	at  *Client
	app appliance
	log *slog.Logger
}

// Handle delivers one event to one configuration.
func (p *Plugin) Handle(ctx context.Context, job *engine.Job) error {
	set, ok := job.Settings.(*Settings)
	if !ok {
		return engine.Permanent(fmt.Errorf("autotask: settings are %T, not *autotask.Settings", job.Settings))
	}
	if job.Client == nil {
		return engine.Permanent(errors.New("autotask: the configuration has no appliance client"))
	}
	return p.handle(ctx, job, set, job.Client)
}

// handle delivers a job through app, the appliance's client.
func (p *Plugin) handle(ctx context.Context, job *engine.Job, set *Settings, app appliance) error {
	at, err := p.client(set)
	if err != nil {
		return engine.Permanent(err)
	}
	log := job.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if job.Checkpoint == nil {
		// Without a store behind it (a one-off run), writes are still
		// found again by their markers.
		job.Checkpoint = engine.NewCheckpoint(nil, nil)
	}
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

// client returns the cached client for a configuration's credentials, so
// that the zone and picklists are looked up once, not per delivery.
func (p *Plugin) client(s *Settings) (*Client, error) {
	opts := p.options(s)
	h := sha256.New()
	for _, part := range []string{opts.ServicesURL, opts.ZoneInformationURL, opts.Username, opts.Secret, opts.IntegrationCode, strconv.FormatInt(opts.ImpersonationResourceID, 10)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	key := hex.EncodeToString(h.Sum(nil))
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.clients[key]; ok {
		return c, nil
	}
	c, err := NewClient(opts)
	if err != nil {
		return nil, err
	}
	// Configurations are few; a bound keeps edited-away credentials from
	// piling up.
	if len(p.clients) >= 64 {
		clear(p.clients)
	}
	p.clients[key] = c
	return c, nil
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

// session fetches the session report. The report can lag the event, so a
// session the appliance does not know yet is retried.
func (r *run) session(ctx context.Context) (*bt.Session, error) {
	lsid := r.job.Event.LSID
	if lsid == "" {
		return nil, engine.Permanent(errors.New("autotask: the event names no session (lsid is empty)"))
	}
	s, err := r.app.Session(ctx, lsid)
	if errors.Is(err, bt.ErrNotFound) {
		return nil, fmt.Errorf("autotask: session %s is not in the appliance's reports yet: %w", lsid, err)
	}
	if err != nil {
		return nil, fmt.Errorf("autotask: fetch session %s: %w", lsid, err)
	}
	return s, nil
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

// keyedMutex serialises work per key, here per (configuration, session), so
// two representatives joining at once do not both create a ticket.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedLock
}

type keyedLock struct {
	mu   sync.Mutex
	refs int
}

func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyedLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &keyedLock{}
		k.locks[key] = l
	}
	l.refs++
	k.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}
