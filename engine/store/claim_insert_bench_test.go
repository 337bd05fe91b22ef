package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"switchboard/engine/rusage"
)

// BenchmarkInsertClaiming stores one routed event per transaction, as a
// lone post does, with its delivery claimed at insert or left pending: the
// difference is what the claim at insert costs inside the commit.
// Process durability, so that no fsync hides it; cpu-µs/op is the
// process's CPU.
func BenchmarkInsertClaiming(b *testing.B) {
	for _, claim := range []bool{false, true} {
		b.Run(map[bool]string{false: "pending", true: "claimed"}[claim], func(b *testing.B) {
			ctx := context.Background()
			st, err := Open(ctx, filepath.Join(b.TempDir(), "sb.db"), Options{Durability: DurabilityProcess})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = st.Close() })
			cfg := &Config{Plugin: "p", Name: "c", ApplianceID: "Default", Settings: "{}"}
			if err := st.CreateConfig(ctx, cfg, AuditEntry{Actor: "t", Action: "create", Summary: "s"}, nil); err != nil {
				b.Fatal(err)
			}
			ws := &slots{free: map[string]int{"p": b.N}}
			b.ReportAllocs()
			b.ResetTimer()
			cpu := rusage.CPU()
			for i := range b.N {
				var ic *InsertClaim
				if claim {
					ic = ws.claim("engine-a", time.Now())
				}
				ne := newEvent(fmt.Sprint("e", i), NewDelivery{ConfigID: cfg.ID, Plugin: "p", MaxAttempts: 3})
				if _, err := st.InsertEventsClaiming(ctx, []*NewEvent{ne}, ic); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rusage.CPU()-cpu)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
		})
	}
}
