package autotask_test

import (
	"bufio"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"switchboard/engine/helperproc"
	"switchboard/engine/rusage"
	"switchboard/plugins/autotask/autotasktest"
)

// simulatorsEnv makes the test binary serve BenchmarkEngineSessionEnd's
// two simulators and its posters instead of running tests, so that the
// benchmark counts their CPU apart from the engine's. Its value is the
// number of sessions to script and the Autotask API user, "n user".
const simulatorsEnv = "AUTOTASK_E2E_SIMULATORS"

// simulatorsHello is what the child prints once its simulators listen
// and its sessions are scripted.
type simulatorsHello struct {
	Host     string `json:"host"`      // the appliance, host:port
	Cert     []byte `json:"cert"`      // its certificate, DER
	RESTRoot string `json:"rest_root"` // the Autotask simulator
}

// serveSimulators runs the child: it prints the hello, then answers each
// line read from stdin — "post <intake URL> <rate>": posts every
// session's end to the intake and answers "posted <failed posts>";
// "stats": answers "<CPU ns> <Autotask requests> <appliance
// connections>", counted since the last post began. It ends when stdin
// closes.
func serveSimulators(spec string) int {
	var n int
	var user string
	if _, err := fmt.Sscan(spec, &n, &user); err != nil {
		fmt.Fprintf(os.Stderr, "%s=%q: %v\n", simulatorsEnv, spec, err)
		return 2
	}
	app := newApplianceSim()
	defer app.Close()
	sim := autotasktest.New(autotasktest.Options{Username: user})
	defer sim.Close()
	lsids, keys := seedSessions(app, sim, n)
	hello, _ := json.Marshal(simulatorsHello{Host: app.Host(), Cert: app.Certificate().Raw, RESTRoot: sim.RESTRoot()})
	fmt.Println(string(hello))
	var cpu0 time.Duration
	var calls0, conns0 int
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		switch {
		case len(f) == 3 && f[0] == "post":
			rate, _ := strconv.Atoi(f[2])
			cpu0, calls0, conns0 = rusage.CPU(), autotaskRequests(sim), app.Connections().Opened
			var failed atomic.Int64
			postAll(f[1], lsids, keys, rate, time.Now(), func(err error) {
				fmt.Fprintln(os.Stderr, err)
				failed.Add(1)
			})
			fmt.Println("posted", failed.Load())
		case len(f) == 1 && f[0] == "stats":
			fmt.Println(int64(rusage.CPU()-cpu0), autotaskRequests(sim)-calls0, app.Connections().Opened-conns0)
		default:
			fmt.Fprintf(os.Stderr, "%s: unknown command %q\n", simulatorsEnv, in.Text())
			return 2
		}
	}
	return 0
}

// childSimulators are the simulators and posters of a child process.
type childSimulators struct {
	host, restRoot, user string
	roots                *x509.CertPool
	p                    *helperproc.Process
}

// startChildSimulators runs the test binary as the simulators of n
// scripted sessions until the benchmark ends.
func startChildSimulators(b *testing.B, n int) *childSimulators {
	b.Helper()
	// Each stack its own Autotask user, as in newStack.
	user := fmt.Sprintf("api-user-%d@example.com", stacks.Add(1))
	c := &childSimulators{user: user, p: helperproc.Start(b, simulatorsEnv, fmt.Sprintf("%d %s", n, user))}
	line, err := c.p.Line()
	if err != nil {
		b.Fatalf("the simulators did not start: %v", err)
	}
	var hello simulatorsHello
	if err := json.Unmarshal([]byte(line), &hello); err != nil {
		b.Fatalf("the simulators said %q: %v", line, err)
	}
	cert, err := x509.ParseCertificate(hello.Cert)
	if err != nil {
		b.Fatal(err)
	}
	c.host, c.restRoot, c.roots = hello.Host, hello.RESTRoot, x509.NewCertPool()
	c.roots.AddCert(cert)
	return c
}

// post has the child post every session's end to the intake, all at once
// (rate 0) or rate a second, and returns once they are all answered.
func (c *childSimulators) post(intakeURL string, rate int) error {
	answer, err := c.p.Ask(fmt.Sprintf("post %s %d", intakeURL, rate))
	if err != nil {
		return err
	}
	var failed int
	if _, err := fmt.Sscanf(answer, "posted %d", &failed); err != nil || failed > 0 {
		return fmt.Errorf("the simulators answered %q (%v)", answer, err)
	}
	return nil
}

// stats is the child's CPU time, Autotask requests and appliance
// connections since the post began.
func (c *childSimulators) stats() (cpu time.Duration, calls, conns int, err error) {
	answer, err := c.p.Ask("stats")
	if err != nil {
		return 0, 0, 0, err
	}
	var ns int64
	if _, err := fmt.Sscan(answer, &ns, &calls, &conns); err != nil {
		return 0, 0, 0, fmt.Errorf("the simulators answered %q: %w", answer, err)
	}
	return time.Duration(ns), calls, conns, nil
}
