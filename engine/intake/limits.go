package intake

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limits of what the intake stores. The appliance posts short identifiers
// (event names such as support_conference_end, 32-hex-digit lsids) and a
// few small fields; anything beyond is refused before it is stored or
// logged. docs/operations.md lists them.
const (
	// MaxIdentifier is the longest event name, Appliance Id or lsid.
	MaxIdentifier = 64
	// DefaultMaxFieldBytes caps the posted field names and values together.
	DefaultMaxFieldBytes = 64 << 10
	// DefaultMaxUnrouted and DefaultMaxUnroutedBytes cap the events that
	// route nowhere; past either, the oldest are deleted.
	DefaultMaxUnrouted      = 10000
	DefaultMaxUnroutedBytes = 64 << 20
	// defaultTrimEvery is how many unrouted events are stored between trims.
	defaultTrimEvery = 64
)

// UnroutedLimits cap the storage of events that route nowhere.
type UnroutedLimits struct {
	MaxEvents int64
	MaxBytes  int64
	// TrimEvery is how many unrouted events are stored between two trims
	// (1 in tests: trim after each).
	TrimEvery int64
}

// identifier is one rule of checkIdentifier.
type identifier struct {
	field string
	ok    func(b byte) bool
	rule  string
}

var (
	eventRule = identifier{"event", func(b byte) bool { return isAlnum(b) || b == '_' || b == '.' || b == '-' }, "letters, digits, '_', '.' and '-'"}
	lsidRule  = identifier{"lsid", func(b byte) bool { return isAlnum(b) || b == '_' || b == '.' || b == '-' || b == ':' }, "letters, digits, '_', '.', '-' and ':'"}
	// The Appliance Id follows the configuration form's rule (printable
	// ASCII), so any id a configuration can hold can be posted.
	applianceRule = identifier{"appliance id", func(b byte) bool { return b >= 0x20 && b <= 0x7e }, "printable ASCII"}
)

func isAlnum(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

// check returns why v breaks the rule, or "".
func (id identifier) check(v string) string {
	if len(v) > MaxIdentifier {
		return fmt.Sprintf("the %s is longer than %d bytes", id.field, MaxIdentifier)
	}
	for i := 0; i < len(v); i++ {
		if !id.ok(v[i]) {
			return fmt.Sprintf("the %s may hold only %s", id.field, id.rule)
		}
	}
	return ""
}

// fieldBytes is the size of the posted fields as stored.
func fieldBytes(fields url.Values) int {
	n := 0
	for k, vs := range fields {
		for _, v := range vs {
			n += len(k) + len(v)
		}
	}
	return n
}

// checkPost applies the limits to a parsed post; it returns a status,
// metric reason and message for a refusal.
func (h *Handler) checkPost(name, appliance, lsid string, fields url.Values) (int, string, string) {
	if n := fieldBytes(fields); n > h.opts.MaxFields {
		return http.StatusRequestEntityTooLarge, "fields_too_large", "the posted fields hold " + strconv.Itoa(n) + " bytes, more than " + strconv.Itoa(h.opts.MaxFields)
	}
	for _, c := range []struct {
		rule   identifier
		v      string
		reason string
	}{{eventRule, name, "invalid_event"}, {applianceRule, appliance, "invalid_appliance"}, {lsidRule, lsid, "invalid_lsid"}} {
		if msg := c.rule.check(c.v); msg != "" {
			return http.StatusBadRequest, c.reason, msg
		}
	}
	return 0, "", ""
}

// clipBytes is how much of a posted value a log line shows.
const clipBytes = 64

// clip makes a posted value safe to log: valid UTF-8, control characters
// escaped (a value cannot start a forged log line), at most clipBytes of
// it, and its full size when cut.
func clip(s string) string {
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\ufffd") {
		if b.Len() >= clipBytes {
			// The size is of what was posted, not of the escaped text.
			return b.String() + "…(" + strconv.Itoa(len(s)) + " bytes)"
		}
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Refusal log lines: a burst, then one per interval, with the number of
// lines left out. The metric counts every refusal.
const (
	refusalLogBurst    = 10
	refusalLogInterval = 10 * time.Second
)

// logLimiter lets a burst of lines through, then one per interval.
type logLimiter struct {
	mu         sync.Mutex
	tokens     float64
	last       time.Time
	suppressed int
}

// allow reports whether a line may be written now, and how many lines
// were left out since the last one written.
func (l *logLimiter) allow(now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last.IsZero() {
		l.tokens = refusalLogBurst
	} else {
		l.tokens = min(refusalLogBurst, l.tokens+now.Sub(l.last).Seconds()/refusalLogInterval.Seconds())
	}
	l.last = now
	if l.tokens < 1 {
		l.suppressed++
		return false, 0
	}
	l.tokens--
	n := l.suppressed
	l.suppressed = 0
	return true, n
}

// unroutedTrimmer keeps unrouted events under their cap. It runs in the
// request that stored the TrimEvery-th unrouted event since the last trim;
// a trim already running makes the others skip theirs.
type unroutedTrimmer struct {
	h       *Handler
	mu      sync.Mutex
	running sync.Mutex
	since   int64
}

func (t *unroutedTrimmer) stored(ctx context.Context) {
	lim := t.h.opts.Unrouted
	t.mu.Lock()
	t.since++
	due := t.since >= lim.TrimEvery
	if due {
		t.since = 0
	}
	t.mu.Unlock()
	if !due || !t.running.TryLock() {
		return
	}
	defer t.running.Unlock()
	deleted, usage, err := t.h.opts.Store.TrimUnrouted(context.WithoutCancel(ctx), lim.MaxEvents, lim.MaxBytes)
	if err != nil {
		t.h.opts.Logger.Warn("unrouted events not trimmed; the next trim tries again", "err", err)
		return
	}
	m := t.h.opts.Metrics
	m.UnroutedTrimmed.Add(float64(deleted))
	m.UnroutedEvents.Set(float64(usage.Events))
	m.UnroutedBytes.Set(float64(usage.Bytes))
	if deleted > 0 {
		t.h.opts.Logger.Warn("oldest unrouted events deleted to stay under the cap", "deleted", deleted, "kept", usage.Events, "kept_bytes", usage.Bytes)
	}
}
