package query

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
)

// BenchmarkSessionsPage answers one page of 200 sessions (a listing call
// and four report calls of 50) from the simulator over HTTPS, each call on
// its own connection; docs/performance.md quotes it.
func BenchmarkSessionsPage(b *testing.B) {
	sim := bttest.New(bttest.WithProduct(beyondtrust.ProductPRA))
	defer sim.Close()
	now := sim.Now()
	for i := range 200 {
		sim.AddSession(&beyondtrust.Session{LSID: fmt.Sprintf("lsid%04d", i), Product: beyondtrust.ProductPRA, Type: "support",
			StartTime: now.Add(-2 * time.Hour), EndTime: now.Add(-time.Hour), Duration: time.Hour,
			PrimaryRep: beyondtrust.Person{GSNumber: "1", ID: "1", Name: "Admin"}})
	}
	c := beyondtrust.NewClient(sim.Options(), nil)
	p, err := ParseParams(KindSessions, url.Values{"from": {fmt.Sprint(now.Add(-3 * time.Hour).Unix())}, "limit": {"200"}}, now)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		page, err := Run(context.Background(), c, KindSessions, p)
		if err != nil || page.Count != 200 {
			b.Fatalf("%v %+v", err, page)
		}
	}
}
