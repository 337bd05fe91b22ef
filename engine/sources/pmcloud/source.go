// Package pmcloud is the Privilege Management Cloud source: it polls a
// tenant's Events/FromStartDate and ActivityAudits/Details with an API
// account and stores each event or audit document as a record, delivered
// like an event to the configurations the source names. A poll commits its
// records with the stream's cursor in one transaction; records are
// deduplicated by event.id or audit id.
package pmcloud

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"switchboard/engine"
	"switchboard/engine/store"
)

// Names of what the source stores.
const (
	// Source is the stored events' source.
	Source = "pmcloud"
	// EventName is the stored events' name.
	EventName = "pmcloud_event"
	// DocumentField is the form field holding the event document (JSON).
	DocumentField = "document"
)

// Defaults of Settings.
const (
	DefaultInterval    = 300 // seconds; the Sentinel connector's default
	DefaultFirstFetch  = 60  // minutes
	DefaultMaxPerCycle = 6000
	DefaultOverlap     = 5 // minutes
)

// Streams of a source.
const (
	StreamEvents = "events"
	StreamAudits = "audits"
)

// Settings configure one PM Cloud events source.
type Settings struct {
	Name         string        `json:"name" validate:"required,max=100" label:"Source Name" help:"A name that tells this source apart, e.g. the tenant."`
	ServicesURL  string        `json:"services_url" validate:"required,url,max=300" label:"Services URL" placeholder:"https://example-services.pm.beyondtrustcloud.com" help:"The instance URL shown at the top of the console's API Settings page."`
	ClientID     string        `json:"client_id" validate:"required,max=200" label:"API Account Client ID" help:"From Configuration > Settings > API Settings; the account needs the Reporting permission."`
	ClientSecret engine.Secret `json:"client_secret" binds:"services_url,client_id" label:"API Account Client Secret"`
	Interval     int           `json:"interval" validate:"gte=30,lte=86400" default:"300" label:"Polling Interval (seconds)"`
	FirstFetch   int           `json:"first_fetch_minutes" validate:"gte=0,lte=43200" default:"60" label:"First Fetch (minutes)" help:"How far back the first poll starts."`
	MaxPerCycle  int           `json:"max_per_cycle" validate:"gte=1,lte=100000" default:"6000" label:"Events per Poll" help:"At most this many events in one poll; the rest come with the next one."`
	Streams      []string      `json:"streams" validate:"dive,oneof=events audits" options:"events=Events,audits=Activity Audits" label:"Streams" help:"What to read: events (Reporting permission) and activity audits (Audit permission). None selected: events."`
	AuditOverlap int           `json:"audit_overlap_minutes" validate:"gte=0,lte=1440" default:"5" label:"Audit Window Overlap (minutes)" help:"Each audit poll starts this long before the last window ended, so that an audit recorded late is still read; repeats are dropped by audit id."`
	DeliverTo    []string      `json:"deliver_to" label:"Deliver To" help:"Names of the configurations (a SIEM forwarder, say) that receive each event."`
	Disabled     bool          `json:"disabled" label:"Disabled"`
}

// NewSettings returns the defaults.
func NewSettings() *Settings {
	return &Settings{Interval: DefaultInterval, FirstFetch: DefaultFirstFetch, MaxPerCycle: DefaultMaxPerCycle, AuditOverlap: DefaultOverlap}
}

// Reads says whether the source reads a stream (events when none is named).
func (s *Settings) Reads(stream string) bool {
	if len(s.Streams) == 0 {
		return stream == StreamEvents
	}
	return slices.Contains(s.Streams, stream)
}

// ValidateSettings checks what tags cannot.
func (s *Settings) ValidateSettings() engine.FieldErrors {
	var out engine.FieldErrors
	if _, err := ServicesBase(s.ServicesURL); err != nil && s.ServicesURL != "" {
		out = append(out, engine.FieldError{Field: "services_url", Message: strings.TrimPrefix(err.Error(), "pmcloud: ")})
	}
	if !s.ClientSecret.IsSet() {
		out = append(out, engine.FieldError{Field: "client_secret", Message: "is required"})
	}
	return out
}

// ID is the source's stable id in the store (its events cursor row).
func (s *Settings) ID() string { return Source + "/" + s.Name }

// AuditsID is the id of the source's activity audits cursor row.
func (s *Settings) AuditsID() string { return Source + "-audits/" + s.Name }

