// Package dispatch runs deliveries: workers claim due deliveries with a
// lease, hand each to its plugin with a timeout, and record the outcome. The
// plugin says what happened; the dispatcher decides when to try again.
package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"switchboard/engine"
	"switchboard/engine/metrics"
	"switchboard/engine/store"
)

// Defaults.
const (
	DefaultConcurrency = 4
	DefaultTimeout     = 60 * time.Second
	DefaultRetention   = 30 * 24 * time.Hour
	// DefaultMaxSnoozes caps the RetryAfters in a row: a remote that
	// answers "wait" this often (for at least MinRetryAfter each time) is
	// not coming back by itself, and the delivery fails saying so.
	DefaultMaxSnoozes = 100
	// MinRetryAfter is the shortest wait a RetryAfter gets, so that
	// "Retry-After: 0" cannot turn into a re-claim loop against a
	// throttling server.
	MinRetryAfter = time.Second
)

// Loader is what the dispatcher asks of the engine API: the plugins, and a
// configuration decoded for use. *service.Service is one.
type Loader interface {
	Registry() *engine.Registry
	Load(ctx context.Context, id int64) (*engine.LoadedConfig, error)
}

// Options configure the dispatcher.
type Options struct {
	Store   *store.Store
	Configs Loader
	Metrics *metrics.Metrics
	Logger  *slog.Logger
	// Owner names this engine in leases and must differ between engines
	// sharing a database: Release at shutdown hands back every delivery
	// the owner holds. Default store.NewOwner().
	Owner string
	// Retention is how long finished deliveries are kept.
	Retention time.Duration
	// Backoff overrides the retry schedule (tests).
	Backoff func(attempt int) time.Duration
	// DrainTimeout is how long shutdown waits for deliveries in flight
	// before it cancels them.
	DrainTimeout time.Duration
	// CancelGrace is how long shutdown then waits for cancelled deliveries
	// to return before it hands their deliveries back anyway (their lease
	// tokens are cleared, so nothing they write later lands).
	CancelGrace time.Duration
	// Lease is how long a claim holds a delivery between heartbeats
	// (default DefaultLease; renewed every third of it).
	Lease time.Duration
	// MaxSnoozes is how many RetryAfters in a row a delivery may take
	// before it fails (default DefaultMaxSnoozes).
	MaxSnoozes int
	// MaintenanceInterval is how often expired leases are rescued.
	MaintenanceInterval time.Duration
}

// Dispatcher runs the delivery workers of every plugin.
type Dispatcher struct {
	opts  Options
	log   *slog.Logger
	loops []*pluginLoop
	// byPlugin finds a plugin's loop for a delivery claimed at insert.
	byPlugin map[string]*pluginLoop

	// accepting is true while Run's loops run: only then do slots go to
	// deliveries claimed at insert, whose workers run under work.
	mu        sync.Mutex
	accepting bool
	work      context.Context
}

// New builds a dispatcher for the service's plugins.
func New(opts Options) *Dispatcher {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Owner == "" {
		opts.Owner = store.NewOwner()
	}
	if opts.Retention == 0 {
		opts.Retention = DefaultRetention
	}
	if opts.Backoff == nil {
		opts.Backoff = Backoff
	}
	if opts.DrainTimeout == 0 {
		opts.DrainTimeout = 20 * time.Second
	}
	if opts.CancelGrace == 0 {
		opts.CancelGrace = 5 * time.Second
	}
	if opts.Lease == 0 {
		opts.Lease = DefaultLease
	}
	if opts.MaxSnoozes == 0 {
		opts.MaxSnoozes = DefaultMaxSnoozes
	}
	if opts.MaintenanceInterval == 0 {
		opts.MaintenanceInterval = 10 * time.Second
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.New(nil, opts.Logger)
	}
	d := &Dispatcher{opts: opts, log: opts.Logger, byPlugin: map[string]*pluginLoop{}}
	for _, p := range opts.Configs.Registry().All() {
		info := p.Info()
		limit := info.Concurrency
		if limit <= 0 {
			limit = DefaultConcurrency
		}
		timeout := info.Timeout
		if timeout <= 0 {
			timeout = DefaultTimeout
		}
		l := &pluginLoop{
			d: d, plugin: p, id: info.ID, limit: limit, timeout: timeout,
			wake: make(chan struct{}, 1), freed: make(chan struct{}, limit),
		}
		d.loops = append(d.loops, l)
		d.byPlugin[info.ID] = l
	}
	return d
}

