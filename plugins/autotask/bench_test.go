package autotask

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/connector"
	"switchboard/engine/rusage"
	"switchboard/plugins/autotask/autotasktest"
)

// BenchmarkSessionEnd measures session-end deliveries end to end at the
// plugin: fetch the session from the appliance simulator (TLS, OAuth),
// render the report, find the ticket, look for an earlier note, add the
// note, against zero-latency simulators, with as many deliveries in flight
// as the plugin asks the dispatcher for. It reports sessions/s, the p50 and
// p99 of one delivery, and the process's peak RSS.
func BenchmarkSessionEnd(b *testing.B) {
	for _, timeEntry := range []bool{false, true} {
		b.Run(fmt.Sprintf("time_entry=%t", timeEntry), func(b *testing.B) {
			benchSessionEnd(b, timeEntry)
		})
	}
}

// BenchmarkAutotaskWrites is the Autotask half of a session end alone: the
// sessions are fetched from the appliance simulator before the clock
// starts (the appliance client opens a TLS connection per call, as the
// vendor asks, which dominates the end-to-end figure on a loaded machine).
func BenchmarkAutotaskWrites(b *testing.B) {
	h := newHarness(b, autotasktest.Options{})
	jobs := benchJobs(b, h)
	runBench(b, h, jobs, h.prefetch(jobs))
}

func benchSessionEnd(b *testing.B, timeEntry bool) {
	h := newHarness(b, autotasktest.Options{})
	if timeEntry {
		h.set.UpdateTimeEntry = true
		h.set.TimeEntryDefaults = `{"defaultDomain": "msp.example", "roleName": "Technician", "summaryNotes": "Remote support"}`
	}
	runBench(b, h, benchJobs(b, h), nil)
}

// benchJobs scripts b.N ended sessions spread over 100 tickets, as a real
// tenant's would be.
func benchJobs(b *testing.B, h *harness) []*engine.Job {
	const tickets = 100
	numbers := make([]string, tickets)
	for i := range numbers {
		numbers[i] = fmt.Sprintf("T20240301.%04d", i+1)
		h.sim.Add("Tickets", map[string]any{"ticketNumber": numbers[i], "title": "Bench", "status": 1, "priority": 2, "companyID": autotasktest.CompanyContoso})
	}
	jobs := make([]*engine.Job, b.N)
	for i := range jobs {
		live := h.app.Begin(bttest.SessionSpec{
			ExternalKey: numbers[i%tickets],
			Customer:    &bttest.Customer{Name: "Jane Doe", Issue: "Printer", Details: "Offline"},
			Rep:         bttest.Rep{Username: "alice", DisplayName: "Alice Tech"},
		}).Chat("Jane Doe", "Hello").Chat("Alice Tech", "Looking at it now.").After(5 * time.Minute).End()
		jobs[i] = h.job(engine.EventSessionEnd, live, nil)
	}
	return jobs
}

// runBench runs jobs with as many in flight as the plugin asks for; app,
// when set, replaces the appliance client.
func runBench(b *testing.B, h *harness, jobs []*engine.Job, app connector.Appliance) {
	workers := h.plugin.Info().Concurrency
	latencies := make([]time.Duration, b.N)
	next := make(chan int)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t0 := time.Now()
				if err := deliver(h, jobs[i], app); err != nil {
					b.Error(err)
				}
				latencies[i] = time.Since(t0)
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(latencies)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "sessions/s")
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
	if peak, ok := rusage.PeakRSS(); ok {
		b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
	}
}

// deliver runs one delivery, through app instead of the job's appliance
// client when app is set.
func deliver(h *harness, job *engine.Job, app connector.Appliance) error {
	if app == nil {
		return h.plugin.Handle(context.Background(), job)
	}
	return h.plugin.handle(context.Background(), job, h.set, app)
}
