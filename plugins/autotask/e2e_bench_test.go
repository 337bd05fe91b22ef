package autotask_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/rusage"
	"switchboard/engine/store"
	"switchboard/plugins/autotask/autotasktest"
)

// BenchmarkEngineSessionEnd measures session-end processing through the
// whole engine against zero-latency simulators: b.N ended sessions (50 chat
// lines each) are posted to the intake over HTTP; the dispatcher fetches
// each report from the appliance over TLS, renders it, adds the note to its
// ticket and a time entry. "burst" posts them all at once (8 posters) and
// measures throughput, from the first post to the last finished delivery;
// "paced" posts at a steady 100 sessions/s, below capacity, and measures
// the event-to-note latency a session sees (event stored → delivery
// finished, from the store's own timestamps), split into the wait before
// the attempt started (intake commit, wake-up, claim), the attempt itself
// and the recording of its outcome. Peak RSS is the process's; cpu-ms is
// the CPU time of the whole process (engine, simulators and posters) per
// session during the timed part. Each part's goroutines carry a profiler
// label, so a CPU profile splits by part:
//
//	go test ./plugins/autotask -run '^$' -bench EngineSessionEnd -benchtime 1000x -cpuprofile cpu.out
//	go tool pprof -tags cpu.out
//
// The "simulators-apart" rows run both simulators and the posters in a
// child process (this test binary again), so that cpu-ms/session is the
// engine's own CPU (and the benchmark's polling of the store) and
// simulators-cpu-ms/session the child's.
func BenchmarkEngineSessionEnd(b *testing.B) {
	b.Run("burst", func(b *testing.B) { benchEngine(b, 0, false) })
	b.Run("paced-100-per-s", func(b *testing.B) { benchEngine(b, 100, false) })
	b.Run("burst-simulators-apart", func(b *testing.B) { benchEngine(b, 0, true) })
	b.Run("paced-100-per-s-simulators-apart", func(b *testing.B) { benchEngine(b, 100, true) })
}

// seedSessions scripts n ended sessions (50 chat lines each) on app, each
// with its own ticket in sim, and returns their LSIDs and ticket numbers.
func seedSessions(app *bttest.Appliance, sim *autotasktest.Server, n int) (lsids []string, keys map[string]string) {
	lsids = make([]string, n)
	keys = make(map[string]string, n)
	for i := range n {
		// Each session has its own ticket, as at a help desk: notes of a
		// thousand sessions on one ticket would measure the simulator's
		// search of them instead.
		number := fmt.Sprintf("T20240201.%04d", i+1)
		sim.Add("Tickets", map[string]any{"ticketNumber": number, "title": "Printer offline", "status": 1, "priority": 2,
			"companyID": autotasktest.CompanyContoso, "contactID": autotasktest.ContactJane})
		l := app.Begin(bttest.SessionSpec{
			ExternalKey: number,
			Customer:    &bttest.Customer{Name: "Jane Doe", Company: "Contoso Ltd", Issue: "Printer offline", Details: "Since this morning."},
			Rep:         bttest.Rep{ID: "7", Username: "alice", DisplayName: "Alice Tech"},
		})
		for j := range 50 {
			who := "Alice Tech"
			if j%2 == 1 {
				who = "Jane Doe"
			}
			l.After(10*time.Second).Chat(who, fmt.Sprintf("Message %d about the printer queue & the <spooler>.", j))
		}
		l.End()
		lsids[i] = l.LSID()
		keys[l.LSID()] = number
	}
	return lsids, keys
}

// postAll posts the session-end event of every session in lsids to the
// intake at intakeURL from 8 posters, all at once (rate 0) or rate a
// second from start; failed is told of each post that got no answer.
func postAll(intakeURL string, lsids []string, keys map[string]string, rate int, start time.Time, failed func(error)) {
	target := intakeURL + "/ERSPost?appliance=" + engine.DefaultApplianceID
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	defer client.CloseIdleConnections()
	work := make(chan string)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for lsid := range work {
				resp, err := client.PostForm(target, url.Values{
					"event": {engine.EventSessionEnd}, "version": {"3"}, "lsid": {lsid},
					"timestamp": {strconv.FormatInt(time.Now().Unix(), 10)}, "external_key": {keys[lsid]},
				})
				if err != nil {
					failed(err)
					continue
				}
				resp.Body.Close()
			}
		})
	}
	for i, lsid := range lsids {
		if rate > 0 {
			time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))))
		}
		work <- lsid
	}
	close(work)
	wg.Wait()
}

