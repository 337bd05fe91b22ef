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
	"switchboard/engine/store"
)

// Reports is what a poll asks the appliance; *beyondtrust.Client is one.
type Reports interface {
	Report(ctx context.Context, name string, form url.Values, parse func(io.Reader) error) error
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
	records, readErr := readReport(ctx, t.Client, stream, start, 0, p.TempDir)
	if readErr != nil {
		readErr = fmt.Errorf("appliance: source %s: %s from %s: %w", set.Name, stream, start.UTC().Format(time.RFC3339), readErr)
		if rerr := p.Store.RecordSourceError(context.WithoutCancel(ctx), id, p.Owner, now, readErr.Error()); rerr != nil {
			return Cycle{Cursor: start}, errors.Join(readErr, rerr)
		}
		return Cycle{Cursor: start}, readErr
	}
	taken, next, capped := take(records, start, set.MaxPerCycle, now)
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
// duration (0: up to now), as the reference's collectors do; Syslog is the
// whole download, filtered later by "when".
func readReport(ctx context.Context, c Reports, stream string, start time.Time, duration time.Duration, tempDir string) ([]activity.Record, error) {
	name := reportName(c.Product(), stream)
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
			out, err = activity.ParseTeam(r, name)
		case StreamVault:
			out, err = activity.ParseVault(r)
		default:
			out, err = activity.ReadSyslog(r, tempDir)
		}
		return err
	})
	return out, err
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
