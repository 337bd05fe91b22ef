package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/render"
	"switchboard/engine/secretbox"
	"switchboard/engine/service"
	"switchboard/engine/store"
	"switchboard/engine/storetest"
)

// testPlugin is a plugin whose behaviour each test scripts. Engine tests may
// register such a plugin; it is not a product plugin.
type testPlugin struct {
	id          string
	concurrency int
	timeout     time.Duration // default 2 s
	handle      func(ctx context.Context, job *engine.Job) error
}

type testSettings struct {
	Note string `json:"note" label:"Note"`
}

func (p *testPlugin) Info() engine.Info {
	timeout := p.timeout
	if timeout == 0 {
		timeout = 2 * time.Second
	}
	return engine.Info{
		ID: p.id, Name: "Test", Description: "scripted by tests",
		Events:      []string{engine.EventSessionEnd, engine.EventMemberAdded},
		NewSettings: func() any { return &testSettings{} },
		Concurrency: p.concurrency, Timeout: timeout,
	}
}

func (p *testPlugin) Handle(ctx context.Context, job *engine.Job) error { return p.handle(ctx, job) }

type rig struct {
	st   *store.Store
	svc  *service.Service
	disp *Dispatcher
	cfg  int64
}

func newRig(t *testing.T, p engine.Plugin, mutate func(a map[string]any)) *rig {
	t.Helper()
	return newRigWith(t, p, mutate, nil)
}

// newRigWith is newRig with the dispatcher's options adjusted by opts.
func newRigWith(t testing.TB, p engine.Plugin, mutate func(a map[string]any), opts func(*Options)) *rig {
	t.Helper()
	return newRigOn(t, storetest.Open(t), p, mutate, opts)
}

// newRigOn is newRigWith on the store st.
func newRigOn(t testing.TB, st *store.Store, p engine.Plugin, mutate func(a map[string]any), opts func(*Options)) *rig {
	t.Helper()
	box, err := secretbox.Load(context.Background(), t.TempDir(), "", st)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := engine.NewRegistry(p)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := render.New(render.Options{OverrideDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var disp *Dispatcher
	svc, err := service.New(service.Options{Store: st, Registry: reg, Box: box, Renderer: rd, Wake: func() { disp.Wake() }})
	if err != nil {
		t.Fatal(err)
	}
	app := map[string]any{
		"name": "test config", "appliance_id": "Default", "host": "support.example.com",
		"retry_attempt_limit": 2,
	}
	if mutate != nil {
		mutate(app)
	}
	raw, _ := json.Marshal(app)
	cfg, err := svc.CreateConfig(context.Background(), "test", service.ConfigInput{Plugin: p.Info().ID, Appliance: raw})
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Store: st, Configs: svc, Backoff: func(int) time.Duration { return 5 * time.Millisecond },
		MaintenanceInterval: 20 * time.Millisecond, DrainTimeout: 2 * time.Second}
	if opts != nil {
		opts(&o)
	}
	disp = New(o)
	return &rig{st: st, svc: svc, disp: disp, cfg: cfg.ID}
}

// run starts the dispatcher and stops it when the test ends.
func (r *rig) run(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.disp.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("dispatcher: %v", err)
		}
	})
}

