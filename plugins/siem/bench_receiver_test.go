package siem

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"switchboard/engine/helperproc"
	"switchboard/engine/rusage"
	"switchboard/plugins/siem/siemtest"
)

// benchReceiverEnv makes the test binary serve one siemtest receiver
// instead of running tests: the benchmark runs the receiver in a child
// process so that its CPU time is counted apart from the plugin's.
const benchReceiverEnv = "SIEM_BENCH_RECEIVER"

func TestMain(m *testing.M) { helperproc.Main(m, benchReceiverEnv, serveBenchReceiver) }

// serveBenchReceiver starts the receiver, prints its address, then
// answers each count read from stdin, once the receiver holds that many
// events or after 10 s, with "<held> <CPU nanoseconds since the address
// was printed>". It ends when stdin closes.
func serveBenchReceiver(kind string) int {
	var addr string
	var held func() int
	switch kind {
	case "hec":
		r, err := siemtest.NewHEC(siemtest.HECOptions{Token: hecToken})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer r.Close()
		addr, held = r.URL, r.Held
	case "syslog-tcp":
		r, err := siemtest.NewSyslog(siemtest.SyslogOptions{Transport: TransportTCP})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer r.Close()
		addr, held = r.Addr, func() int { return len(r.Messages()) }
	default:
		fmt.Fprintf(os.Stderr, "%s: unknown receiver %q\n", benchReceiverEnv, kind)
		return 2
	}
	fmt.Println(addr)
	cpu0 := rusage.CPU()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		want, _ := strconv.Atoi(in.Text())
		for i := 0; i < 2000 && held() < want; i++ {
			time.Sleep(5 * time.Millisecond)
		}
		fmt.Println(held(), int64(rusage.CPU()-cpu0))
	}
	return 0
}

// childReceiver is a receiver served by a child process.
type childReceiver struct {
	addr string
	p    *helperproc.Process
}

// startChildReceiver runs the test binary as a receiver of kind ("hec",
// "syslog-tcp") until the benchmark ends.
func startChildReceiver(b *testing.B, kind string) *childReceiver {
	b.Helper()
	c := &childReceiver{p: helperproc.Start(b, benchReceiverEnv, kind)}
	addr, err := c.p.Line()
	if err != nil {
		b.Fatalf("the %s receiver did not start: %v", kind, err)
	}
	c.addr = addr
	return c
}

// wait returns, once the child holds want events (or gave up waiting),
// how many it holds and the CPU time it used since it started listening.
func (c *childReceiver) wait(want int) (int, time.Duration, error) {
	answer, err := c.p.Ask(strconv.Itoa(want))
	if err != nil {
		return 0, 0, err
	}
	var held int
	var cpu int64
	if _, err := fmt.Sscan(answer, &held, &cpu); err != nil {
		return 0, 0, fmt.Errorf("receiver answered %q: %w", answer, err)
	}
	return held, time.Duration(cpu), nil
}
