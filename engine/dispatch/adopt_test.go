package dispatch

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"switchboard/engine"
	"switchboard/engine/intake"
	"switchboard/engine/rusage"
	"switchboard/engine/service"
	"switchboard/engine/store"
	"switchboard/engine/storetest"
)

// rigRouter routes posts the way the engine does, to the rig's
// configuration.
type rigRouter struct{ r *rig }

func (rr rigRouter) Route(applianceID, event, source string) ([]store.NewDelivery, string) {
	cfgs, err := rr.r.svc.LoadAll(context.Background())
	if err != nil {
		return nil, err.Error()
	}
	return service.Route(cfgs, applianceID, event, source)
}

// intakeFor serves the outbound-event endpoint on the rig's store, its
// commits claiming for the rig's dispatcher.
func intakeFor(t testing.TB, r *rig) string {
	t.Helper()
	return intakeWith(t, r, r.disp)
}

// intakeWith is intakeFor handing its claims to workers.
func intakeWith(t testing.TB, r *rig, workers intake.Workers) string {
	t.Helper()
	h := intake.New(intake.Options{Store: r.st, Router: rigRouter{r}, Wake: r.disp.Wake, Workers: workers})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	e := echo.New()
	h.Register(e)
	srv := httptest.NewServer(e)
	t.Cleanup(func() { srv.Close(); cancel(); <-done })
	return srv.URL + intake.Path
}

