package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"switchboard/engine/rusage"
)

// BenchmarkTrimUnrouted is the intake's trim at the default cap: 10,000
// unrouted events kept among 100,000 routed ones, 64 unrouted events stored
// between two trims (as the intake does) and the trim timed. Each trim
// deletes the 64 oldest.
func BenchmarkTrimUnrouted(b *testing.B) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(b.TempDir(), "sb.db"), Options{Durability: DurabilityProcess})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	const maxEvents, maxBytes = 10000, 64 << 20
	n := 0
	add := func(count int, routing string) {
		var batch []*NewEvent
		for range count {
			n++
			e := newEvent(fmt.Sprint("e", n))
			e.Event.Routing = routing
			e.Event.Fields = "event=support_conference_end&version=3&timestamp=1733240467&lsid=load1&external_key=T20240101.0001"
			batch = append(batch, e)
			if len(batch) == 256 {
				if _, err := st.InsertEvents(ctx, batch, nil); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
		}
		if len(batch) > 0 {
			if _, err := st.InsertEvents(ctx, batch, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
	for range 10 {
		add(10000, Routed)
		add(1000, Unrouted)
	}
	var cpu time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		add(64, Unrouted)
		b.StartTimer()
		before := rusage.CPU()
		deleted, usage, err := st.TrimUnrouted(ctx, maxEvents, maxBytes)
		cpu += rusage.CPU() - before
		if err != nil || deleted != 64 || usage.Events != maxEvents {
			b.Fatalf("deleted %d, usage %+v, %v", deleted, usage, err)
		}
	}
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
}
