package query

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"time"

	"switchboard/engine/beyondtrust"
	"switchboard/engine/render"
	"switchboard/engine/sources/appliance/activity"
)

// Appliance is what a query asks of the appliance client: the reports of
// sessions, and any report by name. *beyondtrust.Client is one.
type Appliance interface {
	Host() string
	Product() string
	Session(ctx context.Context, lsid string) (*beyondtrust.Session, error)
	Sessions(ctx context.Context, lsids []string) ([]*beyondtrust.Session, error)
	Report(ctx context.Context, name string, form url.Values, parse func(io.Reader) error) error
	ConfigList(ctx context.Context, path string, query url.Values, perPage, page int) (*beyondtrust.ConfigPage, error)
}

var _ Appliance = (*beyondtrust.Client)(nil)

// Page is one page of a query's answer.
type Page struct {
	Kind      string  `json:"kind"`
	Appliance string  `json:"appliance"` // the appliance's host
	Product   string  `json:"product"`   // "rs" or "pra"
	Window    *Window `json:"window,omitempty"`
	Count     int     `json:"count"`
	// Items are the kind's items (docs/queries.md), in a stable order.
	Items []json.RawMessage `json:"items"`
	// NextCursor, when set, fetches the next page (cursor=<it>, the
	// other parameters unchanged); absent on the last page.
	NextCursor string `json:"next_cursor,omitempty"`
}

// Window is the window a query covered.
type Window struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	By   string    `json:"by,omitempty"`
}

// unsupported explains, per kind, why Switchboard does not answer it: the
// reference it is built from (shared/reference/beyondtrust-api.md) names
// the report but does not show its answer, and no public page or client
// found shows it either (docs/queries.md lists what was searched). Answering
// from a guessed shape would hand a SOAR tool made-up fields.
var unsupported = map[string]string{
	KindSummaries: "the reference does not describe the elements of a SupportSessionSummary / AccessSessionSummary <summary>, and no public page or client found shows them",
}

// Run answers one query from the appliance c talks to. Errors are an
// *InputError, an *UnsupportedError, or an *ApplianceError.
func Run(ctx context.Context, c Appliance, kind string, p Params) (*Page, error) {
	if why, ok := unsupported[kind]; ok {
		return nil, &UnsupportedError{Kind: kind, Reason: why}
	}
	if kind == KindLicense && !isPRA(c) {
		return nil, &UnsupportedError{Kind: kind, Reason: licenseRS}
	}
	page := &Page{Kind: kind, Appliance: c.Host(), Product: c.Product(), Items: []json.RawMessage{}}
	if !p.From.IsZero() {
		page.Window = &Window{From: p.From, To: p.To}
		if kind == KindSessions || kind == KindRecordings {
			page.Window.By = p.By
		}
	}
	var err error
	switch kind {
	case KindSession:
		err = oneSession(ctx, c, p, page)
	case KindSessions, KindRecordings:
		if p.LSID != "" {
			err = oneSession(ctx, c, p, page)
			break
		}
		err = sessions(ctx, c, kind, p, page)
	case KindTeam, KindVault:
		err = activities(ctx, c, kind, p, page)
	case KindLicense:
		err = licenseUsage(ctx, c, p, page)
	case KindJumpItems:
		err = jumpItems(ctx, c, p, page)
	default:
		return nil, bad("unknown query kind %q", kind)
	}
	var be *beyondtrust.Error
	if errors.As(err, &be) {
		return nil, &ApplianceError{Host: c.Host(), Err: be}
	}
	if err != nil {
		return nil, err
	}
	page.Count = len(page.Items)
	return page, nil
}

// ApplianceError is the appliance's failure to answer a query.
type ApplianceError struct {
	Host string
	Err  *beyondtrust.Error
}

func (e *ApplianceError) Error() string { return "appliance " + e.Host + ": " + e.Err.Error() }

func (e *ApplianceError) Unwrap() error { return e.Err }

// keyed is an item with the sort key its cursor names.
type keyed struct {
	key  string
	item any
}

