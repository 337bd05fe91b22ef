package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"switchboard/engine/store/pgtest"
)

// The cluster mode (-database postgres://…): in one run, one engine on
// SQLite, then 1, 2, … -engines engines sharing a fresh PostgreSQL schema
// each, every post routed (an event and a delivery to the webhook sink),
// the posting connections spread over the engines in turn as a load
// balancer would. Per setup it reports acknowledged events/s, the p99 of
// acknowledgements at a steady rate, and deliveries/s end to end: every
// acknowledged event delivered to the sink, from the first post to the
// last delivery.

// clusterRow is what one setup measured.
type clusterRow struct {
	name            string
	tp, st          result
	e2e             float64 // deliveries per second, first post to last delivery
	delivered, want int64
}

func runCluster(bin, database string, engines, workers int, d time.Duration, rate int) error {
	if engines < 1 {
		return errors.New("-engines must be at least 1")
	}
	fmt.Printf("switchboard-load cluster: SQLite, then 1–%d engines on PostgreSQL; %d workers, %s per run, steady %d events/s; load average %s\n",
		engines, workers, d, rate, loadAverage())
	var rows []clusterRow
	row, err := measureSetup(bin, "SQLite, 1 engine", "", 1, workers, d, rate)
	if err != nil {
		return err
	}
	rows = append(rows, row)
	for n := 1; n <= engines; n++ {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		dsn, drop, err := pgtest.NewSchema(ctx, database, "load_")
		cancel()
		if err != nil {
			return fmt.Errorf("-database: %w", err)
		}
		row, err := measureSetup(bin, fmt.Sprintf("PostgreSQL, %d engine(s)", n), dsn, n, workers, d, rate)
		if derr := drop(); derr != nil {
			fmt.Fprintln(os.Stderr, "switchboard-load:", derr)
		}
		if err != nil {
			return err
		}
		rows = append(rows, row)
	}
	fmt.Printf("\nload average at the end: %s\n\n", loadAverage())
	fmt.Println("| setup | acknowledged events/s | p99 at a steady rate | deliveries/s end to end | delivered |")
	fmt.Println("|---|---:|---:|---:|---:|")
	failed := int64(0)
	for _, r := range rows {
		fmt.Printf("| %s | %.0f | %v | %.0f | %d of %d |\n", r.name, r.tp.perSecond(), r.st.percentile(0.99).Round(time.Millisecond), r.e2e, r.delivered, r.want)
		failed += r.tp.failed + r.st.failed + r.want - r.delivered
	}
	if failed > 0 {
		return fmt.Errorf("%d posts were not acknowledged or not delivered", failed)
	}
	return nil
}

// measureSetup starts n engines (SQLite when dsn is empty), posts, waits
// for every delivery and stops them.
func measureSetup(bin, name, dsn string, n, workers int, d time.Duration, rate int) (clusterRow, error) {
	row := clusterRow{name: name}
	var env []string
	if dsn != "" {
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		env = []string{"SWITCHBOARD_DATABASE=" + dsn, "SWITCHBOARD_SECRET_KEY=" + base64.StdEncoding.EncodeToString(key)}
	}
	var engines []*target
	defer func() {
		for _, e := range engines {
			e.stop()
		}
	}()
	var bases []string
	for i := range n {
		dir, err := os.MkdirTemp("", "switchboard-load-")
		if err != nil {
			return row, err
		}
		defer os.RemoveAll(dir)
		// The first engine makes the routed configuration; the others
		// start once it exists.
		e, _, err := startEngineIn(bin, dir, "", i == 0, env)
		if e != nil {
			engines = append(engines, e)
		}
		if err != nil {
			return row, err
		}
		bases = append(bases, e.url)
	}
	start := time.Now()
	row.tp = throughput(bases, workers, d)
	row.st = steady(bases, rate, d)
	row.want = row.tp.acked + row.st.acked
	sink := engines[0]
	for deadline := time.Now().Add(5 * time.Minute); sink.delivered() < row.want && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	row.delivered = sink.delivered()
	row.e2e = float64(row.delivered) / time.Since(start).Seconds()
	fmt.Printf("%s: %.0f acknowledged/s, p99 %v at %d/s, %d of %d delivered, %.0f deliveries/s end to end\n",
		name, row.tp.perSecond(), row.st.percentile(0.99), rate, row.delivered, row.want, row.e2e)
	return row, nil
}

// loadAverage is the machine's 1, 5 and 15 minute load averages.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
