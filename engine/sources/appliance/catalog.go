package appliance

import (
	"context"
	"fmt"
	"time"

	"switchboard/engine"
)

// TestTimeout bounds a source's Test.
const TestTimeout = 60 * time.Second

// Catalog lists and tests the configured appliance activity sources.
type Catalog struct {
	// List returns the sources as configured now (sources file and admin UI).
	List    func() []*Settings
	Clients *Clients
	Now     func() time.Time
	// TempDir holds a Test's Syslog download while it is read.
	TempDir string
}

// View is a source's settings as shown: the client secret only as set or not.
type View struct {
	Name              string   `json:"name"`
	Host              string   `json:"host"`
	Product           string   `json:"product"`
	ClientID          string   `json:"client_id"`
	ClientSecretSet   bool     `json:"client_secret_set"`
	Streams           []string `json:"streams"`
	Interval          int      `json:"interval"`
	FirstFetch        int      `json:"first_fetch_minutes"`
	MaxPerCycle       int      `json:"max_per_cycle"`
	AllowInvalidCerts bool     `json:"allow_invalid_certs"`
	DeliverTo         []string `json:"deliver_to"`
	Disabled          bool     `json:"disabled"`
}

// Kind is the kind's id.
func (c *Catalog) Kind() string { return Source }

// Label is the kind's name in the admin UI.
func (c *Catalog) Label() string { return "Appliance activity" }

// NewSettings returns the defaults.
func (c *Catalog) NewSettings() engine.SourceSettings { return NewSettings() }

// SourceName names the source.
func (s *Settings) SourceName() string { return s.Name }

// SourceDisabled says whether the source is disabled.
func (s *Settings) SourceDisabled() bool { return s.Disabled }

// SetSource renames the source and enables or disables it.
func (s *Settings) SetSource(name string, disabled bool) { s.Name, s.Disabled = name, disabled }

// CursorIDs are the cursor ids of the Team, Vault and Syslog streams.
func (s *Settings) CursorIDs() []string {
	return []string{s.ID(StreamTeam), s.ID(StreamVault), s.ID(StreamSyslog)}
}

// Sources lists the configured sources.
func (c *Catalog) Sources() []engine.SourceView {
	list := c.List()
	out := make([]engine.SourceView, 0, len(list))
	for _, s := range list {
		v := View{
			Name: s.Name, Host: s.Host, Product: s.Product, ClientID: s.ClientID, ClientSecretSet: s.ClientSecret.IsSet(),
			Streams: s.Selected(), Interval: s.Interval, FirstFetch: s.FirstFetch, MaxPerCycle: s.MaxPerCycle,
			AllowInvalidCerts: s.AllowInvalidCerts, DeliverTo: append([]string{}, s.DeliverTo...), Disabled: s.Disabled,
		}
		ids := make([]string, 0, len(v.Streams))
		for _, st := range v.Streams {
			ids = append(ids, s.ID(st))
		}
		out = append(out, engine.SourceView{Name: s.Name, Kind: Source, Origin: engine.SourceFromFile, Settings: v,
			Streams: v.Streams, StreamIDs: ids, DeliverTo: v.DeliverTo, Disabled: s.Disabled})
	}
	return out
}

// TestSource tests the source of that name (see Test).
func (c *Catalog) TestSource(ctx context.Context, name string) (engine.SourceTest, bool) {
	return engine.TestNamed(ctx, c.List(), name, c.Test)
}

// Test gets a token with the source's API account (from the process's
// shared cache), then reads each stream once: Team and Vault for the last
// hour, Syslog's download. Nothing is stored and no cursor moves.
func (c *Catalog) Test(ctx context.Context, ss engine.SourceSettings) engine.SourceTest {
	set, ok := ss.(*Settings)
	if !ok {
		return engine.WrongKind(Source, ss)
	}
	ctx, cancel := context.WithTimeout(ctx, TestTimeout)
	defer cancel()
	out := engine.SourceTest{Source: set.Name, OK: true}
	var err error
	if msg := hostProblem(set.Host); msg != "" || set.Host == "" {
		err = fmt.Errorf("host %q: %s", set.Host, msg)
	}
	if !out.Step("settings", "the host name is usable", err) {
		return out
	}
	client := c.Clients.Fresh(set)
	if err := client.Token(ctx); !out.Step("token", "an access token was issued", err) {
		return out
	}
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	for _, stream := range set.Selected() {
		name := reportName(client.Product(), stream)
		if stream == StreamSyslog {
			recs, err := readReport(ctx, client, stream, time.Time{}, 0, 0, c.TempDir)
			out.Step(stream, fmt.Sprintf("%s answered an archive of %d message(s)", name, len(recs)), err)
			continue
		}
		recs, err := readReport(ctx, client, stream, now.Add(-time.Hour), time.Hour, 0, c.TempDir)
		out.Step(stream, fmt.Sprintf("%s answered %d record(s) for the last hour", name, len(recs)), err)
	}
	return out
}
