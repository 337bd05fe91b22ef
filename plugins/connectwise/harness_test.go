package connectwise

import (
	"context"
	"log/slog"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/render"
	"switchboard/plugins/connectwise/connectwisetest"
)

// sessionStart is the simulated appliance's clock at the start of every
// scripted session.
var sessionStart = time.Date(2024, 11, 28, 16, 2, 15, 0, time.UTC)

// harness wires the plugin to both simulators over real HTTP.
type harness struct {
	t      testing.TB
	app    *bttest.Appliance
	btc    *bt.Client
	sim    *connectwisetest.Server
	plugin *Plugin
	tpl    engine.Templates
	links  *memLinks
	set    *Settings
}

func newHarness(t testing.TB, opts connectwisetest.Options, appOpts ...bttest.Option) *harness {
	t.Helper()
	app := bttest.New(append([]bttest.Option{bttest.WithClock(func() time.Time { return sessionStart })}, appOpts...)...)
	t.Cleanup(app.Close)
	sim := connectwisetest.New(opts)
	t.Cleanup(sim.Close)
	r, err := render.New(render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	btOpts := app.Options()
	btOpts.Timeout = 30 * time.Second
	return &harness{
		t: t, app: app, btc: bt.NewClient(btOpts, nil), sim: sim, plugin: New(),
		tpl: r.Set(""), links: &memLinks{m: map[string]string{}}, set: simSettings(sim),
	}
}

// simSettings are settings that reach the simulator, with notes internal,
// time entries off and members by identifier.
func simSettings(sim *connectwisetest.Server) *Settings {
	s := NewSettings()
	s.Site = sim.URL
	s.CompanyID = connectwisetest.DefaultCompany
	s.PublicKey = connectwisetest.DefaultPublicKey
	s.PrivateKey = engine.NewSecret(connectwisetest.DefaultPrivateKey)
	s.ClientID = connectwisetest.DefaultClientID
	return s
}

// timeEntries turns time entries on with the simulator's names.
func timeEntries(s *Settings) {
	s.TimeEntry = true
	s.WorkType = connectwisetest.WorkTypeName
	s.WorkRole = connectwisetest.WorkRoleName
	s.BillableOption = "Billable"
	s.MemberTable = "alice = jdoe"
}

// autoTicket turns ticket creation on with the simulator's names.
func autoTicket(s *Settings) {
	s.AutoTicket = true
	s.AutoTicketWithoutKey = true
	s.Board = connectwisetest.BoardName
	s.Status = connectwisetest.StatusName
	s.Priority = connectwisetest.PriorityName
	s.Type = connectwisetest.TypeName
	s.Company = "FABRIKAM"
	s.Contact = "<<email|customer_email>>"
	s.DefaultContactID = connectwisetest.ContactDefault
}

// job builds a delivery of event for the session, with its own checkpoint.
func (h *harness) job(event string, s *bttest.LiveSession, fields url.Values) *engine.Job {
	snap, _ := h.app.Session(s.LSID())
	return &engine.Job{
		DeliveryID: 1, Attempt: 1, MaxAttempts: 5,
		Event: engine.Event{
			ApplianceID: "Default", Name: event, Source: engine.SourceOutbound, LSID: s.LSID(),
			ExternalKey: snap.ExternalKey, Timestamp: sessionStart, Fields: fields,
		},
		ConfigID: 7, ConfigName: "Acme", Settings: h.set, Client: h.btc, Templates: h.tpl,
		Checkpoint: engine.NewCheckpoint(nil, nil), Links: h.links,
		Log: slog.New(slog.DiscardHandler),
	}
}

// handle runs one delivery and returns the dispatcher's view of it.
func (h *harness) handle(job *engine.Job) (engine.Outcome, error) {
	h.t.Helper()
	err := h.plugin.Handle(context.Background(), job)
	out, _ := engine.Classify(err)
	return out, err
}

// ended scripts a finished 16-minute session tied to a ticket by its
// external key.
func (h *harness) ended(externalKey string) *bttest.LiveSession {
	return h.app.Begin(bttest.SessionSpec{
		ExternalKey: externalKey,
		Customer:    &bttest.Customer{Name: "Arnie Bellini", Hostname: "ACME-PC7", OS: "Windows 11", Company: "Acme Corp", Issue: "Printer", Details: "The printer on floor 2 is offline."},
		Rep:         bttest.Rep{ID: "3", Username: "alice", DisplayName: "Alice Tech"},
		Custom:      []bt.CustomAttribute{{CodeName: "customer_email", DisplayName: "Customer e-mail", Value: "arnie@acme.com"}},
	}).After(2*time.Minute).Chat("Arnie Bellini", "Hi, my printer is offline.").
		After(13*time.Minute).Note("Alice Tech", "Spooler restarted; test page printed.").
		After(time.Minute).End()
}

// repJoined is the posted form of a representative joining.
var repJoined = url.Values{"type": {"representative"}, "username": {"alice"}}

// memLinks is the link table in memory.
type memLinks struct {
	mu sync.Mutex
	m  map[string]string
}

func (l *memLinks) Link(_ context.Context, configID int64, lsid, kind string) (string, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	v, ok := l.m[strconv.FormatInt(configID, 10)+"|"+lsid+"|"+kind]
	return v, ok, nil
}

func (l *memLinks) SetLink(_ context.Context, configID int64, lsid, kind, value string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.m[strconv.FormatInt(configID, 10)+"|"+lsid+"|"+kind] = value
	return nil
}