func postEvent(t testing.TB, u, lsid string, n int) {
	t.Helper()
	resp, err := http.PostForm(u, url.Values{"event": {engine.EventMemberAdded}, "lsid": {lsid}, "timestamp": {fmt.Sprint(1700000000 + n)}, "seq": {fmt.Sprint(n)}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("post %d: status %d", n, resp.StatusCode)
	}
}

// A post whose delivery finds a free worker is stored with it already
// claimed and handed over in memory: the delivery runs once, and it costs
// the insert's transaction and the finish's, no claim in between.
func TestClaimAtInsertNeedsNoClaimTransaction(t *testing.T) {
	r, u, ran := postingRig(t)
	ctx := context.Background()
	waitIdle := func() {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if ds, _ := r.st.ListDeliveries(ctx, store.DeliveryFilter{ConfigID: r.cfg}); allFinished(ds) {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Fatal("deliveries did not finish")
	}
	waitIdle()
	const posts = 20
	before := r.st.WriteTransactions()
	for i := range posts {
		postEvent(t, u, fmt.Sprint("s", i), i)
		<-ran
		waitIdle()
	}
	// The maintenance loop's first round (its leader lease and the
	// purge) may fall inside the count on a slow machine; a claim per
	// post would add twenty.
	if got := r.st.WriteTransactions() - before; got > 2*posts+2 {
		t.Errorf("%d write transactions for %d posts delivered one at a time; want %d (an insert and a finish each)", got, posts, 2*posts)
	}
	ds, _ := r.st.ListDeliveries(ctx, store.DeliveryFilter{ConfigID: r.cfg})
	if len(ds) != posts {
		t.Fatalf("%d deliveries, want %d", len(ds), posts)
	}
	for _, d := range ds {
		if d.State != store.StateDone || d.Attempts != 1 {
			t.Errorf("delivery %d: %s after %d attempts; want done after 1", d.ID, d.State, d.Attempts)
		}
	}
}

// An appliance posting the events of one session one at a time, each
// after the previous delivery ran: every post's commit carries the finish
// of the delivery before it and claims its own delivery at insert behind
// it, so the sequence costs one write transaction per post, not two.
func TestSequentialPostsCarryThePreviousFinish(t *testing.T) {
	ran := make(chan int64, 100)
	p := &testPlugin{id: "test", concurrency: 2, handle: func(_ context.Context, job *engine.Job) error {
		ran <- job.DeliveryID
		return nil
	}}
	// A second's wait: each finish waits for the test's next post, never
	// for its timer, however slow the machine.
	st := storetest.OpenWith(t, store.Options{FinishWait: time.Second})
	r := newRigOn(t, st, p, nil, func(o *Options) { o.MaintenanceInterval = time.Hour })
	r.run(t)
	u := intakeFor(t, r)
	ctx := context.Background()
	const posts = 20
	before := st.WriteTransactions()
	for i := range posts {
		if i > 0 {
			for deadline := time.Now().Add(10 * time.Second); st.FinishesWaiting() != 1; time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the finish of post %d does not wait for the next commit", i-1)
				}
			}
		}
		postEvent(t, u, "s", i)
		<-ran
	}
	// The maintenance loop's first round (its leader lease and the purge)
	// may fall inside the count on a slow machine.
	if got := st.WriteTransactions() - before; got > posts+2 {
		t.Errorf("%d write transactions for %d posts of a session delivered one at a time; want %d (one each)", got, posts, posts)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		ds, _ := st.ListDeliveries(ctx, store.DeliveryFilter{ConfigID: r.cfg})
		if len(ds) == posts && allFinished(ds) {
			for _, d := range ds {
				if d.State != store.StateDone || d.Attempts != 1 {
					t.Errorf("delivery %d: %s after %d attempts; want done after 1", d.ID, d.State, d.Attempts)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries, not all finished", len(ds))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// postingRig is a running dispatcher whose plugin reports each delivery
// it ran on ran, and the URL of an intake that claims at insert for it.
func postingRig(t testing.TB) (*rig, string, chan int64) {
	t.Helper()
	ran := make(chan int64, 100)
	p := &testPlugin{id: "test", concurrency: 2, handle: func(_ context.Context, job *engine.Job) error {
		ran <- job.DeliveryID
		return nil
	}}
	r := newRigWith(t, p, nil, func(o *Options) { o.MaintenanceInterval = time.Hour })
	r.run(t)
	u := intakeFor(t, r)
	return r, u, ran
}

func allFinished(ds []store.Delivery) bool {
	for _, d := range ds {
		if d.FinishedAt == 0 {
			return false
		}
	}
	return true
}

// Posts of several sessions, faster than the plugin works: some deliveries
// are claimed at insert, the others (no free worker, or an earlier one of
// their session unfinished) by the dispatcher. Every delivery runs exactly
// once, a session's deliveries never run side by side, and they run in the
// order they were posted.
func TestClaimAtInsertKeepsSessionOrderAndRunsOnce(t *testing.T) {
	var (
		mu      sync.Mutex
		ran     = map[int64]int{}
		running = map[string]bool{}
		last    = map[string]int{}
		bad     []string
		total   = make(chan struct{}, 200)
	)
	p := &testPlugin{id: "test", concurrency: 3, handle: func(_ context.Context, job *engine.Job) error {
		lsid := job.Event.LSID
		var seq int
		fmt.Sscan(job.Event.Fields.Get("seq"), &seq)
		mu.Lock()
		ran[job.DeliveryID]++
		if running[lsid] {
			bad = append(bad, fmt.Sprintf("%s: two deliveries at once", lsid))
		}
		if seq < last[lsid] {
			bad = append(bad, fmt.Sprintf("%s: post %d ran after post %d", lsid, seq, last[lsid]))
		}
		running[lsid], last[lsid] = true, seq
		mu.Unlock()
		time.Sleep(2 * time.Millisecond)
		mu.Lock()
		running[lsid] = false
		mu.Unlock()
		total <- struct{}{}
		return nil
	}}
	r := newRigWith(t, p, nil, func(o *Options) { o.MaintenanceInterval = time.Hour })
	r.run(t)
	u := intakeFor(t, r)
	const posts = 60
	var wg sync.WaitGroup
	for c := range 3 {
		wg.Go(func() {
			// Each poster posts the events of its two sessions in
			// order, one at a time, as an appliance does.
			for i := range posts / 3 {
				postEvent(t, u, fmt.Sprintf("s%d-%d", c, i%2), c*1000+i+1)
			}
		})
	}
	wg.Wait()
	deadline := time.After(20 * time.Second)
	for range posts {
		select {
		case <-total:
		case <-deadline:
			t.Fatal("not every delivery ran")
		}
	}
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(ran) != posts {
		t.Errorf("%d deliveries ran, want %d", len(ran), posts)
	}
	for id, n := range ran {
		if n != 1 {
			t.Errorf("delivery %d ran %d times", id, n)
		}
	}
	for _, b := range bad {
		t.Error(b)
	}
}

// A routed post delivered one at a time runs a few dozen SQL statements
// (intake, claim at insert, the worker's reads, the finish): the store's
// connections keep them compiled, so after the first posts none of them
// is compiled again.
func TestRoutedPostCompilesNoStatement(t *testing.T) {
	r, u, ran := postingRig(t)
	ctx := context.Background()
	deliver := func(from, to int) {
		for i := from; i < to; i++ {
			postEvent(t, u, fmt.Sprint("s", i), i)
			<-ran
			for {
				if ds, _ := r.st.ListDeliveries(ctx, store.DeliveryFilter{ConfigID: r.cfg}); allFinished(ds) {
					break
				}
				time.Sleep(time.Millisecond)
			}
		}
	}
	deliver(0, 5)
	const posts = 20
	before := r.st.StatementStats()
	deliver(5, 5+posts)
	after := r.st.StatementStats()
	runs, prepares := after.Runs-before.Runs, after.Prepares-before.Prepares
	t.Logf("per routed post delivered: %.1f statements run, %.2f compiled; %d kept", float64(runs)/posts, float64(prepares)/posts, after.Kept)
	// The test's own ListDeliveries polls run too; each of them was
	// compiled once per statement before statements were kept.
	if prepares > posts/4 {
		t.Errorf("%d statements compiled for %d posts (%d run); want them kept", prepares, posts, runs)
	}
}

// BenchmarkRoutedPostDelivered posts routed events one at a time, each
// claimed at insert and run by a plugin that does nothing, and waits for
// the plugin before the next post (its finish overlaps the next post, as
// in the engine): the store's and dispatcher's cost per delivered post.
// cpu-µs/op is the process's CPU, the HTTP client's included.
func BenchmarkRoutedPostDelivered(b *testing.B) {
	r, u, ran := postingRig(b)
	for i := range 5 {
		postEvent(b, u, fmt.Sprint("warm", i), i)
		<-ran
	}
	before := r.st.StatementStats()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := rusage.CPU()
	for i := range b.N {
		postEvent(b, u, fmt.Sprint("s", i), i)
		<-ran
	}
	b.StopTimer()
	b.ReportMetric(float64(rusage.CPU()-cpu)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
	after := r.st.StatementStats()
	b.ReportMetric(float64(after.Runs-before.Runs)/float64(b.N), "statements/op")
	b.ReportMetric(float64(after.Prepares-before.Prepares)/float64(b.N), "prepares/op")
}
