package pmcloud

import (
	"context"
	"fmt"
	"time"

	"switchboard/engine"
)

// TestTimeout bounds a source's Test.
const TestTimeout = 30 * time.Second

// Catalog lists and tests the configured PM Cloud sources.
type Catalog struct {
	// List returns the sources as configured now (sources file and admin UI).
	List    func() []*Settings
	Clients *Clients
	Now     func() time.Time
}

// Kind is the kind's id.
func (c *Catalog) Kind() string { return Source }

// Label is the kind's name in the admin UI.
func (c *Catalog) Label() string { return "PM Cloud" }

// NewSettings returns the defaults.
func (c *Catalog) NewSettings() engine.SourceSettings { return NewSettings() }

// SourceName names the source.
func (s *Settings) SourceName() string { return s.Name }

// SourceDisabled says whether the source is disabled.
func (s *Settings) SourceDisabled() bool { return s.Disabled }

// SetSource renames the source and enables or disables it.
func (s *Settings) SetSource(name string, disabled bool) { s.Name, s.Disabled = name, disabled }

// CursorIDs are the cursor ids of the events and the audits stream.
func (s *Settings) CursorIDs() []string { return []string{s.ID(), s.AuditsID()} }

// View is a source's settings as shown: the client secret only as set or not.
type View struct {
	Name            string   `json:"name"`
	ServicesURL     string   `json:"services_url"`
	ClientID        string   `json:"client_id"`
	ClientSecretSet bool     `json:"client_secret_set"`
	Streams         []string `json:"streams"`
	Interval        int      `json:"interval"`
	FirstFetch      int      `json:"first_fetch_minutes"`
	MaxPerCycle     int      `json:"max_per_cycle"`
	AuditOverlap    int      `json:"audit_overlap_minutes"`
	DeliverTo       []string `json:"deliver_to"`
	Disabled        bool     `json:"disabled"`
}

// Sources lists the configured sources.
func (c *Catalog) Sources() []engine.SourceView {
	list := c.List()
	out := make([]engine.SourceView, 0, len(list))
	for _, s := range list {
		v := View{
			Name: s.Name, ServicesURL: s.ServicesURL, ClientID: s.ClientID, ClientSecretSet: s.ClientSecret.IsSet(),
			Interval: s.Interval, FirstFetch: s.FirstFetch, MaxPerCycle: s.MaxPerCycle, AuditOverlap: s.AuditOverlap,
			DeliverTo: append([]string{}, s.DeliverTo...), Disabled: s.Disabled,
		}
		var ids []string
		for _, st := range []string{StreamEvents, StreamAudits} {
			if s.Reads(st) {
				v.Streams = append(v.Streams, st)
				ids = append(ids, map[string]string{StreamEvents: s.ID(), StreamAudits: s.AuditsID()}[st])
			}
		}
		out = append(out, engine.SourceView{Name: s.Name, Kind: Source, Origin: engine.SourceFromFile, Settings: v, Streams: v.Streams, StreamIDs: ids, DeliverTo: v.DeliverTo, Disabled: s.Disabled})
	}
	return out
}

// TestSource tests the source of that name (see Test).
func (c *Catalog) TestSource(ctx context.Context, name string) (engine.SourceTest, bool) {
	return engine.TestNamed(ctx, c.List(), name, c.Test)
}

// Test gets a token with the source's account, then reads one record of
// each stream it reads: events from the last hour, audits of the last day.
// Nothing is stored and no cursor moves. The requests spend the tenant's
// shared budget.
func (c *Catalog) Test(ctx context.Context, ss engine.SourceSettings) engine.SourceTest {
	set, ok := ss.(*Settings)
	if !ok {
		return engine.WrongKind(Source, ss)
	}
	ctx, cancel := context.WithTimeout(ctx, TestTimeout)
	defer cancel()
	out := engine.SourceTest{Source: set.Name, OK: true}
	client, err := c.Clients.Fresh(set)
	if !out.Step("settings", "the URL and account are usable", err) {
		return out
	}
	if _, err := client.Token(ctx); !out.Step("token", "an access token was issued", err) {
		return out
	}
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	if set.Reads(StreamEvents) {
		recs, err := client.Events(ctx, now.Add(-time.Hour), 1)
		out.Step("events", fmt.Sprintf("Events/FromStartDate answered %d event(s) for the last hour (1 asked)", len(recs)), err)
	}
	if set.Reads(StreamAudits) {
		page, err := client.Audits(ctx, now.Add(-24*time.Hour), now, 1, 1)
		detail := fmt.Sprintf("ActivityAudits/Details answered %d audit(s) (1 asked)", len(page.Audits))
		if page.Total >= 0 {
			detail += fmt.Sprintf("; %d in the last day", page.Total)
		}
		out.Step("audits", detail, err)
	}
	return out
}