// fill encodes items, in order, into the page up to p.Limit items and
// MaxPageBytes; more says whether items remain beyond those given.
func fill(page *Page, items []keyed, limit int, more bool) error {
	size := 0
	for i, it := range items {
		if i == limit {
			more = true
			break
		}
		b, err := json.Marshal(it.item)
		if err != nil {
			return fmt.Errorf("query: encode an item: %w", err)
		}
		if size+len(b) > MaxPageBytes && len(page.Items) > 0 {
			more = true
			break
		}
		size += len(b)
		page.Items = append(page.Items, b)
		page.NextCursor = encodeCursor(it.key)
	}
	if !more {
		page.NextCursor = ""
	}
	return nil
}

// SessionItem is one session of the sessions query.
type SessionItem struct {
	LSID string `json:"lsid"`
	// HasRecording and ExternalKey are what the listing says.
	HasRecording bool   `json:"has_recording"`
	ExternalKey  string `json:"external_key,omitempty"`
	// StartTime and EndTime are RFC 3339 in UTC; EndTime is empty while
	// the session runs.
	StartTime string `json:"start_time,omitempty"`
	EndTime   string `json:"end_time,omitempty"`
	// Session is the session's report in Switchboard's session model, the
	// template data model of docs/templates.md (times in UTC); null when
	// the appliance listed the session but returned no report for it.
	Session *render.Data `json:"session"`
}

// RecordingItem lists the recordings of one session.
type RecordingItem struct {
	LSID      string `json:"lsid"`
	StartTime string `json:"start_time,omitempty"`
	EndTime   string `json:"end_time,omitempty"`
	// Screen is the screen recording; null when there is none.
	Screen *Link `json:"screen_recording"`
	// Shell are the command shell recordings, by instance.
	Shell []ShellLink `json:"command_shell_recordings"`
}

// Link is a recording's view and download links on the appliance.
type Link struct {
	ViewURL     string `json:"view_url,omitempty"`
	DownloadURL string `json:"download_url,omitempty"`
}

