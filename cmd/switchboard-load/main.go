// Command switchboard-load measures the outbound-event intake of a real
// Switchboard process: it starts `switchboard serve` on a fresh SQLite
// database, posts form events over real HTTP, and reports acknowledged
// events per second, acknowledgement latency at a steady rate, and the
// engine's peak RSS. In the same run it measures a bare Go HTTP handler that
// answers 200 without storing anything, as the ceiling, and prints the ratio.
//
//	go build -o bin/ ./cmd/... && bin/switchboard-load -engine bin/switchboard
//	bin/switchboard-load -engine bin/switchboard -database postgres://postgres@127.0.0.1:5432/test -engines 3 -rate 300
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	engine := flag.String("engine", "bin/switchboard", "path of the switchboard binary to measure")
	workers := flag.Int("workers", 256, "concurrent connections for the throughput run")
	duration := flag.Duration("duration", 10*time.Second, "length of each run")
	rate := flag.Int("rate", 2000, "events per second for the steady-rate latency run")
	ceilingMode := flag.Bool("ceiling-server", false, "internal: serve the bare ceiling handler on -addr")
	addr := flag.String("addr", "127.0.0.1:0", "internal: listen address for -ceiling-server")
	peers := flag.String("peers", "", "path of the bench/peers binary: compare Switchboard with goqite, River, gorm and the bare handler")
	rounds := flag.Int("rounds", 3, "interleaved rounds of the -peers comparison")
	durability := flag.String("durability", "power", "durability of every store in the -peers comparison: power or process")
	database := flag.String("database", "", "a postgres:// URL: measure SQLite, then 1 to -engines engines sharing a fresh schema on that server (routed posts)")
	engines := flag.Int("engines", 3, "with -database: the most engines to measure")
	routed := flag.Bool("routed", false, "post events a configuration subscribes to (an event and a delivery per post, delivered to a local webhook sink), not unrouted ones")
	steadyOnly := flag.Bool("steady-only", false, "measure only the steady rate, on a fresh engine (no throughput run before it, so no backlog of deliveries from it), and print its latency histogram")
	flag.Parse()
	if *routed {
		postEvent = routedEvent
	}
	if *ceilingMode {
		if err := serveCeiling(*addr); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if *database != "" {
		postEvent = routedEvent
		if err := runCluster(*engine, *database, *engines, *workers, *duration, *rate); err != nil {
			fmt.Fprintln(os.Stderr, "switchboard-load:", err)
			os.Exit(1)
		}
		return
	}
	if *peers != "" {
		if err := compare(*engine, *peers, *durability, *routed, *rounds, *workers, *rate, *duration); err != nil {
			fmt.Fprintln(os.Stderr, "switchboard-load:", err)
			os.Exit(1)
		}
		return
	}
	if *steadyOnly {
		if err := runSteady(*engine, *routed, *duration, *rate); err != nil {
			fmt.Fprintln(os.Stderr, "switchboard-load:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*engine, *routed, *workers, *duration, *rate); err != nil {
		fmt.Fprintln(os.Stderr, "switchboard-load:", err)
		os.Exit(1)
	}
}

// serveCeiling answers every post with 200 after reading the form, like the
// intake minus storing: the most an HTTP server on this machine can do.
func serveCeiling(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Println("listening", ln.Addr())
	return http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("event") == "" {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, "OK\n")
	}))
}

type target struct {
	name string
	url  string
	cmd  *exec.Cmd
	// sink receives the deliveries of a routed engine (nil otherwise).
	sink *sink
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startEngine starts an engine on a fresh directory, which the caller
// removes; on an error the engine is already stopped.
func startEngine(bin string, routed bool) (*target, string, error) {
	dir, err := os.MkdirTemp("", "switchboard-load-")
	if err != nil {
		return nil, "", err
	}
	t, dir, err := startEngineIn(bin, dir, "", routed, nil)
	if err != nil && t != nil {
		t.stop()
	}
	return t, dir, err
}

// startEngineIn starts `switchboard serve` on dir, at durability unless
// it is "" (then SWITCHBOARD_DURABILITY or the default decides), with env
// added to its environment; routed adds the configuration that routes the
// posts and its sink.
func startEngineIn(bin, dir, durability string, routed bool, env []string) (*target, string, error) {
	intakeAddr, err := freeAddr()
	if err != nil {
		return nil, dir, err
	}
	adminAddr, err := freeAddr()
	if err != nil {
		return nil, dir, err
	}
	cmd := exec.Command(bin, "serve", "--data-dir", dir, "--intake-addr", intakeAddr, "--admin-addr", adminAddr, "--log-level", "warn")
	cmd.Env = append(os.Environ(), "SWITCHBOARD_ADMIN_PASSWORD="+adminPassword)
	if durability != "" {
		cmd.Env = append(cmd.Env, "SWITCHBOARD_DURABILITY="+durability)
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, dir, fmt.Errorf("start %s: %w", bin, err)
	}
	t := &target{name: "switchboard", url: "http://" + intakeAddr, cmd: cmd}
	if err := waitHealthy(t.url + "/healthz"); err != nil || !routed {
		return t, dir, err
	}
	if t.sink, err = startSink(); err != nil {
		return t, dir, err
	}
	return t, dir, routeTo("http://"+adminAddr, t.sink)
}

func startCeiling() (*target, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-ceiling-server", "-addr", addr)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
		return nil, fmt.Errorf("ceiling server did not start: %w", err)
	}
	return &target{name: "bare handler", url: "http://" + addr, cmd: cmd}, nil
}

