// Package poll finds session events by polling the appliance's reporting
// API, for configurations whose network forbids outbound events (or that
// want a safety net beside them). Each poll lists the sessions that ended
// since the configuration's cursor and the exit surveys submitted since,
// and stores them as events of source "poll" with the cursor in one
// transaction; a failed poll leaves the cursor alone, so nothing is missed.
package poll

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"switchboard/engine"
	"switchboard/engine/beyondtrust"
	"switchboard/engine/store"
)

// Defaults of Options.
const (
	DefaultOverlap = time.Minute
	DefaultTick    = time.Second
)

// Target is one configuration to poll.
type Target struct {
	ConfigID  int64
	Plugin    string
	Appliance engine.ApplianceSettings
	// EnabledAt is when the configuration was enabled: a configuration
	// that has never polled starts there (less its backfill).
	EnabledAt time.Time
	Client    Reports
}

// Reports is what a poll asks the appliance; *beyondtrust.Client (an
// engine.ApplianceClient) is one.
type Reports interface {
	Product() string
	APIInfo(ctx context.Context) (*beyondtrust.APIInfo, error)
	EndedSince(ctx context.Context, since time.Time) ([]beyondtrust.SessionSummary, error)
	ExitSurveys(ctx context.Context, kind beyondtrust.SurveyKind, start time.Time, duration time.Duration) ([]beyondtrust.SurveyRecord, error)
	Sessions(ctx context.Context, lsids []string) ([]*beyondtrust.Session, error)
}

// Options configure a Poller.
type Options struct {
	Store *store.Store
	// Targets returns the configurations as they are now; the poller calls
	// it every tick, so edits take effect without a restart.
	Targets func() []Target
	// Owner names this process in poll leases (host name and pid, say).
	Owner string
	// Overlap is how far before the start of the last successful poll the
	// next one starts, so that a session whose report appeared late is
	// still found; dedupe keys drop what was already stored.
	Overlap time.Duration
	// Tick is how often the poller looks for configurations that are due.
	Tick time.Duration
	// Wake is called after a poll stored new deliveries (to nudge the
	// dispatcher); may be nil.
	Wake func()
	Now  func() time.Time
	Log  *slog.Logger
}

// Poller polls every configuration that has polling event types, each at
// its own Polling Interval.
type Poller struct {
	opts Options
	mu   sync.Mutex
	next map[int64]time.Time // when each configuration is due
}