// Wake tells every worker loop that new work may be due. It never blocks.
func (d *Dispatcher) Wake() {
	for _, l := range d.loops {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}

// Run works until ctx ends, then lets deliveries in flight finish for up to
// DrainTimeout, cancels those still running and waits up to CancelGrace for
// them to return, and only then hands back any still running: a delivery
// is never released (and the store never closed by the caller) while its
// plugin may still be writing, unless it ignores cancellation.
func (d *Dispatcher) Run(ctx context.Context) error {
	// Deliveries run under their own context, so that shutdown lets them
	// finish instead of cutting them off mid-write.
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	d.accept(work)
	var wg sync.WaitGroup
	for _, l := range d.loops {
		wg.Go(func() { l.run(ctx, work) })
	}
	wg.Go(func() { d.maintain(ctx) })
	<-ctx.Done()
	// No slot goes to a delivery claimed at insert from now on; one taken
	// before is counted in flight until it is started or given back.
	d.refuse()
	// The loops start nothing more once they return.
	wg.Wait()

	drained := make(chan struct{})
	go func() {
		for _, l := range d.loops {
			l.inflight.Wait()
		}
		close(drained)
	}()
	select {
	case <-drained:
	case <-time.After(d.opts.DrainTimeout):
		d.log.Warn("deliveries still running at shutdown; cancelling them", "after", d.opts.DrainTimeout)
		cancelWork()
		select {
		case <-drained:
		case <-time.After(d.opts.CancelGrace):
			d.log.Error("deliveries ignored cancellation; handing them back, and nothing they write from now on is kept",
				"after", d.opts.CancelGrace)
		}
	}
	rel, err := d.opts.Store.Release(context.Background(), d.opts.Owner)
	if err != nil {
		return fmt.Errorf("dispatch: release leases: %w", err)
	}
	if rel > 0 {
		d.log.Info("handed back deliveries at shutdown", "count", rel)
	}
	return nil
}

// maintain rescues expired leases and purges old deliveries.
func (d *Dispatcher) maintain(ctx context.Context) {
	tick := time.NewTicker(d.opts.MaintenanceInterval)
	defer tick.Stop()
	lastPurge := time.Time{}
	for {
		// One engine of a cluster maintains the queue at a time; the
		// lease outlives a few rounds so a live leader keeps it.
		leader, err := d.opts.Store.Leader(ctx, "maintenance", d.opts.Owner, time.Now(), 3*d.opts.MaintenanceInterval)
		if err != nil && ctx.Err() == nil {
			d.log.Error("take the maintenance lease", "err", err)
		}
		if !leader {
			select {
			case <-ctx.Done():
				_ = d.opts.Store.Resign(context.WithoutCancel(ctx), "maintenance", d.opts.Owner)
				return
			case <-tick.C:
			}
			continue
		}
		if n, err := d.opts.Store.Rescue(ctx, time.Now(), d.opts.Backoff); err != nil && ctx.Err() == nil {
			d.log.Error("rescue expired leases", "err", err)
		} else if n > 0 {
			d.log.Warn("rescued deliveries whose worker stopped", "count", n)
			d.Wake()
		}
		if time.Since(lastPurge) > time.Hour {
			lastPurge = time.Now()
			if dn, en, err := d.opts.Store.Purge(ctx, time.Now().Add(-d.opts.Retention)); err != nil && ctx.Err() == nil {
				d.log.Error("purge finished deliveries", "err", err)
			} else if dn+en > 0 {
				d.log.Info("purged finished deliveries past retention", "deliveries", dn, "events", en, "retention", d.opts.Retention)
			}
		}
		select {
		case <-ctx.Done():
			_ = d.opts.Store.Resign(context.WithoutCancel(ctx), "maintenance", d.opts.Owner)
			return
		case <-tick.C:
		}
	}
}

// pluginLoop claims and runs the deliveries of one plugin, at most limit at
// a time.
type pluginLoop struct {
	d        *Dispatcher
	plugin   engine.Plugin
	id       string
	limit    int
	timeout  time.Duration
	wake     chan struct{}
	freed    chan struct{}
	mu       sync.Mutex
	busy     int
	inflight sync.WaitGroup
}

// idleWait bounds a sleep with nothing due, as a backstop for work queued
// by another process sharing the database.
const idleWait = 30 * time.Second

func (l *pluginLoop) run(ctx, work context.Context) {
	for {
		if ctx.Err() != nil {
			return
		}
		l.mu.Lock()
		free := l.limit - l.busy
		l.mu.Unlock()
		claimed := 0
		if free > 0 {
			now := time.Now()
			ds, err := l.d.opts.Store.Claim(ctx, l.id, free, l.d.opts.Owner, l.d.opts.Lease, now)
			if err != nil && ctx.Err() == nil {
				l.d.log.Error("claim deliveries", "plugin", l.id, "err", err)
			}
			claimed = len(ds)
			for i := range ds {
				l.start(work, ds[i], now)
			}
		}
		if claimed > 0 && claimed == free {
			continue // there may be more due; claim again once a slot frees
		}
		wait := idleWait
		if next, ok, err := l.d.opts.Store.NextDue(ctx, []string{l.id}); err == nil && ok {
			wait = max(time.Until(next), 0)
		}
		if wait == 0 {
			// Something is due that this claim did not take: no slot is
			// free (a finish will wake us), or an earlier delivery of the
			// same session is unfinished, or it became due just now.
			wait = time.Second
			if free-claimed <= 0 {
				wait = idleWait
			}
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-l.wake:
		case <-l.freed:
		case <-timer.C:
		}
		timer.Stop()
	}
}

func (l *pluginLoop) start(work context.Context, d store.Delivery, claimedAt time.Time) {
	l.mu.Lock()
	l.busy++
	l.mu.Unlock()
	l.inflight.Add(1)
	l.run1(work, d, claimedAt)
}

// run1 runs a delivery in a slot already counted busy and in flight, and
// frees the slot when it is done. Finishing may unblock the next delivery
// of the same session, which is this plugin's (a session's order is kept
// per configuration): the freed slot wakes this loop, and only this one.
func (l *pluginLoop) run1(work context.Context, d store.Delivery, claimedAt time.Time) {
	go func() {
		defer l.free()
		l.deliver(work, d, claimedAt)
	}()
}

// free gives back a slot counted busy and in flight.
func (l *pluginLoop) free() {
	l.mu.Lock()
	l.busy--
	l.mu.Unlock()
	l.inflight.Done()
	select {
	case l.freed <- struct{}{}:
	default:
	}
}

// deliver runs one attempt under its lease and records its outcome.
func (l *pluginLoop) deliver(work context.Context, d store.Delivery, claimedAt time.Time) {
	log := l.d.log.With("delivery", d.ID, "config", d.ConfigID, "plugin", l.id, "attempt", d.Attempts)
	ctx, cancel := context.WithCancelCause(work)
	defer cancel(nil)
	lease := newAttemptLease(l.d.opts.Store, &d, l.d.opts.Lease, claimedAt, cancel, log)
	stop := make(chan struct{})
	var heartbeat sync.WaitGroup
	heartbeat.Go(func() { lease.keep(stop) })

	started := time.Now()
	job, err := l.job(ctx, &d, lease, log)
	var outcome engine.Outcome
	var after time.Duration
	if err != nil {
		outcome, after = engine.Classify(err)
	} else {
		err = l.handle(ctx, job)
		outcome, after = engine.Classify(err)
		switch {
		case errors.Is(context.Cause(ctx), engine.ErrLeaseLost):
			err = fmt.Errorf("the attempt lost its lease and was stopped: %w", err)
		case errors.Is(err, context.DeadlineExceeded) && outcome == engine.OutcomeRetry:
			err = fmt.Errorf("the plugin did not finish within %s: %w", l.timeout, err)
		}
	}
	close(stop)
	heartbeat.Wait()
	dur := time.Since(started)
	if work.Err() != nil && outcome == engine.OutcomeRetry && !errors.Is(context.Cause(ctx), engine.ErrLeaseLost) {
		// Cut off by shutdown, not failed: Run hands the delivery back
		// without counting the attempt, keeping the record of what it
		// wrote.
		if job != nil {
			if err := job.Checkpoint.Flush(context.WithoutCancel(ctx)); err != nil {
				log.Error("save the checkpoint of a delivery cancelled at shutdown", "err", err)
			}
		}
		log.Info("delivery cancelled at shutdown; it runs again on the next start", "err", err)
		return
	}
	f := l.finish(&d, outcome, after, err)
	f.Token, f.Started, f.Duration = d.LeaseToken, started, dur
	var unsaved int
	if job != nil {
		l.record(&f, job)
		// The checkpoint of the last remote write rides on the finish.
		f.Checkpoint, unsaved = job.Checkpoint.Unsaved()
	}
	l.d.opts.Metrics.Attempts.WithLabelValues(l.id, outcome.String()).Inc()
	l.d.opts.Metrics.AttemptDuration.WithLabelValues(l.id).Observe(dur.Seconds())
	// Recording the outcome must survive shutdown's cancellation; the lease
	// token keeps it from landing if the delivery was handed to another
	// attempt meanwhile.
	if err := l.d.opts.Store.FinishAttempt(context.WithoutCancel(ctx), f); err != nil {
		if errors.Is(err, engine.ErrLeaseLost) {
			log.Warn("delivery outcome not recorded: the attempt lost its lease, and the attempt that replaced it records its own",
				"state", f.State, "err", f.Error)
			return
		}
		log.Error("record delivery outcome", "state", f.State, "err", err)
		if unsaved > 0 {
			// The outcome is lost until the lease runs out and the
			// delivery is rescued; the record of what it wrote must not
			// be, or the retry would write it again.
			if err := job.Checkpoint.Flush(context.WithoutCancel(ctx)); err != nil {
				log.Error("save the checkpoint after the outcome could not be recorded", "err", err)
			}
		}
		return
	}
	if unsaved > 0 {
		job.Checkpoint.Saved(unsaved)
	}
	switch f.State {
	case store.StateDone, store.StateSkipped:
		log.Info("delivery "+f.State, "duration", dur, "result", f.Result)
	case store.StateRetrying:
		log.Warn("delivery will be retried", "at", f.RunAt.Format(time.RFC3339), "outcome", outcome.String(), "err", f.Error)
	default:
		log.Error("delivery failed", "err", f.Error)
	}
}

// record copies what the attempt wrote into its outcome: the records as
// JSON and, unless the plugin or a skip said otherwise, their summary.
func (l *pluginLoop) record(f *store.Finish, job *engine.Job) {
	if f.Result == "" {
		f.Result = job.Result()
	}
	records := job.Records()
	if len(records) == 0 {
		return
	}
	b, err := json.Marshal(records)
	if err != nil {
		l.d.log.Error("encode delivery records", "delivery", f.ID, "err", err)
		return
	}
	f.Records = string(b)
	if f.Result == "" && f.State == store.StateDone {
		var kinds []engine.RecordKind
		if r, ok := l.plugin.(engine.Reporter); ok {
			kinds = r.RecordKinds()
		}
		f.Result = engine.Summarize(records, kinds)
	}
}

// finish decides a delivery's next state from what its plugin returned.
func (l *pluginLoop) finish(d *store.Delivery, outcome engine.Outcome, after time.Duration, err error) store.Finish {
	f := store.Finish{ID: d.ID, Outcome: outcome.String()}
	if err != nil {
		f.Error = err.Error()
	}
	switch outcome {
	case engine.OutcomeDone:
		f.State = store.StateDone
	case engine.OutcomeSkipped:
		f.State, f.Result, f.Error = store.StateSkipped, err.Error(), ""
	case engine.OutcomePermanent:
		f.State = store.StateFailed
	case engine.OutcomeRetryAfter:
		if d.Snoozes >= l.d.opts.MaxSnoozes {
			f.State = store.StateFailed
			f.Error = fmt.Sprintf("gave up: the remote asked to retry later %d times in a row; last answer: %s", d.Snoozes+1, f.Error)
			break
		}
		f.State, f.RunAt, f.Snooze = store.StateRetrying, time.Now().Add(max(after, MinRetryAfter)), true
	case engine.OutcomeRetry:
		if d.Attempts < d.MaxAttempts {
			f.State, f.RunAt = store.StateRetrying, time.Now().Add(l.d.opts.Backoff(d.Attempts))
			break
		}
		f.State = store.StateFailed
		if d.MaxAttempts > 1 {
			f.Error = fmt.Sprintf("gave up after %d attempts: %s", d.Attempts, f.Error)
		}
	}
	return f
}

// job assembles what the plugin needs, every write of it fenced by the
// attempt's lease. Errors are returned already classified.
func (l *pluginLoop) job(ctx context.Context, d *store.Delivery, lease *attemptLease, log *slog.Logger) (*engine.Job, error) {
	cfg, err := l.d.opts.Configs.Load(ctx, d.ConfigID)
	if err != nil {
		return nil, engine.Permanent(fmt.Errorf("load configuration %d: %w", d.ConfigID, err))
	}
	if cfg.Appliance.Disabled {
		return nil, engine.Skip("the configuration was disabled before this delivery ran")
	}
	// A delivery claimed at insert carries the event its insert stored.
	ev := d.Event
	if ev == nil {
		if ev, err = l.d.opts.Store.GetEvent(ctx, d.EventID); err != nil {
			return nil, fmt.Errorf("load event %d: %w", d.EventID, err)
		}
	}
	return &engine.Job{
		DeliveryID:  d.ID,
		Attempt:     d.Attempts,
		MaxAttempts: d.MaxAttempts,
		Event: engine.Event{
			ID: ev.ID, ApplianceID: ev.ApplianceID, Name: ev.Name, Source: ev.Source, LSID: ev.LSID,
			ExternalKey: ev.ExternalKey, Timestamp: ev.Occurred(), ReceivedAt: ev.Received(), Fields: ev.Values(),
		},
		ConfigID:   cfg.ID,
		ConfigName: cfg.Name,
		Appliance:  cfg.Appliance,
		Settings:   cfg.Settings,
		Client:     cfg.Client,
		Templates:  cfg.Templates,
		Checkpoint: engine.NewCheckpoint(d.CheckpointValues(), lease.checkpointSaver()).WriteBehind(lease.held),
		Links:      links{a: lease, l: l.d.opts.Store.AttemptLinks(lease.fence)},
		Lease:      lease,
		Log:        log.With("event", ev.Name, "lsid", ev.LSID),
	}, nil
}

// handle runs the plugin with the attempt timeout, turning a panic into a
// retryable error so one bad session cannot take the engine down.
func (l *pluginLoop) handle(ctx context.Context, job *engine.Job) (err error) {
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			job.Log.Error("plugin panicked", "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("plugin %s panicked: %v", l.id, r)
		}
	}()
	return l.plugin.Handle(ctx, job)
}