func waitHealthy(u string) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("engine did not become healthy within 20s")
}

func (t *target) stop() {
	if t.sink != nil {
		defer t.sink.close()
	}
	if t.cmd.Process != nil {
		_ = t.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = t.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = t.cmd.Process.Kill()
		}
	}
}

// peakRSS reads the process's high-water resident set size.
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

type result struct {
	acked, failed int64
	elapsed       time.Duration
	latencies     []time.Duration
	// For the steady rate, how long after its due time each post was
	// handed to the connections (the generator's own timing: its sleeps
	// and the CPU it gets) and then written (late − sched: waiting for a
	// free connection, all 128 busy with slower answers).
	sched, late []time.Duration
}

func (r result) perSecond() float64 { return float64(r.acked) / r.elapsed.Seconds() }

func (r result) percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	s := slices.Clone(r.latencies)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

var seq atomic.Int64

// postEvent is the event every post names: unrouted by default (the load
// tool's Appliance Id has no configuration), routedEvent with -routed.
var postEvent = unroutedEvent

// poster sends form posts over one keep-alive HTTP/1.1 connection. It
// writes each request in one call and reads the answer with a minimal
// parser: net/http's client costs several times the engine's own work per
// request, and on a 2-core machine it would take the CPU it is measuring.
type poster struct {
	addr string
	conn net.Conn
	r    *bufio.Reader
	buf  []byte
}

func newPoster(base string) (*poster, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	return &poster{addr: u.Host}, nil
}

func (p *poster) close() {
	if p.conn != nil {
		_ = p.conn.Close()
		p.conn = nil
	}
}

// post sends one event and returns how long the acknowledgement took.
func (p *poster) post() (time.Duration, error) {
	if p.conn == nil {
		c, err := net.Dial("tcp", p.addr)
		if err != nil {
			return 0, err
		}
		p.conn, p.r = c, bufio.NewReaderSize(c, 4096)
	}
	n := seq.Add(1)
	body := "event=" + postEvent + "&version=3&timestamp=" + strconv.FormatInt(time.Now().Unix(), 10) +
		"&lsid=load" + strconv.FormatInt(n, 16) + "&external_key=T20240101.0001&appliance_id=LoadTest"
	p.buf = append(p.buf[:0], "POST /ERSPost?appliance=LoadTest HTTP/1.1\r\nHost: "...)
	p.buf = append(p.buf, p.addr...)
	p.buf = append(p.buf, "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: "...)
	p.buf = strconv.AppendInt(p.buf, int64(len(body)), 10)
	p.buf = append(p.buf, "\r\n\r\n"...)
	p.buf = append(p.buf, body...)
	start := time.Now()
	if _, err := p.conn.Write(p.buf); err != nil {
		p.close()
		return 0, err
	}
	status, err := p.readResponse()
	if err != nil {
		p.close()
		return 0, err
	}
	if status != http.StatusOK {
		return 0, fmt.Errorf("status %d", status)
	}
	return time.Since(start), nil
}

// readResponse reads a status line, headers and a Content-Length body.
func (p *poster) readResponse() (int, error) {
	line, err := p.r.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	length := 0
	for {
		h, err := p.r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(h) <= 2 {
			break
		}
		if name, value, ok := strings.Cut(string(h), ":"); ok && strings.EqualFold(name, "Content-Length") {
			length, _ = strconv.Atoi(strings.TrimSpace(value))
		}
	}
	if _, err := p.r.Discard(length); err != nil {
		return 0, err
	}
	return status, nil
}

