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
	Settings []*Settings
	Clients  *Clients
	Now      func() time.Time
}

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
	out := make([]engine.SourceView, 0, len(c.Settings))
	for _, s := range c.Settings {
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
		out = append(out, engine.SourceView{Name: s.Name, Kind: Source, Settings: v, Streams: v.Streams, StreamIDs: ids, DeliverTo: v.DeliverTo, Disabled: s.Disabled})
	}
	return out
}

// TestSource gets a token with the source's account, then reads one
// record of each stream it reads: events from the last hour, audits of
// the last day. Nothing is stored and no cursor moves. The requests spend
// the tenant's shared budget.
func (c *Catalog) TestSource(ctx context.Context, name string) (engine.SourceTest, bool) {
	var set *Settings
	for _, s := range c.Settings {
		if s.Name == name {
			set = s
		}
	}
	if set == nil {
		return engine.SourceTest{}, false
	}
	ctx, cancel := context.WithTimeout(ctx, TestTimeout)
	defer cancel()
	out := engine.SourceTest{Source: name, OK: true}
	step := func(name, detail string, err error) bool {
		st := engine.SourceTestStep{Step: name, OK: err == nil, Detail: detail}
		if err != nil {
			st.Error, out.OK = err.Error(), false
		}
		out.Steps = append(out.Steps, st)
		return err == nil
	}
	client, err := c.Clients.Fresh(set)
	if !step("settings", "", err) {
		return out, true
	}
	if _, err := client.Token(ctx); !step("token", "an access token was issued", err) {
		return out, true
	}
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	if set.Reads(StreamEvents) {
		recs, err := client.Events(ctx, now.Add(-time.Hour), 1)
		step("events", fmt.Sprintf("Events/FromStartDate answered %d event(s) for the last hour (1 asked)", len(recs)), err)
	}
	if set.Reads(StreamAudits) {
		page, err := client.Audits(ctx, now.Add(-24*time.Hour), now, 1, 1)
		detail := fmt.Sprintf("ActivityAudits/Details answered %d audit(s) (1 asked)", len(page.Audits))
		if page.Total >= 0 {
			detail += fmt.Sprintf("; %d in the last day", page.Total)
		}
		step("audits", detail, err)
	}
	return out, true
}
