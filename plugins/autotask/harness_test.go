package autotask

import (
	"context"
	"flag"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/render"
	"switchboard/plugins/autotask/autotasktest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// sessionStart is the simulated appliance's clock at the start of every
// scripted session, so reports and time entries are reproducible.
var sessionStart = time.Date(2024, 3, 5, 14, 0, 0, 0, time.UTC)

// harness wires the plugin to both simulators over real HTTP.
type harness struct {
	t      testing.TB
	app    *bttest.Appliance
	btc    *bt.Client
	sim    *autotasktest.Server
	plugin *Plugin
	tpl    engine.Templates
	links  *memLinks
	set    *Settings
}

func newHarness(t testing.TB, opts autotasktest.Options, appOpts ...bttest.Option) *harness {
	t.Helper()
	app := bttest.New(append([]bttest.Option{bttest.WithClock(func() time.Time { return sessionStart })}, appOpts...)...)
	t.Cleanup(app.Close)
	sim := autotasktest.New(opts)
	t.Cleanup(sim.Close)
	r, err := render.New(render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := New()
	p.ZoneInformationURL = sim.ZoneInformationURL()
	set := NewSettings()
	set.Username = autotasktest.DefaultUsername
	set.Password = engine.NewSecret(autotasktest.DefaultSecret)
	set.IntegrationCode = engine.NewSecret(autotasktest.DefaultIntegrationCode)
	// Generous: parallel tests under -race on two cores are slow, and a
	// timeout here would test nothing of the plugin.
	btOpts := app.Options()
	btOpts.Timeout = 30 * time.Second
	return &harness{
		t: t, app: app, btc: bt.NewClient(btOpts, nil), sim: sim, plugin: p,
		tpl: r.Set(""), links: &memLinks{m: map[string]string{}}, set: set,
	}
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
		ConfigID: 7, ConfigName: "Contoso", Settings: h.set, Client: h.btc, Templates: h.tpl,
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

// goldenLSID is the session id of scripted sessions, so golden notes match.
const goldenLSID = "5e55104c0ffee0000000000000000001"

// ended scripts a finished session with an issue submission, a chat and a
// note, tied to a ticket by its external key.
func (h *harness) ended(externalKey string) *bttest.LiveSession {
	return h.app.Begin(bttest.SessionSpec{
		LSID:        goldenLSID,
		ExternalKey: externalKey,
		Customer:    &bttest.Customer{Name: "Jane Doe", Username: "jdoe", Hostname: "CONTOSO-PC7", OS: "Windows 11", Company: "Contoso", Issue: "Printer", Details: "The printer on floor 2 is offline."},
		Rep:         bttest.Rep{ID: "3", Username: "alice", DisplayName: "Alice Tech"},
		Custom:      []bt.CustomAttribute{{CodeName: "customer_email", DisplayName: "Customer e-mail", Value: "jane.doe@contoso.example"}},
	}).After(2*time.Minute).Chat("Jane Doe", "Hi, my printer is offline.").
		After(time.Minute).Chat("Alice Tech", "Restarting the spooler now.").
		After(20*time.Minute).Note("Alice Tech", "Spooler restarted; test page printed.").
		After(time.Minute).End()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (run go test -update after checking):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// memLinks is the link table in memory: the store's job, kept out of these
// tests so that they exercise the plugin alone.
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

// prefetched serves sessions fetched from the appliance simulator
// beforehand, for tests and benchmarks about the Autotask side alone.
type prefetched map[string]*bt.Session

func (p prefetched) Session(_ context.Context, lsid string) (*bt.Session, error) { return p[lsid], nil }

func (p prefetched) SetSessionAttributes(context.Context, string, *string, map[string]string) error {
	return nil
}

// prefetch fetches the jobs' sessions one after another.
func (h *harness) prefetch(jobs []*engine.Job) prefetched {
	h.t.Helper()
	out := prefetched{}
	for _, j := range jobs {
		s, err := h.btc.Session(context.Background(), j.Event.LSID)
		if err != nil {
			h.t.Fatal(err)
		}
		out[j.Event.LSID] = s
	}
	return out
}