// New returns a poller; Run starts it.
func New(opts Options) *Poller {
	if opts.Overlap <= 0 {
		opts.Overlap = DefaultOverlap
	}
	if opts.Tick <= 0 {
		opts.Tick = DefaultTick
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Wake == nil {
		opts.Wake = func() {}
	}
	if opts.Owner == "" {
		host, _ := os.Hostname()
		opts.Owner = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	return &Poller{opts: opts, next: map[int64]time.Time{}}
}

// pollEvents are the event types a poll can find.
var pollEvents = []string{engine.EventSessionEnd, engine.EventCustomerSurveyDone, engine.EventRepSurveyDone}

// Polls reports whether the configuration asks for polling at all.
func (t *Target) Polls() bool {
	if t.Appliance.Disabled {
		return false
	}
	for _, e := range pollEvents {
		if t.Appliance.Subscribes(e, engine.SourcePoll) {
			return true
		}
	}
	return false
}

// interval is the configuration's Polling Interval, at least 10 seconds.
func (t *Target) interval() time.Duration {
	return time.Duration(max(t.Appliance.PollingInterval, 10)) * time.Second
}

// Run polls due configurations until ctx ends, then releases its leases.
func (p *Poller) Run(ctx context.Context) error {
	t := time.NewTicker(p.opts.Tick)
	defer t.Stop()
	held := map[int64]bool{}
	defer func() {
		for id := range held {
			if err := p.opts.Store.ReleasePollLease(context.WithoutCancel(ctx), id, p.opts.Owner); err != nil {
				p.opts.Log.Warn("release poll lease", "config", id, "err", err)
			}
		}
	}()
	for {
		for _, target := range p.due() {
			err := p.Poll(ctx, target)
			switch {
			case errors.Is(err, errNotOwner):
				delete(held, target.ConfigID)
			case ctx.Err() != nil:
				return nil
			default:
				held[target.ConfigID] = true
				if err != nil {
					p.opts.Log.Warn("poll failed; the cursor stays", "config", target.ConfigID, "err", err)
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// due returns the targets whose interval has passed and schedules their
// next poll.
func (p *Poller) due() []Target {
	now := p.opts.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Target
	seen := map[int64]bool{}
	for _, t := range p.opts.Targets() {
		if !t.Polls() {
			continue
		}
		seen[t.ConfigID] = true
		if next, ok := p.next[t.ConfigID]; ok && now.Before(next) {
			continue
		}
		p.next[t.ConfigID] = now.Add(t.interval())
		out = append(out, t)
	}
	for id := range p.next {
		if !seen[id] {
			delete(p.next, id) // deleted or disabled: due at once if it returns
		}
	}
	return out
}

// errNotOwner means another process polls this configuration.
var errNotOwner = errors.New("another process holds the poll lease")

// Poll polls one configuration now: it takes the lease, reads the appliance
// clock, lists what happened since the cursor, and commits the events with
// the new cursor. A failure is recorded on the cursor row (shown in the UI)
// and leaves the cursor where it was.
func (p *Poller) Poll(ctx context.Context, t Target) error {
	now := p.opts.Now()
	// The lease outlives a missed tick or two, and expires soon after the
	// process dies so that another one takes over.
	cur, ok, err := p.opts.Store.AcquirePollLease(ctx, t.ConfigID, p.opts.Owner, now, now.Add(3*t.interval()))
	if err != nil {
		return fmt.Errorf("poll config %d: %w", t.ConfigID, err)
	}
	if !ok {
		return errNotOwner
	}
	res, err := p.find(ctx, t, cur)
	if err != nil {
		msg := beyondtrust.Explain(err)
		if msg != err.Error() {
			msg += " (" + err.Error() + ")"
		}
		if rerr := p.opts.Store.RecordPollError(context.WithoutCancel(ctx), t.ConfigID, p.opts.Owner, now, msg); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	ins, err := p.opts.Store.CommitPoll(ctx, res)
	if err != nil {
		return fmt.Errorf("poll config %d: commit: %w", t.ConfigID, err)
	}
	added := store.NewCount(ins)
	if len(res.Events) > 0 {
		p.opts.Wake()
	}
	p.opts.Log.Info("polled", "config", t.ConfigID, "found", len(res.Events), "new", added, "cursor", res.Cursor)
	return nil
}

// find asks the appliance what happened since the cursor.
func (p *Poller) find(ctx context.Context, t Target, cur *store.PollCursor) (store.PollResult, error) {
	res := store.PollResult{ConfigID: t.ConfigID, Owner: p.opts.Owner, PolledAt: p.opts.Now()}
	if t.Client == nil {
		return res, errors.New("no appliance client for this configuration")
	}
	// The poll's start is read from the appliance clock, so that our clock
	// drifting cannot open a gap; an account without command API access
	// falls back to ours.
	start := p.opts.Now()
	info, err := t.Client.APIInfo(ctx)
	var be *beyondtrust.Error
	switch {
	case err == nil && !info.Timestamp.IsZero():
		start = info.Timestamp
	case err == nil, errors.As(err, &be) && be.Kind == beyondtrust.KindPermission:
	default:
		return res, err
	}
	from := cur.Cursor()
	if enabled := t.EnabledAt.Add(-time.Duration(t.Appliance.PollingBackfill) * time.Hour); from.IsZero() || from.Before(enabled) {
		// Never polled, or polled before the configuration was last
		// disabled: start from when it was enabled, less the backfill.
		from = enabled
	}
	if t.Appliance.Subscribes(engine.EventSessionEnd, engine.SourcePoll) {
		list, err := t.Client.EndedSince(ctx, from)
		if err != nil {
			return res, err
		}
		ends, err := p.sessionEnds(ctx, t, list, start)
		if err != nil {
			return res, err
		}
		res.Events = append(res.Events, ends...)
	}
	for _, kind := range []struct {
		event string
		kind  beyondtrust.SurveyKind
	}{{engine.EventCustomerSurveyDone, beyondtrust.CustomerSurvey}, {engine.EventRepSurveyDone, beyondtrust.RepSurvey}} {
		if !t.Appliance.Subscribes(kind.event, engine.SourcePoll) || t.Client.Product() != beyondtrust.ProductRS {
			continue
		}
		surveys, err := t.Client.ExitSurveys(ctx, kind.kind, from, 0)
		if err != nil {
			return res, err
		}
		for _, s := range surveys {
			res.Events = append(res.Events, p.survey(t, kind.event, s, start))
		}
	}
	res.Cursor = start.Add(-p.opts.Overlap)
	if res.Cursor.Before(from) {
		res.Cursor = from // never move backwards
	}
	return res, nil
}

// event makes a polled event that happened at at. An unknown time (zero
// at) is stored as seen, the poll's start, and leaves the posted timestamp
// field empty, so that the event's dedupe key stays the same from poll to
// poll.
func (p *Poller) event(t Target, name, lsid, externalKey string, at, seen time.Time, extra url.Values) *store.NewEvent {
	stamp := ""
	if at.IsZero() {
		at = seen
	} else {
		stamp = strconv.FormatInt(at.Unix(), 10)
	}
	fields := url.Values{
		"event":        {name},
		"appliance_id": {t.Appliance.ApplianceID},
		"lsid":         {lsid},
		"external_key": {externalKey},
		"timestamp":    {stamp},
	}
	for k, v := range extra {
		fields[k] = slices.Clone(v)
	}
	e := store.Event{
		DedupeKey:   engine.DedupeKey(t.Appliance.ApplianceID, name, lsid, stamp, fields),
		ApplianceID: t.Appliance.ApplianceID,
		Name:        name,
		Source:      engine.SourcePoll,
		LSID:        lsid,
		ExternalKey: externalKey,
		OccurredAt:  at.UnixMilli(),
		Fields:      fields.Encode(),
		Routing:     store.Routed,
	}
	return &store.NewEvent{Event: e, Deliveries: []store.NewDelivery{{
		ConfigID: t.ConfigID, Plugin: t.Plugin, MaxAttempts: t.Appliance.MaxAttempts(name, engine.SourcePoll),
	}}}
}

// reportBatch is how many full reports one call fetches for their times.
const reportBatch = 50

// sessionEnds makes the session-end events of a listing. A listing carries
// no times, so each session's end time (and its external key, when the
// listing gives none) is read from its full report, fetched in batches so
// that a long backfill holds one batch of reports at a time. A session the
// report leaves without an end time is stored at the poll's start.
func (p *Poller) sessionEnds(ctx context.Context, t Target, list []beyondtrust.SessionSummary, start time.Time) ([]*store.NewEvent, error) {
	out := make([]*store.NewEvent, 0, len(list))
	for i := 0; i < len(list); i += reportBatch {
		batch := list[i:min(i+reportBatch, len(list))]
		lsids := make([]string, len(batch))
		for j, s := range batch {
			lsids[j] = s.LSID
		}
		reports, err := t.Client.Sessions(ctx, lsids)
		if err != nil {
			return nil, fmt.Errorf("read the end times of %d listed sessions: %w", len(lsids), err)
		}
		byLSID := make(map[string]*beyondtrust.Session, len(reports))
		for _, r := range reports {
			byLSID[r.LSID] = r
		}
		for _, s := range batch {
			var end time.Time
			key := s.ExternalKey
			if r := byLSID[s.LSID]; r != nil {
				end = r.EndTime
				if key == "" {
					key = r.ExternalKey
				}
			}
			out = append(out, p.event(t, engine.EventSessionEnd, s.LSID, key, end, start, nil))
		}
	}
	return out, nil
}

// survey makes the event of an exit survey. Its fields (and so its dedupe
// key) depend only on the survey, so every poll that sees it again adds
// nothing.
func (p *Poller) survey(t Target, name string, s beyondtrust.SurveyRecord, start time.Time) *store.NewEvent {
	return p.event(t, name, s.LSID, "", s.Survey.Timestamp, start, url.Values{"gsnumber": {s.Survey.GSNumber}})
}
