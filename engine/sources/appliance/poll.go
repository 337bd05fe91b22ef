package appliance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"switchboard/engine/beyondtrust"
	"switchboard/engine/sources/appliance/activity"
	"switchboard/engine/sources/window"
	"switchboard/engine/store"
)

// Reports is what a poll asks the appliance; *beyondtrust.Client is one.
type Reports interface {
	Report(ctx context.Context, name string, form url.Values, parse func(io.Reader) error) error
	// APIInfo is get_api_info, whose timestamp is the appliance's clock.
	APIInfo(ctx context.Context) (*beyondtrust.APIInfo, error)
	Product() string
	Host() string
}

// Target is one source to poll, as configured now.
type Target struct {
	Settings *Settings
	Client   Reports
	// Deliveries are where each new record goes (resolved from DeliverTo).
	Deliveries []store.NewDelivery
	// EnabledAt is when the source was configured: a first poll starts at
	// EnabledAt less FirstFetch.
	EnabledAt time.Time
}

// Poller polls appliance activity sources.
type Poller struct {
	Store *store.Store
	Owner string
	Now   func() time.Time
	Log   *slog.Logger
	// Wake nudges the dispatcher after new deliveries (may be nil).
	Wake func()
	// TempDir holds Syslog downloads while they are read ("": the system's).
	TempDir string
}

// Cycle says what one poll of one stream did.
type Cycle struct {
	Fetched int // records read past the cursor (what the cap counts)
	New     int // of those, records not stored before
	Cursor  time.Time
	Capped  bool
}

// ErrNotOwner means another process polls this stream.
var ErrNotOwner = errors.New("appliance: another process holds this stream's poll lease")

// Poll runs one cycle of one stream: read the report from the cursor, and
// commit its records with the new cursor in one transaction. A failed read
// stores nothing and leaves the cursor where it was, with the error kept on
// the stream's row.
func (p *Poller) Poll(ctx context.Context, t Target, stream string) (Cycle, error) {
	now := p.now()
	set := t.Settings
	id := set.ID(stream)
	interval := time.Duration(max(set.Interval, 30)) * time.Second
	cur, ok, err := p.Store.AcquireSourceLease(ctx, id, p.Owner, now, now.Add(3*interval))
	if err != nil {
		return Cycle{}, err
	}
	if !ok {
		return Cycle{}, ErrNotOwner
	}
	start := cur.StartOr(t.EnabledAt, now, time.Duration(set.FirstFetch)*time.Minute).Truncate(time.Second)
	var (
		records []activity.Record
		floor   time.Time
		readErr error
	)
	bound := now // the cursor's bound: the present, on the appliance's clock when it says
	if stream == StreamSyslog {
		records, readErr = readReport(ctx, t.Client, stream, start, 0, 0, p.TempDir)
	} else if bound, readErr = applianceNow(ctx, t.Client, now); readErr == nil {
		records, floor, readErr = p.readWindows(ctx, t, stream, start, bound)
	}
	if readErr != nil {
		readErr = fmt.Errorf("appliance: source %s: %s from %s: %w", set.Name, stream, start.UTC().Format(time.RFC3339), readErr)
		if rerr := p.Store.RecordSourceError(context.WithoutCancel(ctx), id, p.Owner, now, readErr.Error()); rerr != nil {
			return Cycle{Cursor: start}, errors.Join(readErr, rerr)
		}
		return Cycle{Cursor: start}, readErr
	}
	records, held := holdOpen(records, now, interval+SyslogWait)
	taken, next, capped := take(records, start, set.MaxPerCycle, bound)
	if !capped && floor.After(next) {
		next = floor // whole windows read with nothing newer: do not ask them again
	}
	for _, h := range held {
		// The next poll reads from the open message again, to store it
		// once it is whole.
		if h.At.Before(next) {
			next = maxTime(h.At, start)
		}
	}
	if len(held) > 0 {
		p.log().Info("appliance: syslog messages the download ended in are kept for the next poll", "source", set.Name, "messages", len(held))
	}
	cyc := Cycle{Fetched: len(taken), Cursor: next, Capped: capped}
	rows := make([]*store.NewEvent, 0, len(taken))
	host := strings.ToLower(t.Client.Host())
	for _, rec := range taken {
		rows = append(rows, p.event(t, stream, host, rec))
	}
	ins, err := p.Store.CommitSource(ctx, store.SourceResult{SourceID: id, Owner: p.Owner, Records: rows, Cursor: next, PolledAt: now})
	if err != nil {
		return cyc, fmt.Errorf("appliance: source %s: %s: commit: %w", set.Name, stream, err)
	}
	cyc.New = store.NewCount(ins)
	if cyc.New > 0 && len(t.Deliveries) > 0 && p.Wake != nil {
		p.Wake()
	}
	if capped {
		p.log().Warn("appliance: more records than Records per Poll; the rest come with the next poll", "source", set.Name, "stream", stream, "cursor", next)
	}
	p.log().Info("appliance: polled", "source", set.Name, "stream", stream, "fetched", cyc.Fetched, "new", cyc.New, "cursor", next)
	return cyc, nil
}

