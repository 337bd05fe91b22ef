package siem

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
	"switchboard/engine/sources/pmcloud"
)

// ID is the plugin's id in configurations and URLs.
const ID = "siem"

// Events are the events the plugin handles: the session end (the report's
// events and summary), and the others as lightweight events when the
// configuration forwards outbound events as they arrive.
var Events = []string{
	engine.EventSessionEnd,
	engine.EventSessionBegin,
	engine.EventMemberAdded,
	engine.EventMemberDeparted,
	engine.EventOwnerChanged,
	engine.EventCustomerSurveyDone,
	engine.EventRepSurveyDone,
}

// Plugin is the SIEM forwarder. Its zero value is not usable; call New.
type Plugin struct {
	// HTTPClient overrides the client built from a configuration's TLS
	// settings (tests, the conformance kit).
	HTTPClient *http.Client
	// Now is the clock for pauses and webhook signatures (tests).
	Now func() time.Time

	mu      sync.Mutex
	clients map[string]*http.Client
	paused  map[string]time.Time // destination → until when it asked us to wait
}

var (
	_ engine.Plugin = (*Plugin)(nil)
	_ engine.Tester = (*Plugin)(nil)
)

// New returns the plugin.
func New() *Plugin {
	return &Plugin{Now: time.Now, clients: map[string]*http.Client{}, paused: map[string]time.Time{}}
}

// Info describes the plugin.
func (p *Plugin) Info() engine.Info {
	return engine.Info{
		ID:          ID,
		Name:        "SIEM forwarder",
		Description: "Forwards every event of a session's report, and a session summary, to Splunk HEC, Elastic, Sekoia.io, a signed webhook or syslog, as ECS JSON, CEF or raw JSON.",
		Events:      Events,
		NewSettings: func() any { return NewSettings() },
		Concurrency: 8,
		Timeout:     2 * time.Minute,
	}
}

// appliance is what the plugin needs from the appliance client.
type appliance interface {
	Session(ctx context.Context, lsid string) (*bt.Session, error)
}

// Handle delivers one event to one configuration.
func (p *Plugin) Handle(ctx context.Context, job *engine.Job) error {
	set, ok := job.Settings.(*Settings)
	if !ok {
		return engine.Permanent(fmt.Errorf("siem: settings are %T, not *siem.Settings", job.Settings))
	}
	var app appliance
	if job.Client != nil {
		app = job.Client
	}
	return p.handle(ctx, job, set, app)
}

func (p *Plugin) handle(ctx context.Context, job *engine.Job, set *Settings, app appliance) error {
	if job.Checkpoint == nil {
		job.Checkpoint = engine.NewCheckpoint(nil, nil)
	}
	log := job.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	key := destKey(set)
	if wait := p.pausedFor(key); wait > 0 && !job.Planning() {
		return engine.RetryAfter(wait, fmt.Errorf("siem: the destination asked to wait; %s left", wait.Round(time.Second)))
	}
	events, err := p.events(ctx, job, set, app)
	if err != nil {
		return err
	}
	if len(events) == 0 {
		return engine.Skip("no event passes the configuration's event type filter")
	}
	d, err := p.destination(set)
	if err != nil {
		return engine.Permanent(err)
	}
	defer d.close()
	if job.Planning() {
		return planDelivery(job, set, d, events)
	}
	res, err := deliver(ctx, job, d, events, set.batchEvents())
	// Each destination masks its answers already; this catches any text
	// of theirs that reached the error another way.
	if err != nil {
		err = set.redactor().Error(err)
	}
	job.SetResult(res.summary(d.name()))
	if err != nil {
		if out, after := engine.Classify(err); out == engine.OutcomeRetryAfter {
			p.pause(key, after)
		}
		log.Warn("siem: delivery incomplete", "destination", d.name(), "sent", res.sent, "error", err)
		return err
	}
	log.Info("siem: delivered", "destination", d.name(), "sent", res.sent, "skipped", res.skipped)
	return nil
}

// events builds and encodes what one delivery forwards.
func (p *Plugin) events(ctx context.Context, job *engine.Job, set *Settings, app appliance) ([]Encoded, error) {
	switch job.Event.Name {
	case pmcloud.EventName:
		return pmcloudRecord(job, set)
	case pmcloud.AuditEventName:
		return pmcloudAuditRecord(job, set)
	}
	if _, ok := applianceTypes[job.Event.Name]; ok {
		return applianceRecord(job, set)
	}
	origin := Origin{ApplianceID: job.Event.ApplianceID, Host: job.Appliance.Host}
	var list []Event
	switch {
	case job.Event.Name == engine.EventSessionEnd:
		s, err := fetch(ctx, app, job.Event.LSID)
		if err != nil {
			return nil, err
		}
		if origin.Host == "" && job.Client != nil {
			origin.Host = job.Client.Host()
		}
		list = SessionEvents(s, origin)
	case set.ForwardLive:
		list = []Event{OutboundEvent(job.Event, origin, job.Appliance.Product)}
	default:
		return nil, engine.Skip(fmt.Sprintf("%s is forwarded only when Forward Outbound Events as They Arrive is on", job.Event.Name))
	}
	out := make([]Encoded, 0, len(list))
	r := set.redaction()
	for i := range list {
		if !set.wants(&list[i]) {
			job.Explain("filter", "%s (%s) is not among the configuration's Event Types", list[i].ID, list[i].Type)
			continue
		}
		enc, err := Encode(set.Format, &list[i], r)
		if err != nil {
			return nil, engine.Permanent(err)
		}
		if enc.Index < 0 { // the summary takes the slot after the last event
			enc.Index = len(list) - 1
			if list[i].Kind != KindSummary {
				enc.Index = 0
			}
		}
		out = append(out, enc)
	}
	return out, nil
}

