package connectwise_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/rusage"
	"switchboard/engine/store"
	"switchboard/plugins/connectwise/connectwisetest"
)

// BenchmarkEngineSessionEnd measures session end → report note + time
// entry through the whole engine against zero-latency simulators, as the
// Autotask benchmark of the same name does: b.N ended sessions (50 chat
// lines each, each on its own ticket) are posted to the intake by 8
// posters; "burst" measures throughput from the first post to the last
// finished delivery, "paced-100-per-s" the event-to-note latency below
// capacity. The plugin keeps its default 4 requests in flight per account.
//
//	go test ./plugins/connectwise -run '^$' -bench EngineSessionEnd -benchtime 1000x
func BenchmarkEngineSessionEnd(b *testing.B) {
	b.Run("burst", func(b *testing.B) { benchEngine(b, 0) })
	b.Run("paced-100-per-s", func(b *testing.B) { benchEngine(b, 100) })
}

func benchEngine(b *testing.B, rate int) {
	st := newStack(b, false, connectwisetest.Options{})
	lsids := make([]string, b.N)
	keys := make(map[string]string, b.N)
	for i := range b.N {
		id := st.cw.AddTicket(map[string]any{"summary": "Printer offline", "board": map[string]any{"id": connectwisetest.BoardHelpDesk},
			"status": map[string]any{"id": connectwisetest.StatusWorking}, "company": map[string]any{"id": connectwisetest.CompanyACME}})
		l := st.app.Begin(bttest.SessionSpec{
			ExternalKey: strconv.FormatInt(id, 10),
			Customer:    &bttest.Customer{Name: "Arnie Bellini", Company: "Acme Corp", Issue: "Printer offline", Details: "Since this morning."},
			Rep:         bttest.Rep{ID: "7", Username: "bob", DisplayName: "Bob Senior"},
		})
		for j := range 50 {
			who := "Bob Senior"
			if j%2 == 1 {
				who = "Arnie Bellini"
			}
			l.After(10*time.Second).Chat(who, fmt.Sprintf("Message %d about the printer queue & the <spooler>.", j))
		}
		l.End()
		lsids[i] = l.LSID()
		keys[l.LSID()] = strconv.FormatInt(id, 10)
	}
	target := st.srv.IntakeURL() + "/ERSPost?appliance=" + engine.DefaultApplianceID
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	work := make(chan string)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for lsid := range work {
				resp, err := client.PostForm(target, url.Values{
					"event": {engine.EventSessionEnd}, "version": {"3"}, "lsid": {lsid},
					"timestamp": {strconv.FormatInt(time.Now().Unix(), 10)}, "external_key": {keys[lsid]},
				})
				if err != nil {
					b.Error(err)
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
	ctx := context.Background()
	for {
		stats, err := st.srv.Store.Stats(ctx, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		if finished := stats.ByState[store.StateDone] + stats.ByState[store.StateFailed] + stats.ByState[store.StateSkipped]; finished >= b.N {
			if stats.ByState[store.StateDone] != b.N {
				b.Fatalf("deliveries: %v, want %d done", stats.ByState, b.N)
			}
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	lat := latencies(b, st)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "sessions/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	if peak, ok := rusage.PeakRSS(); ok {
		b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
	}
}

// latencies are the deliveries' event-stored → finished times, sorted.
func latencies(b *testing.B, st *stack) []time.Duration {
	ctx := context.Background()
	var lat []time.Duration
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
			before = d.ID
		}
	}
	slices.Sort(lat)
	return lat
}
