package pmcloud

import (
	"context"
	"fmt"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/sources/pmcloud/pmcloudtest"
	"switchboard/engine/store"
	"switchboard/engine/storetest"
)

// BenchmarkPollCycle measures one full cycle at the default cap: 6,000
// events read from the simulator over HTTPS in six pages, deduped and
// committed with the cursor into a fresh SQLite store, one delivery each.
func BenchmarkPollCycle(b *testing.B) {
	sim := pmcloudtest.New(clientID, secret)
	defer sim.Close()
	sim.RateLimit = -1
	now := time.Now()
	for i := range DefaultMaxPerCycle {
		if err := sim.Add(pmcloudtest.Event(fmt.Sprintf("evt-%06d", i), now.Add(-time.Hour).Add(time.Duration(i)*time.Millisecond*7))); err != nil {
			b.Fatal(err)
		}
	}
	benchPolls(b, sim, now, StreamEvents, (*Poller).Poll)
}

// BenchmarkPollAudits measures one first poll of the activity audits
// stream at the default cap: 6,000 audits of the last hour read over HTTPS
// in 30 pages of 200 (the window's first page says the total is within the
// cap, so the window is not halved), deduped by audit id and committed with
// the cursor into a fresh SQLite store, one delivery each.
func BenchmarkPollAudits(b *testing.B) {
	sim := pmcloudtest.New(clientID, secret)
	defer sim.Close()
	sim.RateLimit = -1
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	sim.Now = func() time.Time { return now }
	for i := range DefaultMaxPerCycle {
		if err := sim.AddAudits(pmcloudtest.Audit(int64(48000+i), now.Add(-50*time.Minute).Add(time.Duration(i)*450*time.Millisecond))); err != nil {
			b.Fatal(err)
		}
	}
	benchPolls(b, sim, now, StreamAudits, (*Poller).PollAudits)
}

// benchPolls times poll of one stream, each time into a fresh store with
// a fresh client, and fails unless it stores DefaultMaxPerCycle records
// (the events stream reports the cap reached when it read that many; the
// audits stream must read its window whole, never halved). The CPU figure is the whole process's,
// simulator included.
func benchPolls(b *testing.B, sim *pmcloudtest.Server, now time.Time, stream string, poll func(*Poller, context.Context, Target) (Cycle, error)) {
	clock := func() time.Time { return now }
	storetest.BenchPolls(b, func() func() (int, error) {
		st := storetest.Open(b)
		cfg := storetest.Config(b, st, "siem", "Default")
		set := NewSettings()
		set.Name, set.ServicesURL, set.ClientID, set.ClientSecret = "tenant", sim.ServicesURL(), clientID, engine.NewSecret(secret)
		if stream == StreamEvents {
			set.FirstFetch = 120
		}
		set.Streams = []string{stream}
		c, err := NewClient(set.ServicesURL, clientID, secret, ClientOptions{HTTP: sim.Client(), Now: clock})
		if err != nil {
			b.Fatal(err)
		}
		p := &Poller{Store: st, Owner: "bench", Now: clock}
		tgt := Target{Settings: set, Client: c, EnabledAt: now, Deliveries: []store.NewDelivery{{ConfigID: cfg, Plugin: "siem", MaxAttempts: 5}}}
		return func() (int, error) {
			cyc, err := poll(p, context.Background(), tgt)
			if err == nil && (cyc.New != DefaultMaxPerCycle || cyc.Capped && stream == StreamAudits) {
				err = fmt.Errorf("stored %d, capped %v, want %d whole", cyc.New, cyc.Capped, DefaultMaxPerCycle)
			}
			return cyc.New, err
		}
	})
}
