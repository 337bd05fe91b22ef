// Package helperproc runs the test binary again as a helper process — a
// simulator or a receiver that a benchmark counts apart from the code it
// measures — and talks to it in lines on the helper's stdin and stdout.
// The helper is the same binary: its TestMain sees the variable Start sets
// and serves instead of running tests.
package helperproc

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"
)

// Main is the TestMain of a package with a helper: with env set, the
// binary is the helper — it runs serve with the variable's value and exits
// with its code —, else it runs the tests.
func Main(m *testing.M, env string, serve func(value string) int) {
	if v := os.Getenv(env); v != "" {
		os.Exit(serve(v))
	}
	os.Exit(m.Run())
}

// Process is a running helper process.
type Process struct {
	in  io.WriteCloser
	out *bufio.Scanner
}

// Start runs the test binary with the environment variable env set to
// value until tb ends; then its stdin is closed, which ends it, and Start's
// cleanup waits for it. The helper's stderr is the test's.
func Start(tb testing.TB, env, value string) *Process {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), env+"="+value)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		in.Close()
		_ = cmd.Wait()
	})
	return &Process{in: in, out: bufio.NewScanner(out)}
}

// Line reads the helper's next line.
func (p *Process) Line() (string, error) {
	if !p.out.Scan() {
		err := p.out.Err()
		if err == nil {
			err = io.EOF
		}
		return "", fmt.Errorf("the helper process ended: %w", err)
	}
	return p.out.Text(), nil
}

// Ask writes line to the helper and reads its answer's line.
func (p *Process) Ask(line string) (string, error) {
	if _, err := fmt.Fprintln(p.in, line); err != nil {
		return "", fmt.Errorf("write to the helper process: %w", err)
	}
	return p.Line()
}