// applianceNow is the present as far as the appliance has recorded it:
// the earlier of its clock (get_api_info's timestamp, as the session
// poller reads it) and ours. Team and Vault windows end, and the cursor
// stops, there: with our clock alone, an appliance running behind by more
// than a window would stamp what it records next before the cursor, and
// it would never be read; with its clock alone, one running ahead (then
// set right) would do the same. An API account without command API
// access, or an answer without a timestamp, leaves ours.
func applianceNow(ctx context.Context, c Reports, ours time.Time) (time.Time, error) {
	info, err := c.APIInfo(ctx)
	var be *beyondtrust.Error
	switch {
	case err == nil && !info.Timestamp.IsZero():
		if info.Timestamp.After(ours) {
			return ours, nil
		}
		return info.Timestamp, nil
	case err == nil, errors.As(err, &be) && be.Kind == beyondtrust.KindPermission:
		return ours, nil
	}
	return ours, fmt.Errorf("the appliance's clock (get_api_info): %w", err)
}

// reportName is the generate_report value of a stream on the product.
func reportName(product, stream string) string {
	switch stream {
	case StreamTeam:
		if product == beyondtrust.ProductRS {
			return "SupportTeam"
		}
		return "Team"
	case StreamVault:
		return "VaultAccountActivity"
	}
	return "Syslog"
}

// readReport asks one report. Team and Vault are asked with end_time and
// duration (0: up to now), as the reference's collectors do, and an answer
// holding more than most records (0: any number) is given up with
// activity.ErrTooMany; Syslog is the whole download, filtered later by
// "when".
func readReport(ctx context.Context, c Reports, stream string, start time.Time, duration time.Duration, most int, tempDir string) ([]activity.Record, error) {
	name := reportName(c.Product(), stream)
	tooMany := false
	form := url.Values{}
	if stream != StreamSyslog {
		form.Set("end_time", strconv.FormatInt(start.Unix(), 10))
		form.Set("duration", strconv.FormatInt(int64(duration/time.Second), 10))
	}
	var out []activity.Record
	err := c.Report(ctx, name, form, func(r io.Reader) error {
		var err error
		switch stream {
		case StreamTeam:
			out, err = activity.ParseTeamAtMost(r, name, most)
		case StreamVault:
			out, err = activity.ParseVaultAtMost(r, most)
		default:
			out, err = activity.ReadSyslog(r, tempDir)
		}
		tooMany = errors.Is(err, activity.ErrTooMany)
		return err
	})
	if tooMany {
		// The client's error wraps the parser's in words; the window
		// fitting needs to know it for what it is.
		return nil, activity.ErrTooMany
	}
	return out, err
}

// SyslogWait is how long, past one polling interval, a syslog message the
// download ended in (segments missing) waits for its other segments before
// it is stored incomplete.
const SyslogWait = 5 * time.Minute

// holdOpen takes out the syslog messages the download ended in, segments
// missing, that are younger than wait: the next download may hold them
// whole. Older ones (a segment lost for good) and those without a time are
// left to be stored, marked incomplete.
func holdOpen(records []activity.Record, now time.Time, wait time.Duration) (kept, held []activity.Record) {
	for _, r := range records {
		if r.Open && !r.At.IsZero() && r.At.After(now.Add(-wait)) {
			held = append(held, r)
		} else {
			kept = append(kept, r)
		}
	}
	return kept, held
}

// MaxWindowRecords bounds the records one Team or Vault answer may hold
// (with Records per Poll, whichever is smaller): a Team event as the
// reference shows it is under 1 KiB of XML, so an answer of 20,000 stays
// near 20 MiB, far below the client's 256 MiB cap even at ten times that.
const MaxWindowRecords = 20000

// minWindow is the narrowest window a busy span is halved to; the
// appliance's times are whole seconds, so it is read whole whatever it
// holds.
const minWindow = time.Second

