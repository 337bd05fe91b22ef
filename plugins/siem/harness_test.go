package siem

import (
	"context"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
)

// harness wires the plugin to the appliance simulator over real HTTPS.
type harness struct {
	t      testing.TB
	app    *bttest.Appliance
	btc    *bt.Client
	plugin *Plugin
	now    time.Time
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	app := bttest.New(bttest.WithProduct(bt.ProductPRA))
	t.Cleanup(app.Close)
	opts := app.Options()
	opts.Timeout = 30 * time.Second
	h := &harness{t: t, app: app, btc: bt.NewClient(opts, nil), now: time.Date(2024, 12, 3, 16, 0, 0, 0, time.UTC)}
	h.plugin = New()
	h.plugin.Now = func() time.Time { return h.now }
	return h
}

// typical is a PRA session with a multi-line chat, a file upload and a
// shell command.
func (h *harness) typical(lsid string) *bt.Session {
	s := praSession(
		bt.SessionEvent{Type: "Session Start", Timestamp: t0},
		bt.SessionEvent{Type: "Conference Member Added", Timestamp: t0, PerformedBy: admin, Data: nv("user_id", "1")},
		bt.SessionEvent{Type: "Chat Message", Timestamp: t0.Add(time.Minute), PerformedBy: admin, Body: "first line\nsecond line"},
		bt.SessionEvent{Type: "File Upload", Timestamp: t0.Add(2 * time.Minute), PerformedBy: admin, Destination: customerActor, Data: nv("filename", `C:\tmp\tool.exe`, "filesize", "4096")},
		bt.SessionEvent{Type: "Remote Shell Event", Timestamp: t0.Add(3 * time.Minute), PerformedBy: system, Data: nv("text", "whoami")},
		bt.SessionEvent{Type: "Session End", Timestamp: t0.Add(15 * time.Minute)},
	)
	s.LSID = lsid
	h.app.AddSession(s)
	return s
}

// job is a session end delivery for one configuration.
func (h *harness) job(set *Settings, lsid string) *engine.Job {
	return &engine.Job{
		DeliveryID: 1, Attempt: 1, MaxAttempts: 5,
		Event:    engine.Event{ApplianceID: "Default", Name: engine.EventSessionEnd, Source: engine.SourceOutbound, LSID: lsid, Timestamp: t0, Fields: url.Values{}},
		ConfigID: 3, ConfigName: "SOC", Settings: set, Client: h.btc,
		Appliance:  engine.ApplianceSettings{ApplianceID: "Default", Host: "access.example.com", Product: bt.ProductPRA},
		Checkpoint: engine.NewCheckpoint(nil, nil), Log: slog.New(slog.DiscardHandler),
	}
}

func (h *harness) handle(job *engine.Job) (engine.Outcome, time.Duration, error) {
	h.t.Helper()
	err := h.plugin.Handle(context.Background(), job)
	out, after := engine.Classify(err)
	return out, after, err
}

func sleepBrief() { time.Sleep(10 * time.Millisecond) }
