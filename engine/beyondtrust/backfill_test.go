package beyondtrust_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
)

// loadEnded stores n ended copies of the typical sample session, one a
// minute up to the appliance's now, and returns when the first one ended.
func loadEnded(tb testing.TB, a *bttest.Appliance, n int) time.Time {
	tb.Helper()
	data, err := os.ReadFile("../../testdata/sessions/rs_typical.xml")
	if err != nil {
		tb.Fatal(err)
	}
	ss, err := beyondtrust.ParseSessions(bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := ss[0]
	first := a.Now().Add(-time.Duration(n) * time.Minute)
	for i := range n {
		s := *tmpl // events and lists are shared: the simulator only reads them
		s.LSID = fmt.Sprintf("%032x", i+1)
		s.LSeq = int64(i + 1)
		s.EndTime = first.Add(time.Duration(i) * time.Minute)
		s.StartTime = s.EndTime.Add(-s.Duration)
		a.AddSession(&s)
	}
	return first
}

// backfill fetches every session that ended since from, in batches, and
// returns how many it read; nothing is kept, as a poller hands each batch
// on before fetching the next.
func backfill(ctx context.Context, c *beyondtrust.Client, from time.Time) (int, error) {
	list, err := c.EndedSince(ctx, from)
	if err != nil {
		return 0, err
	}
	const batch = 50
	read := 0
	for i := 0; i < len(list); i += batch {
		lsids := make([]string, 0, batch)
		for _, s := range list[i:min(i+batch, len(list))] {
			lsids = append(lsids, s.LSID)
		}
		ss, err := c.Sessions(ctx, lsids)
		if err != nil {
			return read, err
		}
		read += len(ss)
	}
	return read, nil
}

func TestBackfill(t *testing.T) {
	t.Parallel()
	a := newAppliance(t)
	from := loadEnded(t, a, 500)
	c := beyondtrust.NewClient(a.Options(), nil)
	n, err := backfill(t.Context(), c, from)
	if err != nil {
		t.Fatal(err)
	}
	if n != 500 || a.TokensIssued() != 1 {
		t.Errorf("read %d sessions with %d tokens, want 500 with 1", n, a.TokensIssued())
	}
}

// heapSampler records the largest live heap seen while it runs.
type heapSampler struct {
	peak atomic.Uint64
	stop chan struct{}
	done chan struct{}
}

func sampleHeap() *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(h.done)
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > h.peak.Load() {
				h.peak.Store(v)
			}
			select {
			case <-h.stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return h
}

func (h *heapSampler) Stop() uint64 {
	close(h.stop)
	<-h.done
	return h.peak.Load()
}

// BenchmarkBackfill10k reads 10,000 ended typical sessions from the
// simulator over HTTPS, in batches of 50, through one client. It reports
// the peak live heap of the whole process (simulator included) above the
// heap after loading, and fails if more than one token was minted.
func BenchmarkBackfill10k(b *testing.B) {
	a := bttest.New()
	defer a.Close()
	from := loadEnded(b, a, 10_000)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	b.ResetTimer()
	var peak uint64
	for b.Loop() {
		minted := a.TokensIssued()
		c := beyondtrust.NewClient(a.Options(), nil)
		h := sampleHeap()
		n, err := backfill(context.Background(), c, from)
		peak = max(peak, h.Stop())
		if err != nil || n != 10_000 {
			b.Fatalf("read %d sessions: %v", n, err)
		}
		if got := a.TokensIssued() - minted; got != 1 {
			b.Fatalf("%d tokens minted for one backfill, want 1", got)
		}
	}
	b.ReportMetric(float64(10_000*b.N)/b.Elapsed().Seconds(), "sessions/s")
	b.ReportMetric(float64(peak-min(peak, base))/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(base)/(1<<20), "base-heap-MB")
	if rss := peakRSS(); rss > 0 {
		b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MB")
	}
}

// peakRSS reads the process's peak resident set size (VmHWM) on Linux; 0
// elsewhere.
func peakRSS() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
