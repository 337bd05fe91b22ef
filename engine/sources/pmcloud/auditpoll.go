package pmcloud

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"switchboard/engine/sources/window"
	"switchboard/engine/store"
)

// minAuditWindow is the narrowest window the cap may shrink an audit
// window to; a window this narrow is read whole, cap or not.
const minAuditWindow = time.Second

// PollAudits runs one cycle of the activity audits stream. The stream
// reads windows: from the cursor less the overlap to the time of the poll,
// every page of it. Only a window read whole moves the cursor (to its end);
// a failed window is read again from its start next time, and the audits
// read twice are dropped by their id. A window holding more audits than
// the per-cycle cap is halved (its first page says how many) until it
// holds no more.
func (p *Poller) PollAudits(ctx context.Context, t Target) (Cycle, error) {
	return p.cycle(ctx, t, t.Settings.AuditsID(), "audits", p.readAudits)
}

func (p *Poller) readAudits(ctx context.Context, t Target, start time.Time) ([]*store.NewEvent, time.Time, Cycle, error) {
	var (
		cyc   Cycle
		out   []*store.NewEvent
		seen  = map[string]bool{}
		set   = t.Settings
		limit = set.MaxPerCycle
		from  = start.Add(-time.Duration(set.AuditOverlap) * time.Minute)
		end   = p.now().Truncate(time.Millisecond)
	)
	if limit <= 0 {
		limit = DefaultMaxPerCycle
	}
	if !end.After(start) {
		return nil, start, cyc, nil // a clock gone back: nothing to ask for
	}
	fail := func(err error) ([]*store.NewEvent, time.Time, Cycle, error) {
		return out, start, cyc, fmt.Errorf("pmcloud: source %s: read audits from %s to %s: %w", set.Name, FormatStart(from), FormatStart(end), err)
	}
	size := MaxAuditPageSize
	end, page, halved, err := window.Fit(start, end, minAuditWindow, time.Millisecond,
		func(end time.Time) (AuditPage, error) { return t.Client.Audits(ctx, from, end, 1, size) },
		func(page AuditPage, err error) bool { return err == nil && page.Total > limit })
	cyc.Pages += halved
	cyc.Capped = halved > 0
	host := hostOf(set.ServicesURL)
	for n := 1; ; n++ {
		for errors.Is(err, ErrPageTooLarge) && size > 1 {
			// Ask for smaller pages: a divisor of the size, so that the
			// pages read so far end on a page boundary of the new size.
			smaller := divisorBelow(size)
			n = (n-1)*size/smaller + 1
			size = smaller
			p.log().Warn("pmcloud: an audit page is over the body cap; asking for smaller ones", "source", set.Name, "page_size", size)
			page, err = t.Client.Audits(ctx, from, end, n, size)
		}
		if err != nil {
			return fail(err)
		}
		cyc.Pages++
		fresh := 0
		for _, a := range page.Audits {
			if seen[a.ID] {
				continue
			}
			seen[a.ID] = true
			fresh++
			cyc.Fetched++
			out = append(out, p.audit(t, host, a))
		}
		last := len(page.Audits) < size || (page.PageCount >= 0 && n >= page.PageCount)
		if last {
			break
		}
		if fresh == 0 {
			// A full page of audits read already: a remote ignoring the
			// page number would answer it forever.
			return fail(fmt.Errorf("page %d holds only audits read already: %w", n, ErrShape))
		}
		page, err = t.Client.Audits(ctx, from, end, n+1, size)
	}
	return out, end, cyc, nil
}

// audit makes the stored event of one activity audit.
func (p *Poller) audit(t Target, host string, a Audit) *store.NewEvent {
	fields := url.Values{"audit_id": {a.ID}}
	if !a.Created.IsZero() {
		fields.Set("created", a.Created.UTC().Format(time.RFC3339Nano))
	}
	// Keyed apart from events: audit ids are integers and may equal an
	// event's id.
	return p.stored(t, AuditEventName, strings.Join([]string{Source + "-audit", host, a.ID}, "\x1f"), a.ID, a.Created, a.Doc, fields)
}

// divisorBelow is the largest divisor of n no larger than n/2 (1 for n < 4).
func divisorBelow(n int) int {
	for d := n / 2; d > 1; d-- {
		if n%d == 0 {
			return d
		}
	}
	return 1
}