// fetch gets the session report; one the appliance does not have yet, or
// that has not ended in it yet, is retried (the report can lag the event).
func fetch(ctx context.Context, app appliance, lsid string) (*bt.Session, error) {
	if lsid == "" {
		return nil, engine.Permanent(errors.New("siem: the event names no session (lsid is empty)"))
	}
	if app == nil {
		return nil, engine.Permanent(errors.New("siem: the configuration has no appliance client: set the appliance's OAuth client"))
	}
	s, err := app.Session(ctx, lsid)
	if errors.Is(err, bt.ErrNotFound) {
		return nil, fmt.Errorf("siem: session %s is not in the appliance's reports yet: %w", lsid, err)
	}
	if err != nil {
		return nil, fmt.Errorf("siem: fetch session %s: %w", lsid, err)
	}
	if !s.Ended() {
		return nil, fmt.Errorf("siem: session %s has no end time in the report yet", lsid)
	}
	return s, nil
}

// OutboundEvent is the lightweight event forwarded for an outbound event
// as it arrives: its posted fields, no report.
func OutboundEvent(ev engine.Event, o Origin, product string) Event {
	fields := make(map[string]string, len(ev.Fields))
	for k, v := range ev.Fields {
		if len(v) > 0 && k != "external_key" {
			fields[k] = v[0]
		}
	}
	at := ev.Timestamp
	if at.IsZero() {
		at = ev.ReceivedAt
	}
	// Two members can join in the same second: the stored event's id
	// tells them apart (and stays the same on retries and replays).
	slot := strconv.FormatInt(at.Unix(), 10)
	if ev.ID != 0 {
		slot += "-" + strconv.FormatInt(ev.ID, 10)
	}
	return Event{
		ID: ev.LSID + ":" + slot + ":" + ev.Name, Kind: ev.Name, Index: -1, Time: at,
		Type: engine.EventLabel(ev.Name), ApplianceID: o.ApplianceID, Host: o.Host, Fields: fields,
		Session: &bt.Session{LSID: ev.LSID, Product: product},
	}
}

// destination builds the configured destination.
func (p *Plugin) destination(set *Settings) (destination, error) {
	if set.Destination == DestSyslog {
		return newSyslog(set)
	}
	hc, err := p.client(set)
	if err != nil {
		return nil, err
	}
	switch set.Destination {
	case DestHEC:
		return newHEC(hc, set), nil
	case DestElastic:
		return newElastic(hc, set), nil
	case DestSekoia:
		return newSekoia(hc, set), nil
	case DestWebhook:
		return newWebhook(hc, set, p.Now), nil
	}
	return nil, fmt.Errorf("siem: unknown destination %q", set.Destination)
}

// client returns the HTTP client for a configuration's TLS settings,
// cached so connections are reused across deliveries.
func (p *Plugin) client(set *Settings) (*http.Client, error) {
	if p.HTTPClient != nil {
		return p.HTTPClient, nil
	}
	h := sha256.New()
	for _, part := range []string{set.TLSCA, set.TLSClientCert, set.TLSClientKey.Reveal(), strconv.FormatBool(set.TLSInsecure)} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	key := hex.EncodeToString(h.Sum(nil))
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.clients[key]; ok {
		return c, nil
	}
	c, err := newHTTPClient(set)
	if err != nil {
		return nil, err
	}
	if len(p.clients) >= 64 {
		clear(p.clients)
	}
	p.clients[key] = c
	return c, nil
}

// destKey names a destination for pauses: a 429 from one Splunk pauses
// every configuration sending there, and nothing else.
func destKey(set *Settings) string {
	if set.Destination == DestSyslog {
		return set.Destination + " " + set.SyslogAddress
	}
	return set.Destination + " " + set.URL
}

func (p *Plugin) pause(key string, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if until := p.Now().Add(d); until.After(p.paused[key]) {
		p.paused[key] = until
	}
}

func (p *Plugin) pausedFor(key string) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	until, ok := p.paused[key]
	if !ok {
		return 0
	}
	left := until.Sub(p.Now())
	if left <= 0 {
		delete(p.paused, key)
		return 0
	}
	return left
}
