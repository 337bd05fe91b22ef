// Package siem forwards BeyondTrust session activity to a SIEM: one event
// per session_details/event of a session's report plus one session summary
// (and, optionally, the outbound events as they arrive), formatted as ECS
// JSON, CEF or raw JSON, and delivered to Splunk HEC, Elastic bulk, a
// Sekoia.io HTTP intake, a signed HTTPS webhook or syslog (TCP, TLS, UDP).
package siem

import (
	"strconv"
	"strings"
	"time"

	bt "switchboard/engine/beyondtrust"
)

// Kinds of events that are not a session_details entry.
const (
	KindSummary = "summary"
	// SummaryType is the event type the session summary carries.
	SummaryType = "Session Summary"
	// TestType marks the one event the Test button may send.
	TestType = "Switchboard Test Event"
)

// Event is one event to forward, before formatting. Session is shared by
// all events of one report; Source is the session_details entry (nil for
// the summary and for outbound events).
type Event struct {
	// ID is stable across retries and replays: <lsid>:<index>:<kind> for a
	// session_details entry (its 0-based position in the report),
	// <lsid>:<lseq>:summary for the summary, <lsid>:<unix time>-<stored
	// event id>:<event name> for an outbound event.
	ID string
	// Kind is the event type as a slug ("chat-message", "summary").
	Kind string
	// Index is the position in session_details, -1 when not one.
	Index int
	Time  time.Time
	// Type is the event type as the appliance names it ("Chat Message").
	Type        string
	ApplianceID string
	Host        string // the appliance's host name
	Session     *bt.Session
	Source      *bt.SessionEvent
	// Fields are an outbound event's posted fields (lightweight events).
	Fields map[string]string
	// Test marks the Test button's event.
	Test bool
}

// Origin names the appliance a report came from.
type Origin struct {
	ApplianceID string
	Host        string
}

// SessionEvents returns one event per session_details entry, in report
// order, then the session summary.
func SessionEvents(s *bt.Session, o Origin) []Event {
	out := make([]Event, 0, len(s.Events)+1)
	slugs := map[string]string{} // a report has a handful of event types
	for i := range s.Events {
		e := &s.Events[i]
		kind, ok := slugs[e.Type]
		if !ok {
			kind = Slug(e.Type)
			slugs[e.Type] = kind
		}
		out = append(out, Event{
			ID: s.LSID + ":" + strconv.Itoa(i) + ":" + kind, Kind: kind, Index: i, Time: e.Timestamp, Type: e.Type,
			ApplianceID: o.ApplianceID, Host: o.Host, Session: s, Source: e,
		})
	}
	end := s.EndTime
	if end.IsZero() {
		end = s.StartTime
	}
	out = append(out, Event{
		ID: s.LSID + ":" + strconv.FormatInt(s.LSeq, 10) + ":" + KindSummary, Kind: KindSummary, Index: -1, Time: end, Type: SummaryType,
		ApplianceID: o.ApplianceID, Host: o.Host, Session: s,
	})
	return out
}

// Slug turns an event type into a lower-case, dash-separated kind:
// "Session Foreground Window Changed" → "session-foreground-window-changed".
func Slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
	}
	if b.Len() == 0 {
		return "event"
	}
	return b.String()
}

// Party is who performed an event or received it, resolved to the
// session's customer or representative record where the gsnumber matches.
type Party struct {
	Type      string
	GSNumber  string
	Name      string
	Username  string
	UserID    string
	PublicIP  string
	PrivateIP string
	Hostname  string
	OS        string
}

// resolve finds the member record behind an actor.
func resolve(s *bt.Session, a bt.Actor) *Party {
	if a.Type == "" && a.Name == "" && a.GSNumber == "" {
		return nil
	}
	p := &Party{Type: a.Type, GSNumber: a.GSNumber, Name: a.Name}
	if a.GSNumber == "" || s == nil {
		return p
	}
	switch a.Type {
	case bt.ActorCustomer:
		for _, c := range s.Customers {
			if c.GSNumber == a.GSNumber {
				p.Username, p.PublicIP, p.PrivateIP, p.Hostname, p.OS = c.Username, c.PublicIP, c.PrivateIP, c.Hostname, c.OS
			}
		}
	case bt.ActorRepresentative:
		for _, r := range s.Reps {
			if r.GSNumber == a.GSNumber {
				p.Username, p.UserID, p.PublicIP, p.PrivateIP, p.Hostname, p.OS = r.Username, r.ID, r.PublicIP, r.PrivateIP, r.Hostname, r.OS
			}
		}
	}
	return p
}

// known drops the appliance's "Unknown" placeholder.
func known(v string) string {
	if strings.EqualFold(v, "unknown") {
		return ""
	}
	return v
}
