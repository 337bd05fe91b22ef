package storetest

import (
	"testing"
	"time"

	"switchboard/engine/rusage"
)

// BenchPolls runs b.N polls and reports the records they stored per second
// of wall time ("records/s") and per CPU second of the process
// ("records/cpu-s"; on a shared machine the wall clock says more about the
// neighbours than about the code), with allocations. setup prepares one
// poll (a fresh store, a client) untimed and returns it; only the poll is
// timed. A poll returns how many records it stored.
func BenchPolls(b *testing.B, setup func() (poll func() (int, error))) {
	b.Helper()
	b.ReportAllocs()
	records := 0
	var cpu time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		poll := setup()
		c0 := rusage.CPU()
		b.StartTimer()
		n, err := poll()
		b.StopTimer()
		cpu += rusage.CPU() - c0
		if err != nil {
			b.Fatal(err)
		}
		records += n
		b.StartTimer()
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(records)/cpu.Seconds(), "records/cpu-s")
}