// enqueue stores an event routed the way the intake routes it.
func (r *rig) enqueue(t *testing.T, event, lsid, source string) int64 {
	t.Helper()
	cfgs, err := r.svc.LoadAll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ds, reason := service.Route(cfgs, "Default", event, source)
	if len(ds) == 0 {
		t.Fatalf("event routed nowhere: %s", reason)
	}
	res, err := r.st.InsertEvents(context.Background(), []*store.NewEvent{{
		Event: store.Event{DedupeKey: event + lsid + source, ApplianceID: "Default", Name: event, Source: source,
			LSID: lsid, OccurredAt: time.Now().UnixMilli(), Fields: "event=" + event, Routing: store.Routed},
		Deliveries: ds,
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.disp.Wake()
	return res[0].EventID
}

func (r *rig) waitFinal(t *testing.T, eventID int64) store.Delivery {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ds, err := r.st.ListDeliveries(context.Background(), store.DeliveryFilter{EventID: eventID})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 1 {
			switch ds[0].State {
			case store.StateDone, store.StateFailed, store.StateSkipped:
				return ds[0]
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("delivery of event %d did not finish", eventID)
	return store.Delivery{}
}

func (r *rig) attempts(t *testing.T, deliveryID int64) []store.Attempt {
	t.Helper()
	as, err := r.st.Attempts(context.Background(), deliveryID)
	if err != nil {
		t.Fatal(err)
	}
	return as
}

func TestBackoffSchedule(t *testing.T) {
	t.Parallel()
	want := []time.Duration{10 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute,
		10 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, time.Hour, 2 * time.Hour, 2 * time.Hour}
	for i, w := range want {
		if got := BaseBackoff(i + 1); got != w {
			t.Errorf("retry %d: %v, want %v", i+1, got, w)
		}
		for range 50 {
			if got := Backoff(i + 1); got < w*8/10 || got > w*12/10 {
				t.Fatalf("retry %d: jittered %v outside ±20%% of %v", i+1, got, w)
			}
		}
	}
}

// The default budget must outlast a healthy-but-flaky tenant. Measured
// against an Autotask simulator failing 30 % of requests with 5xx, 10 % with
// 429 and 2 % with timeouts, 31 of 300 session reports were still failing
// after 6 attempts: an attempt fails with probability q = 0.103^(1/6)
// ≈ 0.685 (429s cost no attempt). With the default limit, all 300 such
// deliveries must succeed with better than 95 % probability, and the
// retries must span hours, so that an outage of a few hours costs nothing.
func TestDefaultRetryBudgetOutlastsAFlakyTenant(t *testing.T) {
	t.Parallel()
	attempts := 1 + engine.DefaultRetryAttemptLimit
	q := math.Pow(31.0/300, 1.0/6)
	if pAny := 1 - math.Pow(1-math.Pow(q, float64(attempts)), 300); pAny > 0.05 {
		t.Errorf("%d attempts: %.1f %% chance that one of 300 flaky deliveries fails", attempts, 100*pAny)
	}
	var span time.Duration
	for n := 1; n < attempts; n++ {
		span += BaseBackoff(n)
	}
	if span < 24*time.Hour {
		t.Errorf("the default retries span %v; want at least a day", span)
	}
}

func TestRetriesUpToTheAttemptLimit(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	r := newRig(t, &testPlugin{id: "t", handle: func(context.Context, *engine.Job) error {
		calls.Add(1)
		return errors.New("remote said 503")
	}}, nil)
	r.run(t)
	d := r.waitFinal(t, r.enqueue(t, engine.EventSessionEnd, "s1", engine.SourceOutbound))
	if d.State != store.StateFailed || d.Attempts != 3 || calls.Load() != 3 {
		t.Fatalf("state %s attempts %d calls %d; want failed after 1+2 attempts", d.State, d.Attempts, calls.Load())
	}
	if want := "gave up after 3 attempts: remote said 503"; d.LastError != want {
		t.Fatalf("last error %q, want %q", d.LastError, want)
	}
	if as := r.attempts(t, d.ID); len(as) != 3 || as[2].Number != 3 || as[0].Outcome != "retry" {
		t.Fatalf("history = %+v", as)
	}
}

func TestEventTypesOutsideTheRetryListFailAtOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t, &testPlugin{id: "t", handle: func(context.Context, *engine.Job) error { return errors.New("boom") }},
		func(a map[string]any) {
			a["retry_outbound_events"] = []string{engine.EventMemberAdded}
			a["polling_events"] = []string{engine.EventSessionEnd}
			a["retry_polling_events"] = []string{engine.EventSessionEnd}
		})
	r.run(t)
	d := r.waitFinal(t, r.enqueue(t, engine.EventSessionEnd, "s1", engine.SourceOutbound))
	if d.State != store.StateFailed || d.Attempts != 1 || d.MaxAttempts != 1 {
		t.Fatalf("outbound: state %s attempts %d/%d; want failed after one", d.State, d.Attempts, d.MaxAttempts)
	}
	d = r.waitFinal(t, r.enqueue(t, engine.EventSessionEnd, "s1", engine.SourcePoll))
	if d.Attempts != 3 {
		t.Fatalf("polled: attempts %d; the polling retry list includes the event, want 3", d.Attempts)
	}
}

func TestPermanentFailsAtOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t, &testPlugin{id: "t", handle: func(context.Context, *engine.Job) error {
		return engine.Permanent(errors.New("autotask: the API user's secret is wrong"))
	}}, nil)
	r.run(t)
	d := r.waitFinal(t, r.enqueue(t, engine.EventSessionEnd, "s1", engine.SourceOutbound))
	if d.State != store.StateFailed || d.Attempts != 1 || d.LastError != "autotask: the API user's secret is wrong" {
		t.Fatalf("%+v", d)
	}
}

func TestRetryAfterDoesNotUseAttempts(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	r := newRig(t, &testPlugin{id: "t", handle: func(context.Context, *engine.Job) error {
		if calls.Add(1) <= 2 {
			return engine.RetryAfter(10*time.Millisecond, errors.New("429 Too Many Requests"))
		}
		return nil
	}}, func(a map[string]any) { a["retry_attempt_limit"] = 0 })
	r.run(t)
	d := r.waitFinal(t, r.enqueue(t, engine.EventSessionEnd, "s1", engine.SourceOutbound))
	if d.State != store.StateDone || d.Attempts != 1 || calls.Load() != 3 {
		t.Fatalf("state %s attempts %d calls %d; want done with one attempt counted after 2 snoozes", d.State, d.Attempts, calls.Load())
	}
	as := r.attempts(t, d.ID)
	if len(as) != 3 || as[0].Outcome != "retry_after" || as[2].Outcome != "done" {
		t.Fatalf("history = %+v", as)
	}
}

func TestSkipAndPanic(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	r := newRig(t, &testPlugin{id: "t", handle: func(_ context.Context, job *engine.Job) error {
		if job.Event.LSID == "skip" {
			return engine.Skip("the session has no ticket")
		}
		if calls.Add(1) == 1 {
			var m map[string]int
			m["x"]++ //lint:ignore SA5000 a nil map write is the plugin bug this test needs
		}
		job.SetResult("note 7 added")
		return nil
	}}, nil)
	r.run(t)
	d := r.waitFinal(t, r.enqueue(t, engine.EventSessionEnd, "skip", engine.SourceOutbound))
	if d.State != store.StateSkipped || d.Result != "the session has no ticket" || d.LastError != "" {
		t.Fatalf("skip: %+v", d)
	}
	d = r.waitFinal(t, r.enqueue(t, engine.EventSessionEnd, "panic", engine.SourceOutbound))
	if d.State != store.StateDone || d.Attempts != 2 || d.Result != "note 7 added" {
		t.Fatalf("after a panic: %+v; want done on the second attempt", d)
	}
	if as := r.attempts(t, d.ID); len(as) != 2 || as[0].Error == "" {
		t.Fatalf("the panic is not in the history: %+v", as)
	}
}

func TestCheckpointSurvivesRetries(t *testing.T) {
	t.Parallel()
	var writes atomic.Int32
	r := newRig(t, &testPlugin{id: "t", handle: func(ctx context.Context, job *engine.Job) error {
		if _, done := job.Checkpoint.Get("note"); !done {
			writes.Add(1)
			if err := job.Checkpoint.Set(ctx, "note", "123"); err != nil {
				return err
			}
		}
		if job.Attempt < 3 {
			return errors.New("time entry failed")
		}
		return nil
	}}, nil)
	r.run(t)
	d := r.waitFinal(t, r.enqueue(t, engine.EventSessionEnd, "s1", engine.SourceOutbound))
	if d.State != store.StateDone || writes.Load() != 1 || d.CheckpointValues()["note"] != "123" {
		t.Fatalf("state %s writes %d checkpoint %v", d.State, writes.Load(), d.CheckpointValues())
	}
}

func TestRescuesLeaseOfADeadWorker(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	r := newRig(t, &testPlugin{id: "t", handle: func(context.Context, *engine.Job) error { calls.Add(1); return nil }}, nil)
	ev := r.enqueue(t, engine.EventSessionEnd, "s1", engine.SourceOutbound)
	// Another worker claims the delivery and dies without finishing.
	claimed, err := r.st.Claim(context.Background(), "t", 1, "dead-worker", 50*time.Millisecond, time.Now())
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	r.run(t)
	d := r.waitFinal(t, ev)
	if d.State != store.StateDone || d.Attempts != 2 || calls.Load() != 1 {
		t.Fatalf("state %s attempts %d calls %d; want done on the second (counted) attempt", d.State, d.Attempts, calls.Load())
	}
	as := r.attempts(t, d.ID)
	if len(as) != 2 || as[0].Outcome != "lease_expired" || as[0].Error != store.LeaseExpiredError {
		t.Fatalf("history = %+v", as)
	}
}

func TestPerPluginConcurrencyLimit(t *testing.T) {
	t.Parallel()
	var cur, peak atomic.Int32
	// The first deliveries wait until three run at once (or 10 s pass), so
	// reaching the limit does not depend on how fast a loaded machine
	// starts them; the rest still overlap, so a fourth would be seen.
	full := make(chan struct{})
	var fullOnce sync.Once
	r := newRig(t, &testPlugin{id: "t", concurrency: 3, handle: func(context.Context, *engine.Job) error {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		if n >= 3 {
			fullOnce.Do(func() { close(full) })
		}
		select {
		case <-full:
		case <-time.After(10 * time.Second):
		}
		time.Sleep(20 * time.Millisecond)
		cur.Add(-1)
		return nil
	}}, nil)
	r.run(t)
	var ids []int64
	for i := range 20 {
		ids = append(ids, r.enqueue(t, engine.EventSessionEnd, fmt.Sprintf("s%d", i), engine.SourceOutbound))
	}
	for _, id := range ids {
		r.waitFinal(t, id)
	}
	if peak.Load() != 3 {
		t.Fatalf("peak concurrency %d, want exactly the limit 3", peak.Load())
	}
}

func TestDeliversOneSessionInOrder(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var order []string
	r := newRig(t, &testPlugin{id: "t", concurrency: 8, handle: func(_ context.Context, job *engine.Job) error {
		if job.Event.Name == engine.EventMemberAdded {
			time.Sleep(30 * time.Millisecond) // slow ticket creation
		}
		mu.Lock()
		order = append(order, job.Event.Name)
		mu.Unlock()
		return nil
	}}, nil)
	first := r.enqueue(t, engine.EventMemberAdded, "s1", engine.SourceOutbound)
	second := r.enqueue(t, engine.EventSessionEnd, "s1", engine.SourceOutbound)
	r.run(t)
	r.waitFinal(t, first)
	r.waitFinal(t, second)
	mu.Lock()
	defer mu.Unlock()
	if len(order) != 2 || order[0] != engine.EventMemberAdded {
		t.Fatalf("order = %v; the session's first event must finish first", order)
	}
}

func TestShutdownLetsDeliveriesFinish(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	r := newRig(t, &testPlugin{id: "t", handle: func(ctx context.Context, _ *engine.Job) error {
		close(started)
		select {
		case <-time.After(100 * time.Millisecond):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}, nil)
	ev := r.enqueue(t, engine.EventSessionEnd, "s1", engine.SourceOutbound)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.disp.Run(ctx) }()
	<-started
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ds, _ := r.st.ListDeliveries(context.Background(), store.DeliveryFilter{EventID: ev})
	if ds[0].State != store.StateDone {
		t.Fatalf("state after shutdown %s, want the in-flight delivery finished", ds[0].State)
	}
}