// Target is one source to poll, as configured now.
type Target struct {
	Settings *Settings
	Client   *Client
	// Deliveries are where each new record goes (resolved from DeliverTo).
	Deliveries []store.NewDelivery
	// EnabledAt is when the source was configured: a first poll starts at
	// EnabledAt less FirstFetch.
	EnabledAt time.Time
}

// Poller polls PM Cloud sources.
type Poller struct {
	Store *store.Store
	Owner string
	Now   func() time.Time
	Log   *slog.Logger
	// Wake nudges the dispatcher after new deliveries (may be nil).
	Wake func()
}

// Cycle says what one poll did.
type Cycle struct {
	Fetched int // distinct records read (what the cap counts)
	New     int // records not stored before
	Pages   int
	Cursor  time.Time
	Capped  bool // stopped at the per-cycle cap with more to read
}

// errNotOwner means another process polls this source.
var errNotOwner = errors.New("pmcloud: another process holds this source's poll lease")

// Poll runs one cycle of the events stream: from the cursor, read pages
// until a short page or the cap, and commit the records with the new
// cursor. A failed request commits the pages read before it (with the
// cursor just past them) and records the error; a failure before any page
// leaves the cursor alone.
func (p *Poller) Poll(ctx context.Context, t Target) (Cycle, error) {
	return p.cycle(ctx, t, t.Settings.ID(), "events", p.read)
}

// reader reads one stream from start: the records, the cursor that follows
// them, what it did, and the error that stopped it.
type reader func(ctx context.Context, t Target, start time.Time) ([]*store.NewEvent, time.Time, Cycle, error)

// cycle takes the stream's lease, reads it from its cursor (or the first
// fetch window), and commits what was read with the new cursor.
func (p *Poller) cycle(ctx context.Context, t Target, id, stream string, read reader) (Cycle, error) {
	now := p.now()
	set := t.Settings
	interval := time.Duration(max(set.Interval, 30)) * time.Second
	cur, ok, err := p.Store.AcquireSourceLease(ctx, id, p.Owner, now, now.Add(3*interval))
	if err != nil {
		return Cycle{}, err
	}
	if !ok {
		return Cycle{}, errNotOwner
	}
	start := cur.StartOr(t.EnabledAt, now, time.Duration(set.FirstFetch)*time.Minute)
	records, next, cyc, readErr := read(ctx, t, start)
	cyc.Cursor = start
	if len(records) > 0 || readErr == nil {
		ins, err := p.Store.CommitSource(ctx, store.SourceResult{SourceID: id, Owner: p.Owner, Records: records, Cursor: next, PolledAt: now})
		if err != nil {
			return cyc, fmt.Errorf("pmcloud: source %s: commit %s: %w", set.Name, stream, errors.Join(err, readErr))
		}
		cyc.Cursor = next
		cyc.New = store.NewCount(ins)
		if cyc.New > 0 && len(t.Deliveries) > 0 && p.Wake != nil {
			p.Wake()
		}
	}
	if readErr != nil {
		if rerr := p.Store.RecordSourceError(context.WithoutCancel(ctx), id, p.Owner, now, readErr.Error()); rerr != nil {
			return cyc, errors.Join(readErr, rerr)
		}
		return cyc, readErr
	}
	p.log().Info("pmcloud: polled", "source", set.Name, "stream", stream, "fetched", cyc.Fetched, "new", cyc.New, "pages", cyc.Pages, "cursor", FormatStart(next))
	return cyc, nil
}

