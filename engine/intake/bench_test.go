package intake

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"switchboard/engine/rusage"
	"switchboard/engine/store"
)

// BenchmarkIntakeRouted posts form events over real HTTP to the intake on a
// real SQLite file, each routed to one configuration (an event row and a
// delivery row per post), from many goroutines at once: the group commit's
// throughput. Compare with BenchmarkBareHandler, the ceiling.
func BenchmarkIntakeRouted(b *testing.B) {
	f := newFixture(b, 0)
	benchPosts(b, f.srv.URL+Path+"?appliance=Default")
}

// BenchmarkBareHandler is an HTTP handler that parses the form and answers
// 200 without storing anything.
func BenchmarkBareHandler(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	benchPosts(b, srv.URL+Path)
}

func benchPosts(b *testing.B, target string) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	var seq atomic.Int64
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			resp, err := client.PostForm(target, url.Values{
				"event": {"support_conference_end"}, "version": {"3"}, "timestamp": {"1733240467"},
				"lsid": {fmt.Sprintf("bench%012d", n)}, "external_key": {"T20240101.0001"},
			})
			if err != nil {
				b.Error(err)
				return
			}
			// Read to the end, or the connection is not reused.
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkIntakeSequential posts one event at a time over one keep-alive
// connection, each after the previous 200, as one appliance does: the
// latency of a lone post, which no other post shares a commit with. The
// store syncs each commit (synchronous=FULL, the default durability) or
// leaves the sync to checkpoints (process), where what the intake itself
// costs per post shows.
func BenchmarkIntakeSequential(b *testing.B) {
	for _, d := range []store.Durability{store.DurabilityPower, store.DurabilityProcess} {
		b.Run(string(d), func(b *testing.B) {
			st, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "switchboard.db"), store.Options{Durability: d})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = st.Close() })
			benchSequential(b, newFixtureOn(b, st, 0))
		})
	}
}

func benchSequential(b *testing.B, f *fixture) {
	target := f.srv.URL + Path + "?appliance=Default"
	client := &http.Client{}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := rusage.CPU()
	for i := range b.N {
		start := time.Now()
		resp, err := client.PostForm(target, url.Values{
			"event": {"support_conference_end"}, "version": {"3"}, "timestamp": {"1733240467"},
			"lsid": {fmt.Sprintf("seq%012d", i)}, "external_key": {"T20240101.0001"},
		})
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
		lat = append(lat, time.Since(start))
	}
	b.ReportMetric(float64(rusage.CPU()-cpu)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
}

// BenchmarkPostHandler is the intake's own work per routed post, without
// HTTP and without the store: parsing and checking the form, the event row,
// the hand-off to the committer, the answer. The commit is a stub that
// answers at once, so allocations and CPU are the handler's alone.
func BenchmarkPostHandler(b *testing.B) {
	h := New(Options{Router: staticRouter{appliance: "LoadTest", deliveries: []store.NewDelivery{{ConfigID: 1, Plugin: "siem", MaxAttempts: 3}}}})
	h.commits.insert = func(_ context.Context, batch []*store.NewEvent) ([]store.Inserted, error) {
		out := make([]store.Inserted, len(batch))
		for i := range out {
			out[i] = store.Inserted{EventID: int64(i + 1), Deliveries: 1, Claimed: []store.Delivery{{}}}
		}
		return out, nil
	}
	e := echo.New()
	h.Register(e)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := rusage.CPU()
	for i := range b.N {
		body := "event=support_conference_member_added&version=3&timestamp=1733240467&lsid=load" +
			strconv.Itoa(i) + "&external_key=T20240101.0001&appliance_id=LoadTest"
		req := httptest.NewRequest(http.MethodPost, Path+"?appliance=LoadTest", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64(rusage.CPU()-cpu)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
}
