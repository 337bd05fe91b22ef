package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"switchboard/engine/rusage"
)

// runSteady measures the steady rate alone on a fresh engine: with no
// throughput run before it, a routed engine has no backlog of deliveries
// to work through, so the figure is the latency of the rate itself. It
// prints where the latencies fall, and the engine's peak RSS.
func runSteady(bin string, routed bool, d time.Duration, rate int) error {
	eng, dir, err := startEngine(bin, routed)
	if dir != "" {
		defer os.RemoveAll(dir)
	}
	if err != nil {
		return err
	}
	engBefore, selfBefore := processCPU(eng.cmd.Process.Pid), rusage.CPU()
	st := steady([]string{eng.url}, rate, d)
	engCPU, selfUsed := processCPU(eng.cmd.Process.Pid)-engBefore, rusage.CPU()-selfBefore
	rss, rssErr := peakRSS(eng.cmd.Process.Pid)
	delivered := eng.delivered()
	eng.stop()
	fmt.Printf("steady %d events/s for %s: acknowledged %d, failed %d, p50 %v, p90 %v, p99 %v, p99.9 %v, max %v\n",
		rate, d, st.acked, st.failed, st.percentile(0.50), st.percentile(0.90), st.percentile(0.99), st.percentile(0.999), st.percentile(1))
	fmt.Print(histogram(st.latencies))
	sched, late := result{latencies: st.sched}, result{latencies: st.late}
	fmt.Printf("the load generator's own timing: posts handed out after their due time p50 %v, p99 %v, max %v; written (a free connection found) p50 %v, p99 %v\n",
		sched.percentile(0.50), sched.percentile(0.99), sched.percentile(1), late.percentile(0.50), late.percentile(0.99))
	fmt.Printf("CPU during the run (2 cores = %v): engine %v, load generator %v\n",
		2*st.elapsed.Round(time.Millisecond), engCPU.Round(time.Millisecond), selfUsed.Round(time.Millisecond))
	if routed {
		fmt.Printf("routed: %d of %d acknowledged events delivered by the end\n", delivered, st.acked)
	}
	if rssErr == nil {
		fmt.Printf("peak RSS of the engine: %.1f MiB\n", float64(rss)/(1<<20))
	}
	if st.failed > 0 {
		return fmt.Errorf("%d posts were not acknowledged", st.failed)
	}
	return nil
}

// histogramBounds are the upper bounds of the latency histogram's buckets.
var histogramBounds = []time.Duration{
	500 * time.Microsecond, time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond,
	10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
	200 * time.Millisecond, 500 * time.Millisecond, time.Second,
}

// histogram counts latencies per bucket, one line per non-empty bucket.
func histogram(lat []time.Duration) string {
	counts := make([]int, len(histogramBounds)+1)
	for _, l := range lat {
		i := 0
		for i < len(histogramBounds) && l > histogramBounds[i] {
			i++
		}
		counts[i]++
	}
	var b strings.Builder
	lower := "0"
	for i, n := range counts {
		upper := "∞"
		if i < len(histogramBounds) {
			upper = histogramBounds[i].String()
		}
		if n > 0 {
			fmt.Fprintf(&b, "  %6s – %-6s %7d  %5.1f %%\n", lower, upper, n, 100*float64(n)/float64(len(lat)))
		}
		lower = upper
	}
	return b.String()
}

// processCPU is the user and system CPU time pid has used so far (0 when
// it cannot be read).
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	// The command name may hold spaces; the fields after it are fixed.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	// Clock ticks are 1/100 s on Linux.
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
