package beyondtrust_test

import (
	"testing"

	"switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/rusage"
)

// BenchmarkSessionFetch fetches one ended session's report at a time, as a
// session-end delivery does: a new TLS connection per call (the token is
// cached), the report parsed. cpu-µs/fetch is the process's CPU time per
// fetch, the simulated appliance's share included; "full" is every call a
// full handshake, "resumed" is a call resuming the client's TLS session.
//
//	go test ./engine/beyondtrust -run '^$' -bench SessionFetch -benchtime 2000x
func BenchmarkSessionFetch(b *testing.B) {
	for _, tc := range []struct {
		name   string
		resume bool
	}{{"full", false}, {"resumed", true}} {
		b.Run(tc.name, func(b *testing.B) {
			a := bttest.New()
			b.Cleanup(a.Close)
			lsid := script(a)
			c := beyondtrust.NewClient(a.Options(), nil)
			if !tc.resume {
				c.FullHandshakes()
			}
			if _, err := c.Session(b.Context(), lsid); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			cpu := rusage.CPU()
			for range b.N {
				if _, err := c.Session(b.Context(), lsid); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((rusage.CPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/fetch")
		})
	}
}
