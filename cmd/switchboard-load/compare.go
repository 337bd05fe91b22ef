package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"
)

// compareRound is what one target did in one round.
type compareRound struct {
	seq, conc, steady result
	rss               int64
}

// startPeer starts the bench/peers server of kind on a fresh SQLite file
// in dir.
func startPeer(bin, kind, dir, durability string) (*target, error) {
	cmd := exec.Command(bin, "-kind", kind, "-db", filepath.Join(dir, kind+".db"), "-durability", durability)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("peer %s did not start: %w", kind, err)
	}
	var addr string
	if _, err := fmt.Sscanf(line, "listening %s", &addr); err != nil {
		return nil, fmt.Errorf("peer %s: %q: %w", kind, line, err)
	}
	return &target{name: kind, url: "http://" + addr, cmd: cmd}, nil
}

// compare measures Switchboard, the peers of bench/peers and the bare
// handler with the same load generator, each started fresh in every round,
// the order rotating from round to round so that a slow minute of a shared
// machine does not fall on one target only.
func compare(engineBin, peersBin, durability string, routed bool, rounds, workers, rate int, d time.Duration) error {
	names := []string{"switchboard", "goqite", "river", "gorm", "bare"}
	got := map[string][]compareRound{}
	for r := range rounds {
		order := append(slices.Clone(names[r%len(names):]), names[:r%len(names)]...)
		for _, name := range order {
			dir, err := os.MkdirTemp("", "switchboard-compare-")
			if err != nil {
				return err
			}
			var t *target
			switch name {
			case "switchboard":
				t, _, err = startEngineIn(engineBin, dir, durability, routed, nil)
			case "bare":
				t, err = startCeiling()
			default:
				t, err = startPeer(peersBin, name, dir, durability)
			}
			if err != nil {
				if t != nil {
					t.stop()
				}
				os.RemoveAll(dir)
				return fmt.Errorf("%s: %w", name, err)
			}
			var cr compareRound
			cr.seq = throughput([]string{t.url}, 1, d)
			cr.conc = throughput([]string{t.url}, workers, d)
			cr.steady = steady([]string{t.url}, rate, d)
			cr.rss, _ = peakRSS(t.cmd.Process.Pid)
			t.stop()
			os.RemoveAll(dir)
			got[name] = append(got[name], cr)
			fmt.Printf("round %d %-11s  sequential %6.0f/s p50 %-9v  %d conns %6.0f/s  steady %d/s p99 %-9v  RSS %.1f MiB  (failed %d)\n",
				r+1, name, cr.seq.perSecond(), cr.seq.percentile(0.5).Round(time.Microsecond), workers, cr.conc.perSecond(),
				rate, cr.steady.percentile(0.99).Round(time.Microsecond), float64(cr.rss)/(1<<20), cr.seq.failed+cr.conc.failed+cr.steady.failed)
		}
	}
	what := "unrouted (an event row per post)"
	if routed {
		what = "routed (an event and a delivery row per post, delivered meanwhile to a local webhook sink)"
	}
	fmt.Printf("\nmedian of %d interleaved rounds, durability %s, %s per measurement, Switchboard's posts %s:\n", rounds, durability, d, what)
	fmt.Printf("| | %s |\n|---|", joinNames(names))
	for range names {
		fmt.Print("---|")
	}
	fmt.Println()
	row := func(label string, f func(compareRound) string) {
		fmt.Printf("| %s |", label)
		for _, n := range names {
			fmt.Printf(" %s |", medianBy(got[n], f))
		}
		fmt.Println()
	}
	row("acked events/s, one connection, sequential", func(c compareRound) string { return fmt.Sprintf("%08.0f", c.seq.perSecond()) })
	row("sequential p50", func(c compareRound) string { return fmt.Sprintf("%09.3f ms", ms(c.seq.percentile(0.5))) })
	row(fmt.Sprintf("acked events/s, %d connections", workers), func(c compareRound) string { return fmt.Sprintf("%08.0f", c.conc.perSecond()) })
	row(fmt.Sprintf("p99 at a steady %d/s", rate), func(c compareRound) string { return fmt.Sprintf("%09.2f ms", ms(c.steady.percentile(0.99))) })
	row("peak RSS", func(c compareRound) string { return fmt.Sprintf("%06.1f MiB", float64(c.rss)/(1<<20)) })
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func joinNames(names []string) string {
	s := ""
	for i, n := range names {
		if i > 0 {
			s += " | "
		}
		s += n
	}
	return s
}

// medianBy formats each round with f (zero-padded, so that the strings
// sort as the numbers do) and returns the median without the padding.
func medianBy(rs []compareRound, f func(compareRound) string) string {
	if len(rs) == 0 {
		return "–"
	}
	vals := make([]string, len(rs))
	for i, r := range rs {
		vals[i] = f(r)
	}
	slices.Sort(vals)
	m := vals[len(vals)/2]
	for len(m) > 1 && m[0] == '0' && m[1] != '.' {
		m = m[1:]
	}
	return m
}
