package dispatch

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/rusage"
	"switchboard/engine/store"
	"switchboard/engine/storetest"
)

// BenchmarkSequentialRouted is an appliance posting one routed event at a
// time, each after the previous 200, to the intake on a real SQLite file,
// with the dispatcher delivering each to a plugin that returns at once: a
// post's commit, its delivery claimed at insert, and the finish. "alone"
// writes each finish in a transaction of its own (FinishWait < 0); "ride"
// lets it ride on the next post's commit. write-tx/post counts the store's
// write transactions, each one sync at power durability.
func BenchmarkSequentialRouted(b *testing.B) {
	for _, d := range []store.Durability{store.DurabilityPower, store.DurabilityProcess} {
		for _, mode := range []struct {
			name string
			wait time.Duration
		}{{"alone", -1}, {"ride", 0}} {
			b.Run(fmt.Sprintf("%s/%s", d, mode.name), func(b *testing.B) {
				done := make(chan struct{}, 1)
				p := &testPlugin{id: "test", concurrency: 8, handle: func(context.Context, *engine.Job) error {
					select {
					case done <- struct{}{}:
					default:
					}
					return nil
				}}
				st := storetest.OpenWith(b, store.Options{Durability: d, FinishWait: mode.wait})
				r := newRigOn(b, st, p, nil, func(o *Options) { o.MaintenanceInterval = time.Hour })
				r.run(b)
				u := intakeFor(b, r)
				postEvent(b, u, "warm", 0)
				<-done
				lat := make([]time.Duration, 0, b.N)
				b.ResetTimer()
				writes, cpu := st.WriteTransactions(), rusage.CPU()
				for i := range b.N {
					start := time.Now()
					postEvent(b, u, fmt.Sprint("s", i), i+1)
					lat = append(lat, time.Since(start))
				}
				b.StopTimer()
				b.ReportMetric(float64(st.WriteTransactions()-writes)/float64(b.N), "write-tx/post")
				b.ReportMetric(float64(rusage.CPU()-cpu)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			})
		}
	}
}
