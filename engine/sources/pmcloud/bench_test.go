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
	records := 0
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		st := storetest.Open(b)
		cfg := storetest.Config(b, st, "siem", "Default")
		set := NewSettings()
		set.Name, set.ServicesURL, set.ClientID, set.ClientSecret = "tenant", sim.ServicesURL(), clientID, engine.NewSecret(secret)
		set.FirstFetch = 120
		c, err := NewClient(set.ServicesURL, clientID, secret, ClientOptions{HTTP: sim.Client()})
		if err != nil {
			b.Fatal(err)
		}
		p := &Poller{Store: st, Owner: "bench"}
		tgt := Target{Settings: set, Client: c, EnabledAt: now, Deliveries: []store.NewDelivery{{ConfigID: cfg, Plugin: "siem", MaxAttempts: 5}}}
		b.StartTimer()
		cyc, err := p.Poll(context.Background(), tgt)
		if err != nil || cyc.New != DefaultMaxPerCycle {
			b.Fatalf("%+v %v", cyc, err)
		}
		records += cyc.New
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}
