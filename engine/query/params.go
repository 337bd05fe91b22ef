// Package query answers investigation queries (GET /api/v1/query/<kind>,
// `switchboard query <kind>`) from a BeyondTrust appliance through its
// client (engine/beyondtrust: cached OAuth tokens, one connection per call),
// as JSON pages of a documented shape, so that a SOAR tool need not speak the
// appliance's XML. It reads the appliance and nothing else. docs/queries.md
// describes every kind.
package query

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Kinds of query.
const (
	KindSessions   = "sessions"       // sessions in a window: the listing, then each session's report
	KindSession    = "session"        // one session by lsid
	KindRecordings = "recordings"     // recording and command shell recording links of sessions
	KindTeam       = "team-activity"  // Team (PRA) / SupportTeam (RS) events in a window
	KindVault      = "vault-activity" // VaultAccountActivity entries in a window
	KindSummaries  = "session-summaries"
	KindJumpItems  = "jump-items"    // Jump Items of one type, from the Configuration API
	KindLicense    = "license-usage" // PRA EndpointLicenseUsage: every Jump Item and whether it takes a license
)

// Kinds lists every kind, supported or not, in the order docs/queries.md
// describes them.
var Kinds = []string{KindSessions, KindSession, KindRecordings, KindTeam, KindVault, KindSummaries, KindJumpItems, KindLicense}

// Paging and size bounds.
const (
	DefaultLimit = 50
	MaxLimit     = 200
	// MaxPageBytes caps one page's items, JSON-encoded; a page that would
	// be larger ends early, and next_cursor goes on from there.
	MaxPageBytes = 4 << 20
	// MaxWindow is the longest window one query may cover.
	MaxWindow = 93 * 24 * time.Hour
)

// Params are a query's parameters, checked.
type Params struct {
	// From and To bound the window [From, To); To defaults to now and
	// is never later than now.
	From, To time.Time
	// By is "end" (closed sessions that ended in the window, the default)
	// or "start" (sessions that began in it, running ones too).
	By     string
	LSID   string
	TeamID string
	// Type is the Jump Item type of jump-items (e.g. "shell-jump").
	Type  string
	Limit int
	// Cursor is the sort key of the last item of the previous page.
	Cursor string
}

// InputError is a query the caller has to correct.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func bad(format string, args ...any) error { return &InputError{Msg: fmt.Sprintf(format, args...)} }

// UnsupportedError refuses a kind Switchboard cannot answer truthfully.
type UnsupportedError struct{ Kind, Reason string }

func (e *UnsupportedError) Error() string {
	return "not supported: " + e.Kind + ": " + e.Reason
}

// lsidShape is what an lsid may look like: it travels in a form field, so
// a comma (which would make it a list) or a slash is refused.
var lsidShape = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)

var known = map[string]string{
	"from": "", "to": "", "by": "", "lsid": "", "team_id": "", "type": "", "limit": "", "cursor": "", "config": "",
}

// ParseParams reads and checks the query parameters of kind at now.
func ParseParams(kind string, q url.Values, now time.Time) (Params, error) {
	if !isKind(kind) {
		return Params{}, bad("unknown query kind %q; the kinds are %s", kind, strings.Join(Kinds, ", "))
	}
	for name, vs := range q {
		if _, ok := known[name]; !ok {
			return Params{}, bad("unknown parameter %q", name)
		}
		if len(vs) > 1 {
			return Params{}, bad("parameter %q is given more than once", name)
		}
	}
	p := Params{By: "end", Limit: DefaultLimit}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxLimit {
			return Params{}, bad("limit must be a whole number from 1 to %d", MaxLimit)
		}
		p.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || len(b) == 0 || len(b) > 256 {
			return Params{}, bad("cursor is not one this API gave; pass next_cursor of the previous page as it is")
		}
		p.Cursor = string(b)
	}
	if q.Has("type") && kind != KindJumpItems {
		return Params{}, bad("type is a parameter of the jump-items query")
	}
	switch kind {
	case KindJumpItems:
		if err := jumpItemsParams(q, &p); err != nil {
			return Params{}, err
		}
		return p, nil
	case KindSession:
		p.LSID = q.Get("lsid")
		if !lsidShape.MatchString(p.LSID) {
			return Params{}, bad("lsid must be the session's id: 1 to 128 letters, digits, '.', '_' or '-'")
		}
		return p, nil
	case KindRecordings:
		if v := q.Get("lsid"); v != "" {
			if !lsidShape.MatchString(v) {
				return Params{}, bad("lsid must be the session's id: 1 to 128 letters, digits, '.', '_' or '-'")
			}
			p.LSID = v
			return p, nil
		}
	case KindLicense:
		for _, name := range []string{"from", "to", "by", "lsid", "team_id"} {
			if q.Has(name) {
				return Params{}, bad("%s is not a parameter of license-usage: it lists every Jump Item as it is now", name)
			}
		}
		return p, nil
	case KindTeam:
		if v := q.Get("team_id"); v != "" {
			if n, err := strconv.ParseUint(v, 10, 31); err != nil || n == 0 {
				return Params{}, bad("team_id must be a team's number")
			}
			p.TeamID = v
		}
	}
	if q.Has("lsid") && kind != KindRecordings {
		return Params{}, bad("lsid is a parameter of the session and recordings queries")
	}
	switch by := q.Get("by"); by {
	case "", "end":
	case "start":
		p.By = "start"
	default:
		return Params{}, bad(`by must be "end" (sessions that ended in the window) or "start" (sessions that began in it)`)
	}
	if err := p.window(q, now); err != nil {
		return Params{}, err
	}
	return p, nil
}

func (p *Params) window(q url.Values, now time.Time) error {
	if q.Get("from") == "" {
		return bad("from is required: the window's start, as RFC 3339 or Unix seconds")
	}
	var err error
	if p.From, err = parseTime("from", q.Get("from")); err != nil {
		return err
	}
	p.To = now
	if v := q.Get("to"); v != "" {
		if p.To, err = parseTime("to", v); err != nil {
			return err
		}
		if p.To.After(now) {
			p.To = now
		}
	}
	p.From, p.To = p.From.UTC().Truncate(time.Second), p.To.UTC().Truncate(time.Second)
	switch {
	case !p.From.Before(now):
		return bad("from must be in the past")
	case !p.From.Before(p.To):
		return bad("from must be before to")
	case p.To.Sub(p.From) > MaxWindow:
		return bad("the window may cover at most %d days; query several windows", int(MaxWindow/(24*time.Hour)))
	}
	return nil
}

func parseTime(name, v string) (time.Time, error) {
	if sec, err := strconv.ParseInt(v, 10, 64); err == nil {
		if sec <= 0 || sec > 1<<40 {
			return time.Time{}, bad("%s is out of range", name)
		}
		return time.Unix(sec, 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, bad("%s must be an RFC 3339 time (2026-01-02T15:04:05Z) or Unix seconds", name)
	}
	return t, nil
}

func isKind(kind string) bool {
	for _, k := range Kinds {
		if k == kind {
			return true
		}
	}
	return false
}

func encodeCursor(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }
