package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"switchboard/engine"
	"switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/plugins/autotask/autotasktest"
)

// The simulated appliance's API account.
const clientID = "switchboard-chaos"

func (o options) validate() error {
	switch {
	case o.engines < 1:
		return errors.New("-engines must be at least 1")
	case o.engines > 1 && o.database == "":
		return errors.New("several -engines need a shared -database postgres://…; SQLite serves one engine")
	case o.sessions < 1:
		return errors.New("-sessions must be at least 1")
	case o.kills < 0:
		return errors.New("-kills must not be negative")
	case o.minGap <= 0 || o.maxGap < o.minGap:
		return errors.New("-min-gap must be positive and at most -max-gap")
	case o.rate < 0:
		return errors.New("-rate must not be negative")
	}
	return o.faults.Validate()
}

// run plays one harness run and returns its report; the error says the run
// could not be made or a check failed.
func run(ctx context.Context, o options) (*report, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(o.engine); err != nil {
		return nil, fmt.Errorf("-engine: %w (build it with go build -o bin/ ./cmd/switchboard)", err)
	}
	dir := o.dataDir
	if dir == "" {
		d, err := os.MkdirTemp("", "switchboard-chaos-")
		if err != nil {
			return nil, err
		}
		dir = d
	}
	r := &report{opts: o, dataDir: dir, started: time.Now(), states: map[string]int{}}
	defer func() {
		if o.keep || len(r.problems) > 0 {
			return
		}
		if o.dataDir == "" {
			os.RemoveAll(dir)
		}
		if r.schema != nil {
			if err := r.schema.drop(); err != nil {
				fmt.Fprintf(o.progress, "drop schema %s: %v\n", r.schema.name, err)
			}
		}
	}()
	err := r.play(ctx, o, dir)
	r.elapsed = time.Since(r.started)
	if err != nil {
		r.problems = append(r.problems, err.Error())
	}
	if len(r.problems) > 0 {
		kept := ""
		if r.schema != nil {
			kept = ", schema " + r.schema.name + " kept"
		}
		return r, fmt.Errorf("%d checks failed (data directory and engine.log kept in %s%s)", len(r.problems), dir, kept)
	}
	return r, nil
}

func (r *report) play(ctx context.Context, o options, dir string) error {
	rng := mrand.New(mrand.NewPCG(o.seed, o.seed+1))
	secret := randomHex(16)
	appliance, err := bttest.Serve("127.0.0.1:0", bttest.WithAccount(bttest.Account{ClientID: clientID, ClientSecret: secret, Reporting: true, Command: "full"}))
	if err != nil {
		return err
	}
	defer appliance.Close()
	faults := o.faults
	faults.Seed = o.seed
	psa, err := autotasktest.StartWithFaults("127.0.0.1:0", autotasktest.Options{}, faults)
	if err != nil {
		return err
	}
	defer psa.Close()

	c, err := r.startCluster(ctx, o, dir)
	if c != nil {
		defer c.killAll()
	}
	if err != nil {
		return err
	}
	var wal *walWatch
	if c.schema == nil {
		wal = watchWAL(filepath.Join(dir, "switchboard.db"), 20*time.Millisecond)
		defer func() {
			if wal != nil {
				wal.peak()
			}
		}()
	}
	api := c.api()
	if err := api.createConfig(ctx, configFor(appliance.Host(), secret, psa.RESTRoot(), o.attempts)); err != nil {
		return err
	}
	if err := c.startOthers(ctx); err != nil {
		return err
	}
	intake, err := c.intakeURL()
	if err != nil {
		return err
	}
	sender := appliance.SendOutbound(intake+"/ERSPost?appliance="+engine.DefaultApplianceID,
		bttest.RetryInterval(100*time.Millisecond), bttest.RetryDuration(24*time.Hour),
		bttest.WithHTTPClient(&http.Client{Timeout: 10 * time.Second}))

	rate := o.rate
	if rate == 0 {
		// Spread the sessions over the kills, so that kills land while
		// events are being posted as well as while they are delivered.
		phase := time.Duration(o.kills) * ((o.minGap + o.maxGap) / 2)
		rate = float64(o.sessions) / max(phase.Seconds(), 1)
	}
	played := make(chan []string, 1)
	go func() { played <- playSessions(ctx, appliance, o.sessions, rate) }()

	// The kills: each at a random moment after the last restart, of an
	// engine picked at random, whatever it is doing (starting, taking
	// posts, delivering); the others keep running.
	for k := 0; k < o.kills && ctx.Err() == nil; k++ {
		startedAt := time.Now()
		gap := o.minGap + time.Duration(rng.Int64N(int64(o.maxGap-o.minGap)+1))
		if !sleep(ctx, gap) {
			break
		}
		i := rng.IntN(len(c.engines))
		eng := c.engines[i]
		fmt.Fprintf(o.progress, "kill %d/%d: engine %d after %s (%d events acknowledged, %d waiting)\n", k+1, o.kills, i+1, time.Since(startedAt).Round(time.Millisecond), len(sender.Sent()), sender.Pending())
		eng.kill()
		killedAt := time.Now()
		r.kills++
		if err := eng.start(); err != nil {
			return err
		}
		if err := eng.waitReady(ctx, time.Minute); err != nil {
			return err
		}
		r.downtimes = append(r.downtimes, time.Since(killedAt))
	}
	r.killPhase = time.Since(r.started)
	lsids := <-played
	r.sessions = len(lsids)

	// Drain: every event posted and every delivery finished.
	drainStart := time.Now()
	drained, err := api.waitDrained(ctx, sender, o.drain, o.progress)
	if err != nil {
		return err
	}
	r.drain = time.Since(drainStart)
	if !drained {
		r.problems = append(r.problems, fmt.Sprintf("not drained %s after the last kill: %d events wait at the appliance, deliveries unfinished (see below)", o.drain, sender.Pending()))
	}
	sent, dropped := sender.Sent(), sender.Dropped()
	r.acked, r.dropped, r.posts = len(sent), len(dropped), sender.Attempts()
	deliveries, err := api.deliveries(ctx)
	if err != nil {
		return err
	}

	for i, eng := range c.engines {
		if err := eng.stop(time.Minute); err != nil {
			r.problems = append(r.problems, fmt.Sprintf("engine %d did not shut down cleanly: %v (see %s)", i+1, err, eng.logPath))
		}
	}
	if wal != nil {
		r.walPeak = wal.peak()
		wal = nil
	}

	stored, err := c.storedEvents(dir)
	if err != nil {
		r.fail("read the stored events: %v", err)
	} else {
		r.checkEvents(sent, dropped, stored)
	}
	r.checkDeliveries(deliveries)
	r.checkTickets(psa, lsids)
	if c.schema == nil {
		r.checkStore(filepath.Join(dir, "switchboard.db"))
	}
	r.autotask = psa.AllStats()
	r.checkThreads()
	return nil
}

// playSessions begins a session every 1/rate and ends each shortly after;
// it returns the lsids once every session has ended.
func playSessions(ctx context.Context, a *bttest.Appliance, n int, rate float64) []string {
	every := time.Duration(float64(time.Second) / rate)
	var mu sync.Mutex
	var wg sync.WaitGroup
	var lsids []string
	for i := 0; i < n && ctx.Err() == nil; i++ {
		live := a.Begin(bttest.SessionSpec{
			Customer: &bttest.Customer{Name: "Jane Doe", Hostname: fmt.Sprintf("PC-%04d", i), OS: "Windows 11 Pro", Company: "Contoso Ltd", Issue: "Printer offline", Details: "Session " + fmt.Sprint(i)},
			Rep:      bttest.Rep{ID: "7", Username: "alice", DisplayName: "Alice Tech"},
			Custom:   []beyondtrust.CustomAttribute{{CodeName: "customer_email", DisplayName: "Customer Email", Value: "jane.doe@contoso.example"}},
		})
		wg.Go(func() {
			sleep(ctx, 3*every)
			live.After(time.Minute).Chat("Alice Tech", "Restarting the spooler.").After(5 * time.Minute).End()
			mu.Lock()
			lsids = append(lsids, live.LSID())
			mu.Unlock()
		})
		sleep(ctx, every)
	}
	wg.Wait()
	return lsids
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// configFor is an Autotask configuration on the simulators: a ticket is
// created when the representative joins, the report note and a time entry
// are added at session end.
func configFor(host, secret, restRoot string, attempts int) map[string]any {
	events := []string{engine.EventMemberAdded, engine.EventSessionEnd}
	app := map[string]any{
		"name": "Chaos", "appliance_id": engine.DefaultApplianceID, "host": host,
		"client_id": clientID, "client_secret": secret, "allow_invalid_certificates": true,
		"outbound_events": events, "retry_outbound_events": events,
	}
	if attempts > 0 {
		app["retry_attempt_limit"] = attempts
	}
	return map[string]any{
		"plugin": "autotask", "appliance": app,
		"settings": map[string]any{
			"services_url": restRoot, "username": autotasktest.DefaultUsername,
			"password": autotasktest.DefaultSecret, "integration_code": autotasktest.DefaultIntegrationCode,
			"note_type": "1", "report_time_zone": "UTC", "update_time_entry": true,
			"time_entry_defaults":  `{"defaultDomain": "msp.example", "roleName": "Technician", "summaryNotes": "Remote support session"}`,
			"auto_ticket_on_start": true, "auto_ticket_without_external_key": true,
			"ticket_defaults": fmt.Sprintf(`{"companyID": %d, "queueID": %d, "status": 1, "priority": 2, "title": "{{Issue}}", "description": "{{Details}}", "contactID": "<<emailAddress|customer_email>>", "defaultContactID": %d}`,
				autotasktest.CompanyContoso, autotasktest.QueueClientPortal, autotasktest.ContactDefault),
		},
	}
}