// ShellLink is one command shell recording.
type ShellLink struct {
	Instance string `json:"instance"`
	Link
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func sessionItem(sum beyondtrust.SessionSummary, s *beyondtrust.Session) SessionItem {
	it := SessionItem{LSID: sum.LSID, HasRecording: sum.HasRecording, ExternalKey: sum.ExternalKey}
	if s != nil {
		d := render.NewData(s, time.UTC)
		it.Session, it.StartTime, it.EndTime = &d, stamp(s.StartTime), stamp(s.EndTime)
	}
	return it
}

func recordingItem(s *beyondtrust.Session) RecordingItem {
	it := RecordingItem{LSID: s.LSID, StartTime: stamp(s.StartTime), EndTime: stamp(s.EndTime), Shell: []ShellLink{}}
	if s.RecordingViewURL != "" || s.RecordingDownloadURL != "" {
		it.Screen = &Link{ViewURL: s.RecordingViewURL, DownloadURL: s.RecordingDownloadURL}
	}
	for _, r := range s.ShellRecordings {
		it.Shell = append(it.Shell, ShellLink{Instance: r.Instance, Link: Link{ViewURL: r.ViewURL, DownloadURL: r.DownloadURL}})
	}
	return it
}

func hasRecordings(s *beyondtrust.Session) bool {
	return s.RecordingViewURL != "" || s.RecordingDownloadURL != "" || len(s.ShellRecordings) > 0
}

// oneSession answers the session query, or recordings of one lsid.
func oneSession(ctx context.Context, c Appliance, p Params, page *Page) error {
	s, err := c.Session(ctx, p.LSID)
	if err != nil {
		return err
	}
	if page.Kind == KindRecordings {
		return fill(page, []keyed{{s.LSID, recordingItem(s)}}, 1, false)
	}
	return fill(page, []keyed{{s.LSID, sessionItem(beyondtrust.SessionSummary{LSID: s.LSID, ExternalKey: s.ExternalKey}, s)}}, 1, false)
}

// sessions lists the window's sessions (one listing call), orders them by
// lsid, and reads the reports of one page's worth after the cursor (one
// call per 50 sessions).
func sessions(ctx context.Context, c Appliance, kind string, p Params, page *Page) error {
	listing := "SupportSessionListing"
	if c.Product() == beyondtrust.ProductPRA {
		listing = "AccessSessionListing"
	}
	form := url.Values{p.By + "_time": {strconv.FormatInt(p.From.Unix(), 10)},
		"duration": {strconv.FormatInt(int64(p.To.Sub(p.From)/time.Second), 10)}}
	var list []beyondtrust.SessionSummary
	err := c.Report(ctx, listing, form, func(r io.Reader) error {
		var err error
		list, err = beyondtrust.ParseListing(r)
		return err
	})
	if err != nil {
		return err
	}
	slices.SortFunc(list, func(a, b beyondtrust.SessionSummary) int { return cmp.Compare(a.LSID, b.LSID) })
	list = slices.CompactFunc(list, func(a, b beyondtrust.SessionSummary) bool { return a.LSID == b.LSID })
	start, _ := slices.BinarySearchFunc(list, p.Cursor, func(s beyondtrust.SessionSummary, key string) int {
		if s.LSID <= key {
			return -1
		}
		return 1
	})
	list = slices.DeleteFunc(list[start:], func(s beyondtrust.SessionSummary) bool { return s.LSID == "" })
	more := len(list) > p.Limit
	list = list[:min(len(list), p.Limit)]
	lsids := make([]string, 0, len(list))
	for _, s := range list {
		lsids = append(lsids, s.LSID)
	}
	reports, err := c.Sessions(ctx, lsids)
	if err != nil {
		return err
	}
	byLSID := make(map[string]*beyondtrust.Session, len(reports))
	for _, s := range reports {
		byLSID[s.LSID] = s
	}
	items := make([]keyed, 0, len(list))
	for _, sum := range list {
		s := byLSID[sum.LSID]
		switch {
		case kind == KindSessions:
			items = append(items, keyed{sum.LSID, sessionItem(sum, s)})
		case s != nil && hasRecordings(s):
			items = append(items, keyed{sum.LSID, recordingItem(s)})
		}
	}
	if kind == KindSessions {
		return fill(page, items, p.Limit, more)
	}
	// Recordings: a page examines up to limit sessions and shows those
	// with a recording; the cursor names the last session examined.
	if err := fill(page, items, len(items), false); err != nil {
		return err
	}
	if more && len(page.Items) == len(items) {
		page.NextCursor = encodeCursor(list[len(list)-1].LSID)
	}
	return nil
}

// activities answers the team and vault activity queries: one report call
// for the window (start_time and duration in seconds, as VultureOS's
// collector asks, reference §5), items ordered by time, then document.
func activities(ctx context.Context, c Appliance, kind string, p Params, page *Page) error {
	report := "VaultAccountActivity"
	if kind == KindTeam {
		report = "SupportTeam"
		if c.Product() == beyondtrust.ProductPRA {
			report = "Team"
		}
	}
	form := url.Values{"start_time": {strconv.FormatInt(p.From.Unix(), 10)},
		"duration": {strconv.FormatInt(int64(p.To.Sub(p.From)/time.Second), 10)}}
	if p.TeamID != "" {
		form.Set("team_id", p.TeamID)
	}
	var recs []activity.Record
	err := c.Report(ctx, report, form, func(r io.Reader) error {
		var err error
		if kind == KindTeam {
			recs, err = activity.ParseTeam(r, report)
		} else {
			recs, err = activity.ParseVault(r)
		}
		return err
	})
	if err != nil {
		return err
	}
	items := make([]keyed, 0, len(recs))
	for _, r := range recs {
		// Zero-padded seconds sort as text; a record without a time sorts first.
		key := fmt.Sprintf("%012d|%s", max(r.At.Unix(), 0), r.Key)
		if p.Cursor != "" && key <= p.Cursor {
			continue
		}
		items = append(items, keyed{key, r.Doc})
	}
	slices.SortFunc(items, func(a, b keyed) int { return cmp.Compare(a.key, b.key) })
	return fill(page, items, p.Limit, false)
}