// read follows pages from start. It returns the records of every page read
// in full, the StartDate that follows them, and the error that stopped it.
//
// After a short page the next StartDate is the last event.ingested + 1 ms:
// everything up to it has been read. After a full page it is the last
// event's millisecond itself, since events sharing it may lie past the
// page; dedupe drops the repeats. Only a full page within one millisecond
// (no progress) moves on by + 1 ms.
func (p *Poller) read(ctx context.Context, t Target, start time.Time) ([]*store.NewEvent, time.Time, Cycle, error) {
	var (
		cyc  Cycle
		out  []*store.NewEvent
		seen = map[string]bool{}
		from = start
		max  = t.Settings.MaxPerCycle
	)
	if max <= 0 {
		max = DefaultMaxPerCycle
	}
	host := hostOf(t.Settings.ServicesURL)
	// pageMax is the largest page asked for: halved while a page is over
	// the body cap, for the rest of the cycle.
	pageMax := MaxRecordSize
	for cyc.Fetched < max {
		size := min(pageMax, max-cyc.Fetched)
		page, err := t.Client.Events(ctx, from, size)
		if errors.Is(err, ErrPageTooLarge) && size > 1 {
			pageMax = size / 2
			p.log().Warn("pmcloud: a page is over the body cap; asking for a smaller one", "source", t.Settings.Name, "record_size", pageMax)
			continue
		}
		if err != nil {
			return out, from, cyc, fmt.Errorf("pmcloud: source %s: read events from %s (RecordSize %d): %w", t.Settings.Name, FormatStart(from), size, err)
		}
		cyc.Pages++
		last := time.Time{}
		fresh := 0
		for _, rec := range page {
			if rec.Ingested.After(last) {
				last = rec.Ingested
			}
			if seen[rec.ID] {
				continue // read again after a full page: not counted
			}
			seen[rec.ID] = true
			fresh++
			cyc.Fetched++
			out = append(out, p.record(t, host, rec))
		}
		if len(page) < size {
			// Events ingested before StartDate (a remote whose clock went
			// back) are stored but never move the cursor back.
			if next := p.notAhead(t, last.Add(time.Millisecond).Truncate(time.Millisecond)); !last.IsZero() && next.After(from) {
				from = next
			}
			return out, from, cyc, nil
		}
		if last.IsZero() {
			return out, from, cyc, fmt.Errorf("pmcloud: source %s: a full page from %s has no readable event.ingested: %w", t.Settings.Name, FormatStart(from), ErrShape)
		}
		next := p.notAhead(t, last.Truncate(time.Millisecond))
		switch {
		case next.After(from):
		case next.Equal(from):
			p.log().Warn("pmcloud: a full page of events shares one millisecond; moving on by 1 ms", "source", t.Settings.Name, "at", FormatStart(next))
			next = next.Add(time.Millisecond)
		case fresh == 0:
			// Events older than asked for, all read already (a remote
			// ignoring StartDate): asking again would bring them again.
			return out, from, cyc, fmt.Errorf("pmcloud: source %s: a full page from %s holds only events read already, ingested before it: %w", t.Settings.Name, FormatStart(from), ErrShape)
		default:
			next = from // events older than asked for: never move the cursor back
		}
		from = next
	}
	cyc.Capped = true
	return out, from, cyc, nil
}

// notAhead keeps a next StartDate from passing this moment: one event
// stamped in the future (a remote clock gone wrong) would otherwise carry
// the cursor past every event still to come. Events read again from here
// are dropped by dedupe.
func (p *Poller) notAhead(t Target, next time.Time) time.Time {
	if now := p.now().Truncate(time.Millisecond); next.After(now) {
		p.log().Warn("pmcloud: an event is ingested after the present; the cursor stays at the present", "source", t.Settings.Name, "ingested", FormatStart(next))
		return now
	}
	return next
}

// record makes the stored event of one document.
func (p *Poller) record(t Target, host string, rec Record) *store.NewEvent {
	at := rec.At
	if at.IsZero() {
		at = rec.Ingested
	}
	fields := url.Values{"event_id": {rec.ID}}
	if !rec.Ingested.IsZero() {
		fields.Set("ingested", rec.Ingested.UTC().Format(time.RFC3339Nano))
	}
	// Keyed by tenant and event id: two sources reading one tenant store
	// each event once.
	return p.stored(t, EventName, strings.Join([]string{Source, host, rec.ID}, "\x1f"), rec.ID, at, rec.Doc, fields)
}

// stored makes the stored event of one record of a stream: its document
// and fields, routed to the source's deliveries.
func (p *Poller) stored(t Target, name, key, id string, at time.Time, doc []byte, fields url.Values) *store.NewEvent {
	if at.IsZero() {
		at = p.now()
	}
	fields.Set(DocumentField, string(doc))
	fields.Set("source", t.Settings.Name)
	routing, reason := store.Routed, ""
	if len(t.Deliveries) == 0 {
		routing, reason = store.Unrouted, "no configuration is named under Deliver To"
	}
	return &store.NewEvent{
		Event: store.Event{
			DedupeKey:   key,
			ApplianceID: t.Settings.Name,
			Name:        name,
			Source:      Source,
			ExternalKey: id,
			OccurredAt:  at.UnixMilli(),
			Fields:      fields.Encode(),
			Routing:     routing,
			Reason:      reason,
		},
		Deliveries: t.Deliveries,
	}
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return strings.ToLower(u.Host)
}

func (p *Poller) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Poller) log() *slog.Logger {
	if p.Log != nil {
		return p.Log
	}
	return slog.New(slog.DiscardHandler)
}