func benchEngine(b *testing.B, rate int, apart bool) {
	var st *stack
	var sims *childSimulators
	if apart {
		sims = startChildSimulators(b, b.N)
		label(partEngine)
		st = &stack{srv: newEngine(b, sims.host, sims.roots, sims.restRoot, sims.user)}
	} else {
		st = newStack(b, false)
	}
	var lsids []string
	var keys map[string]string
	if !apart {
		lsids, keys = seedSessions(st.app, st.sim, b.N)
	}
	label(partLoad)
	defer pprof.SetGoroutineLabels(context.Background())
	b.ResetTimer()
	writes := st.srv.Store.WriteTransactions()
	var calls, conns int
	if !apart {
		calls = autotaskRequests(st.sim)
		conns = st.app.Connections().Opened
	}
	cpu := rusage.CPU()
	start := time.Now()
	if apart {
		if err := sims.post(st.srv.IntakeURL(), rate); err != nil {
			b.Fatal(err)
		}
	} else {
		postAll(st.srv.IntakeURL(), lsids, keys, rate, start, func(err error) { b.Error(err) })
	}
	ctx := context.Background()
	progress, progressed := -1, time.Now()
	for {
		stats, err := st.srv.Store.Stats(ctx, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		ended := stats.ByState[store.StateDone] + stats.ByState[store.StateFailed] + stats.ByState[store.StateSkipped]
		if ended != progress {
			progress, progressed = ended, time.Now()
		} else if time.Since(progressed) > time.Minute {
			b.Fatalf("no delivery ended for a minute: %v of %d", stats.ByState, b.N)
		}
		if ended >= b.N {
			if stats.ByState[store.StateDone] != b.N {
				b.Fatalf("deliveries: %v, want %d done", stats.ByState, b.N)
			}
			break
		}
		// Checking costs a query; every 25 ms keeps the observer's share
		// of the two cores small at the price of ≤25 ms on a multi-second run.
		time.Sleep(25 * time.Millisecond)
	}
	elapsed := time.Since(start)
	writes = st.srv.Store.WriteTransactions() - writes
	cpu = rusage.CPU() - cpu
	var simCPU time.Duration
	if apart {
		var err error
		if simCPU, calls, conns, err = sims.stats(); err != nil {
			b.Fatal(err)
		}
	} else {
		calls = autotaskRequests(st.sim) - calls
		conns = st.app.Connections().Opened - conns
	}
	b.StopTimer()

	var lat, wait, run, record []time.Duration
	var before int64
	for {
		ds, err := st.srv.Store.ListDeliveries(ctx, store.DeliveryFilter{Limit: 1000, BeforeID: before})
		if err != nil {
			b.Fatal(err)
		}
		if len(ds) == 0 {
			break
		}
		for _, d := range ds {
			ev, err := st.srv.Store.GetEvent(ctx, d.EventID)
			if err != nil {
				b.Fatal(err)
			}
			lat = append(lat, d.Finished().Sub(ev.Received()))
			as, err := st.srv.Store.Attempts(ctx, d.ID)
			if err != nil || len(as) == 0 {
				b.Fatalf("attempts of delivery %d: %v %v", d.ID, as, err)
			}
			first, last := as[0], as[len(as)-1]
			if last.Started().Before(first.Started()) {
				first, last = last, first
			}
			ended := last.Started().Add(time.Duration(last.DurationMS) * time.Millisecond)
			wait = append(wait, first.Started().Sub(ev.Received()))
			run = append(run, ended.Sub(first.Started()))
			record = append(record, d.Finished().Sub(ended))
			before = d.ID
		}
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "sessions/s")
	b.ReportMetric(quantile(lat, 50), "p50-ms")
	b.ReportMetric(quantile(lat, 99), "p99-ms")
	// Where the median session's time goes: waiting to be started,
	// running, and having its outcome recorded (millisecond timestamps).
	b.ReportMetric(quantile(wait, 50), "wait-p50-ms")
	b.ReportMetric(quantile(run, 50), "attempt-p50-ms")
	b.ReportMetric(quantile(record, 50), "finish-p50-ms")
	// With the simulators apart, this is the engine's own CPU and the
	// benchmark's polling of the store (labelled part=load generator in a
	// profile); the child's is reported apart.
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/session")
	if apart {
		b.ReportMetric(float64(simCPU.Microseconds())/1000/float64(b.N), "simulators-cpu-ms/session")
	}
	if peak, ok := rusage.PeakRSS(); ok {
		b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
	}
	// Write transactions begun by the engine, per session: the intake's
	// commits (shared by the posts of a batch), claims, checkpoints and
	// finishes. Each waits for the one writer and, at power durability,
	// for a sync.
	b.ReportMetric(float64(writes)/float64(b.N), "write-tx/session")
	b.ReportMetric(float64(calls)/float64(b.N), "autotask-calls/session")
	// Connections to the appliance, one per call (one TLS handshake each).
	b.ReportMetric(float64(conns)/float64(b.N), "appliance-conns/session")
}

// autotaskRequests is how many requests the Autotask simulator has had.
func autotaskRequests(sim *autotasktest.Server) int {
	n := 0
	for _, st := range sim.AllStats() {
		n += st.Requests
	}
	return n
}

// quantile is the q-th percentile of ds in milliseconds; it sorts ds.
func quantile(ds []time.Duration, q int) float64 {
	slices.Sort(ds)
	return float64(ds[len(ds)*q/100].Microseconds()) / 1000
}
