// Command switchboard-chaos is the crash harness: it runs `switchboard
// serve` as a child process on one data directory against the appliance and
// Autotask simulators (in this process), posts the outbound events of N
// support sessions the way an appliance does (in order, each retried until
// it gets a 200), SIGKILLs the engine K times at random moments and starts
// it again on the same data directory, then waits for everything to be
// delivered and checks that nothing was lost or written twice. With
// -database postgres://… it runs -engines engines (default 3) on a fresh
// schema of that server, the appliance posting to each in turn through a
// load balancer, and each kill hits one engine picked at random:
//
//   - every event that got a 200 is stored, once;
//   - the WAL stayed under its bound;
//   - every session has exactly one ticket, one report note and one time
//     entry in the simulated Autotask;
//   - no delivery is left unfinished or failed;
//   - PRAGMA integrity_check is ok after a clean shutdown (SQLite).
//
// It prints its figures and exits 1 if any check fails.
//
//	go build -o bin/ ./cmd/... && bin/switchboard-chaos -engine bin/switchboard -sessions 300 -kills 20 -autotask-5xx 0.2 -autotask-429 0.08 -autotask-timeout 0.02
//	bin/switchboard-chaos -engine bin/switchboard -database postgres://postgres@127.0.0.1:5432/test -engines 3
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"switchboard/plugins/autotask/autotasktest"
)

// options shape one harness run.
type options struct {
	engine string // the switchboard binary
	// database, when set, is a postgres:// URL: the run's engines share a
	// fresh schema on that server. Empty: one engine on SQLite.
	database string
	engines  int // how many engines share the database (1 on SQLite)
	sessions int
	kills    int
	// Kills come at random moments between minGap and maxGap after the
	// engine was started.
	minGap, maxGap time.Duration
	rate           float64 // sessions begun per second; 0 spreads them over the kills
	seed           uint64
	faults         autotasktest.RandomFaults
	walBound       int64
	drain          time.Duration // how long delivering may take after the last kill
	dataDir        string        // default: a temporary directory, removed unless keep
	keep           bool
	attempts       int // the configuration's Retry Attempt Limit; 0 keeps its default
	progress       io.Writer
}

func defaultOptions() options {
	return options{
		engine: "bin/switchboard", engines: 1, sessions: 60, kills: 5,
		minGap: time.Second, maxGap: 4 * time.Second, seed: 1,
		walBound: 64 << 20, drain: 10 * time.Minute, progress: io.Discard,
	}
}

func main() {
	o := defaultOptions()
	flag.StringVar(&o.engine, "engine", o.engine, "path of the switchboard binary")
	flag.StringVar(&o.database, "database", "", "a postgres:// URL: the engines share a fresh schema on that server (default: one engine on SQLite)")
	flag.IntVar(&o.engines, "engines", 0, "how many engines share -database, behind a round-robin load balancer (default 3 with -database, 1 on SQLite)")
	flag.IntVar(&o.sessions, "sessions", o.sessions, "support sessions to play")
	flag.IntVar(&o.kills, "kills", o.kills, "how many times to SIGKILL the engine")
	flag.DurationVar(&o.minGap, "min-gap", o.minGap, "shortest time between a start and the next kill")
	flag.DurationVar(&o.maxGap, "max-gap", o.maxGap, "longest time between a start and the next kill")
	flag.Float64Var(&o.rate, "rate", o.rate, "sessions begun per second (0: spread over the kills)")
	flag.Uint64Var(&o.seed, "seed", o.seed, "seed of the kill moments and the Autotask faults")
	flag.Float64Var(&o.faults.ServerError, "autotask-5xx", 0, "share of Autotask requests answered 500")
	flag.Float64Var(&o.faults.AfterWrite, "autotask-after-write", 0.5, "share of those 500s given after the request was carried out")
	flag.Float64Var(&o.faults.TooMany, "autotask-429", 0, "share of Autotask requests answered 429 (Retry-After: 1)")
	flag.Float64Var(&o.faults.Timeout, "autotask-timeout", 0, "share of Autotask requests carried out and then left unanswered for a minute")
	flag.Int64Var(&o.walBound, "wal-bound", o.walBound, "largest WAL file allowed, in bytes")
	flag.DurationVar(&o.drain, "drain", o.drain, "how long delivering everything may take after the last kill")
	flag.StringVar(&o.dataDir, "data-dir", "", "the engine's data directory (default: a temporary one)")
	flag.BoolVar(&o.keep, "keep", false, "keep the data directory (its engine.log holds every run's log)")
	flag.IntVar(&o.attempts, "attempts", 0, "the configuration's Retry Attempt Limit (0: its default)")
	flag.Parse()
	if o.engines == 0 {
		o.engines = 1
		if o.database != "" {
			o.engines = 3
		}
	}
	o.progress = os.Stderr

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := run(ctx, o)
	if r != nil {
		r.print(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "switchboard-chaos:", err)
		os.Exit(1)
	}
}