// readWindows asks a Team or Vault report window after window from start:
// each request spans at most the source's Window (the last one runs up to
// now: duration 0, from less than a window before now), at most
// MaxWindowsPerPoll windows, and no more once MaxPerCycle records past
// start were read. A window whose answer holds more than Records per Poll
// (or MaxWindowRecords) is halved and asked again (window.Fit, as PM
// Cloud's audits are), down to one second, and the windows after it in
// this poll keep the smaller span. floor is how far the windows read reach
// with nothing left unread (never later than one window before now, so
// that an activity recorded late in the last window is still found).
func (p *Poller) readWindows(ctx context.Context, t Target, stream string, start, now time.Time) (out []activity.Record, floor time.Time, err error) {
	w := time.Duration(max(t.Settings.Window, 1)) * time.Minute
	span := w
	most := min(max(t.Settings.MaxPerCycle, 1), MaxWindowRecords)
	from := start
	for range MaxWindowsPerPoll {
		end := from.Add(span)
		if !end.Before(now) {
			end = now // the last window: up to the appliance's now
		}
		read := func(e time.Time) ([]activity.Record, error) {
			dur, limit := e.Sub(from), most
			if e.Equal(now) {
				dur = 0
			}
			if e.Sub(from) <= minWindow {
				limit = 0
			}
			return readReport(ctx, t.Client, stream, from, dur, limit, p.TempDir)
		}
		tooMany := func(_ []activity.Record, err error) bool { return errors.Is(err, activity.ErrTooMany) }
		got, recs, halved, err := window.Fit(from, end, minWindow, time.Second, read, tooMany)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("window from %s: %w", from.UTC().Format(time.RFC3339), err)
		}
		if halved > 0 {
			span = got.Sub(from)
			p.log().Warn("appliance: a window held more records than one answer may; asked in smaller windows", "source", t.Settings.Name, "stream", stream, "window", span)
		}
		out = append(out, recs...)
		if got.Equal(now) {
			floor = now.Add(-w)
			break
		}
		from = got
		floor = from
		if past(out, start) >= max(t.Settings.MaxPerCycle, 1) {
			break
		}
	}
	if limit := now.Add(-w); floor.After(limit) {
		floor = limit
	}
	return out, floor.Truncate(time.Second), nil
}

// past counts the records after start's second.
func past(records []activity.Record, start time.Time) int {
	n := 0
	for _, r := range records {
		if r.At.After(start) {
			n++
		}
	}
	return n
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// take keeps the records at or after start (the cursor's second is read
// again: activities that shared it may have come since; dedupe drops the
// repeats), in time order, at most max of them past the cursor's second —
// but never part of a second, or the next poll could not tell what it has. It returns them,
// the next cursor (the latest time kept; never back, never past now) and
// whether records were left for the next poll. Records without a time are
// always kept.
func take(records []activity.Record, start time.Time, max int, now time.Time) ([]activity.Record, time.Time, bool) {
	if max <= 0 {
		max = DefaultMaxPerCycle
	}
	var kept []activity.Record
	for _, r := range records {
		if r.At.IsZero() || !r.At.Before(start) {
			kept = append(kept, r)
		}
	}
	slices.SortStableFunc(kept, func(a, b activity.Record) int { return a.At.Compare(b.At) })
	// Records without a time and those of the cursor's own second were
	// kept whole by the poll before (a second is never split): they do not
	// count, or a full second at the cursor would stop every poll there.
	free := 0
	for free < len(kept) && !kept[free].At.After(start) {
		free++
	}
	capped := false
	if limit := free + max; len(kept) > limit {
		cut := limit
		for cut < len(kept) && kept[cut].At.Equal(kept[limit-1].At) {
			cut++
		}
		capped = cut < len(kept)
		kept = kept[:cut]
	}
	next := start
	if n := len(kept); n > 0 && kept[n-1].At.After(next) {
		next = kept[n-1].At
	}
	if limit := now.Truncate(time.Second); next.After(limit) && limit.After(start) {
		next = limit // a record stamped in the future (a clock gone wrong) must not skip what is to come
	} else if next.After(limit) {
		next = start
	}
	return kept, next, capped
}

// event makes the stored event of one record.
func (p *Poller) event(t Target, stream, host string, rec activity.Record) *store.NewEvent {
	at := rec.At
	if at.IsZero() {
		at = p.now()
	}
	fields := url.Values{
		DocumentField: {string(rec.Doc)},
		"record_id":   {rec.Key},
		"stream":      {stream},
		"source":      {t.Settings.Name},
		"appliance":   {host},
	}
	routing, reason := store.Routed, ""
	if len(t.Deliveries) == 0 {
		routing, reason = store.Unrouted, "no configuration is named under Deliver To"
	}
	return &store.NewEvent{
		Event: store.Event{
			// Keyed by appliance, stream and content: two sources reading
			// one appliance store each activity once.
			DedupeKey:   strings.Join([]string{Source, host, stream, rec.Key}, "\x1f"),
			ApplianceID: t.Settings.Name,
			Name:        EventName[stream],
			Source:      Source,
			ExternalKey: rec.Key,
			OccurredAt:  at.UnixMilli(),
			Fields:      fields.Encode(),
			Routing:     routing,
			Reason:      reason,
		},
		Deliveries: t.Deliveries,
	}
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
