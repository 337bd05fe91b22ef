package intake

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
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