// throughput posts as fast as workers connections allow for d, the
// connections spread over the engines at bases in turn.
func throughput(bases []string, workers int, d time.Duration) result {
	var acked, failed atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			p, err := newPoster(bases[w%len(bases)])
			if err != nil {
				failed.Add(1)
				return
			}
			defer p.close()
			var local []time.Duration
			for ctx.Err() == nil {
				l, err := p.post()
				if err != nil {
					failed.Add(1)
					continue
				}
				acked.Add(1)
				local = append(local, l)
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return result{acked: acked.Load(), failed: failed.Load(), elapsed: time.Since(start), latencies: lat}
}

// steady posts at a fixed rate (open loop: a slow answer does not delay
// the next send; a pool of connections carries the posts) and records each
// acknowledgement's latency, measured from when the post was due. The
// connections are spread over the engines at bases in turn.
func steady(bases []string, rate int, d time.Duration) result {
	interval := time.Second / time.Duration(rate)
	total := int(d / interval)
	var acked, failed atomic.Int64
	lat, sched, late := make([]time.Duration, total), make([]time.Duration, total), make([]time.Duration, total)
	due := make(chan int, total)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range 128 {
		wg.Go(func() {
			p, err := newPoster(bases[w%len(bases)])
			if err != nil {
				return
			}
			defer p.close()
			for i := range due {
				late[i] = time.Since(start.Add(time.Duration(i) * interval))
				_, err := p.post()
				if err != nil {
					failed.Add(1)
					continue
				}
				acked.Add(1)
				lat[i] = time.Since(start.Add(time.Duration(i) * interval))
			}
		})
	}
	for i := range total {
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		sched[i] = time.Since(start.Add(time.Duration(i) * interval))
		due <- i
	}
	close(due)
	wg.Wait()
	var ok []time.Duration
	for _, l := range lat {
		if l > 0 {
			ok = append(ok, l)
		}
	}
	return result{acked: acked.Load(), failed: failed.Load(), elapsed: time.Since(start), latencies: ok, sched: sched, late: late}
}

func run(bin string, routed bool, workers int, d time.Duration, rate int) error {
	host, _ := os.Hostname()
	cpus, _ := os.ReadFile("/proc/cpuinfo")
	fmt.Printf("switchboard-load on %s (%d logical CPUs), %d workers, %s per run\n", host, strings.Count(string(cpus), "processor\t:"), workers, d)

	eng, dir, err := startEngine(bin, routed)
	if dir != "" {
		defer os.RemoveAll(dir)
	}
	if err != nil {
		return err
	}
	tp := throughput([]string{eng.url}, workers, d)
	st := steady([]string{eng.url}, rate, d)
	rss, rssErr := peakRSS(eng.cmd.Process.Pid)
	delivered := eng.delivered()
	eng.stop()

	ceil, err := startCeiling()
	if err != nil {
		return err
	}
	ctp := throughput([]string{ceil.url}, workers, d)
	ceil.stop()

	fmt.Printf("\nthroughput (%d concurrent posters):\n", workers)
	fmt.Printf("  switchboard:  %8.0f acknowledged events/s  (%d acked, %d failed)  p50 %v  p99 %v\n", tp.perSecond(), tp.acked, tp.failed, tp.percentile(0.50), tp.percentile(0.99))
	fmt.Printf("  bare handler: %8.0f answered posts/s       (%d answered)             p50 %v  p99 %v\n", ctp.perSecond(), ctp.acked, ctp.percentile(0.50), ctp.percentile(0.99))
	fmt.Printf("  ratio:        %8.1f %% of the ceiling\n", 100*tp.perSecond()/ctp.perSecond())
	fmt.Printf("\nsteady %d events/s for %s:\n", rate, d)
	fmt.Printf("  acknowledged %d, failed %d, p50 %v, p99 %v, max %v\n", st.acked, st.failed, st.percentile(0.50), st.percentile(0.99), st.percentile(1))
	if routed {
		fmt.Printf("\nrouted: %d of %d acknowledged events delivered to the webhook sink by the end of the runs\n", delivered, tp.acked+st.acked)
	}
	if rssErr != nil {
		fmt.Printf("\npeak RSS of the engine: unknown (%v)\n", rssErr)
	} else {
		fmt.Printf("\npeak RSS of the engine: %.1f MiB\n", float64(rss)/(1<<20))
	}
	if tp.failed+st.failed > 0 {
		return fmt.Errorf("%d posts were not acknowledged", tp.failed+st.failed)
	}
	return nil
}
