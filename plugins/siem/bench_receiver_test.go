package siem

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"switchboard/engine/rusage"
	"switchboard/plugins/siem/siemtest"
)

// benchReceiverEnv makes the test binary serve one siemtest receiver
// instead of running tests: the benchmark runs the receiver in a child
// process so that its CPU time is counted apart from the plugin's.
const benchReceiverEnv = "SIEM_BENCH_RECEIVER"

func TestMain(m *testing.M) {
	if kind := os.Getenv(benchReceiverEnv); kind != "" {
		os.Exit(serveBenchReceiver(kind))
	}
	os.Exit(m.Run())
}

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
	in   io.WriteCloser
	out  *bufio.Scanner
}

// startChildReceiver runs the test binary as a receiver of kind ("hec",
// "syslog-tcp") until the benchmark ends.
func startChildReceiver(b *testing.B, kind string) *childReceiver {
	b.Helper()
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), benchReceiverEnv+"="+kind)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		in.Close()
		_ = cmd.Wait()
	})
	c := &childReceiver{in: in, out: bufio.NewScanner(out)}
	if !c.out.Scan() {
		b.Fatalf("the %s receiver did not start: %v", kind, c.out.Err())
	}
	c.addr = c.out.Text()
	return c
}

// wait returns, once the child holds want events (or gave up waiting),
// how many it holds and the CPU time it used since it started listening.
func (c *childReceiver) wait(want int) (int, time.Duration, error) {
	if _, err := fmt.Fprintln(c.in, want); err != nil {
		return 0, 0, err
	}
	if !c.out.Scan() {
		return 0, 0, fmt.Errorf("the receiver ended: %v", c.out.Err())
	}
	var held int
	var cpu int64
	if _, err := fmt.Sscan(c.out.Text(), &held, &cpu); err != nil {
		return 0, 0, fmt.Errorf("receiver answered %q: %w", c.out.Text(), err)
	}
	return held, time.Duration(cpu), nil
}
