package intake

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"switchboard/engine/metrics"
	"switchboard/engine/store"
	"switchboard/engine/storetest"
)

func queued(key string, deliveries ...store.NewDelivery) *pending {
	ev := store.Event{DedupeKey: key, ApplianceID: "Default", Name: "support_conference_end", Source: "outbound", LSID: key, Fields: "event=support_conference_end", Routing: store.Routed}
	if len(deliveries) == 0 {
		ev.Routing = store.Unrouted
	}
	return &pending{ev: &store.NewEvent{Event: ev, Deliveries: deliveries}, done: make(chan commitResult, 1)}
}

// A post routed to a configuration deleted between routing and commit
// fails its own insert (foreign key); the posts that share its batch are
// stored and answered as if it had not been there.
func TestOneBadPostFailsAlone(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	keep := storetest.Config(t, st, "test", "Default")
	gone := storetest.Config(t, st, "test", "Default")
	if err := st.DeleteConfig(context.Background(), gone, store.AuditEntry{Actor: "test", Action: "delete"}); err != nil {
		t.Fatal(err)
	}
	c := newCommitter(st, nil, 256, metrics.New(nil, nil))
	ps := []*pending{
		queued("good1", store.NewDelivery{ConfigID: keep, Plugin: "test", MaxAttempts: 1}),
		queued("bad", store.NewDelivery{ConfigID: keep, Plugin: "test", MaxAttempts: 1}, store.NewDelivery{ConfigID: gone, Plugin: "test", MaxAttempts: 1}),
		queued("good2", store.NewDelivery{ConfigID: keep, Plugin: "test", MaxAttempts: 1}),
		queued("unrouted"),
	}
	// The four share one batch, as posts waiting together do.
	c.commit(context.Background(), ps)
	for i, p := range ps {
		r := <-p.done
		bad := p.ev.Event.DedupeKey == "bad"
		switch {
		case bad && r.err == nil:
			t.Errorf("post %d (deleted configuration) was acknowledged", i)
		case bad && errors.Is(r.err, store.ErrUnavailable):
			t.Errorf("post %d: %v; a data error is not the store being unavailable", i, r.err)
		case !bad && r.err != nil:
			t.Errorf("post %d failed with its batch: %v", i, r.err)
		}
	}
	stored := storedLSIDs(t, st)
	if len(stored) != 3 || !stored["good1"] || !stored["good2"] || !stored["unrouted"] {
		t.Fatalf("stored %v, want exactly the three good posts", stored)
	}
	ds, err := st.ListDeliveries(context.Background(), store.DeliveryFilter{})
	if err != nil || len(ds) != 2 {
		t.Fatalf("deliveries = %d %v, want 2 (none of the failed post)", len(ds), err)
	}
}

// A post that reaches the committer after it stopped gets an answer, and
// so does every post racing with the stop: none may wait forever, and
// every one answered without error is stored.
func TestNoPostWaitsForeverAtShutdown(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	c := newCommitter(st, nil, 4, metrics.New(nil, nil))
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { c.run(ctx); close(stopped) }()

	const racing = 64
	var wg sync.WaitGroup
	results := make(chan error, racing+1)
	acked := make(chan string, racing)
	for i := range racing {
		wg.Go(func() {
			key := fmt.Sprint("race", i)
			_, err := c.submit(context.Background(), queued(key).ev)
			if err == nil {
				acked <- key
			}
			results <- err
		})
	}
	cancel()
	<-stopped
	wg.Go(func() {
		_, err := c.submit(context.Background(), queued("late").ev)
		if !errors.Is(err, errStopped) {
			err = fmt.Errorf("post after stop: got %v, want errStopped", err)
		} else {
			err = nil
		}
		results <- err
	})
	all := make(chan struct{})
	go func() { wg.Wait(); close(all) }()
	select {
	case <-all:
	case <-time.After(time.Minute): // a hang guard, not a timing assertion
		t.Fatal("a post is still waiting for the stopped committer")
	}
	close(results)
	close(acked)
	for err := range results {
		if err != nil && !errors.Is(err, errStopped) {
			t.Error(err)
		}
	}
	stored := storedLSIDs(t, st)
	for key := range acked {
		if !stored[key] {
			t.Errorf("post %s was acknowledged but not stored", key)
		}
	}
}

// watchedWriter records, at the moment the handler writes its status,
// whether the commit had been let through and whether the event was
// visible in the database.
type watchedWriter struct {
	httptest.ResponseRecorder
	released *atomic.Bool
	stored   func() bool

	mu                     sync.Mutex
	status                 int
	beforeCommit, unstored bool
}

func (w *watchedWriter) WriteHeader(code int) {
	w.mu.Lock()
	if w.status == 0 {
		w.status = code
		w.beforeCommit = !w.released.Load()
		w.unstored = !w.stored()
	}
	w.mu.Unlock()
	w.ResponseRecorder.WriteHeader(code)
}

func (w *watchedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	unset := w.status == 0
	w.mu.Unlock()
	if unset {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseRecorder.Write(b)
}

func (w *watchedWriter) written() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.status
}

// The store is gated inside the intake's transaction, after the rows are
// written and before COMMIT: while it is held no answer may have been
// written, and the 200 that follows finds the event committed.
func TestAcknowledgesOnlyAfterCommitGated(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	cfg := storetest.Config(t, st, "test", "Default")
	h := New(Options{Store: st, Router: staticRouter{appliance: "Default", deliveries: []store.NewDelivery{{ConfigID: cfg, Plugin: "test", MaxAttempts: 1}}}})
	reached, gate := make(chan struct{}), make(chan struct{})
	var released atomic.Bool
	h.commits.insert = func(ctx context.Context, batch []*store.NewEvent) ([]store.Inserted, error) {
		return st.InsertEvents(ctx, batch, func(*sql.Tx) error {
			close(reached)
			<-gate
			return nil
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go h.Run(ctx)
	e := echo.New()
	h.Register(e)

	w := &watchedWriter{ResponseRecorder: *httptest.NewRecorder(), released: &released, stored: func() bool {
		evs, err := st.ListEvents(context.Background(), store.EventFilter{LSID: "gated"})
		return err == nil && len(evs) == 1
	}}
	req := httptest.NewRequest(http.MethodPost, Path+"?appliance=Default", strings.NewReader(endEvent("gated").Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	served := make(chan struct{})
	go func() { e.ServeHTTP(w, req); close(served) }()

	<-reached
	if code := w.written(); code != 0 {
		t.Fatalf("answered %d while the commit was held", code)
	}
	released.Store(true)
	close(gate)
	<-served
	if w.status != http.StatusOK || w.beforeCommit || w.unstored {
		t.Fatalf("status %d, written before the commit was let through: %v, event not yet visible: %v", w.status, w.beforeCommit, w.unstored)
	}
}

// Rejected posts are counted apart: a post the database refused for its own
// data (routed to a configuration deleted since) is not the database being
// unavailable.
func TestFailureReasonsAreLabelled(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 0)
	if err := f.st.DeleteConfig(context.Background(), f.cfg, store.AuditEntry{Actor: "test", Action: "delete"}); err != nil {
		t.Fatal(err)
	}
	if code, _ := f.post(t, "", endEvent("fk")); code != http.StatusServiceUnavailable {
		t.Fatalf("deleted configuration: status %d, want 503", code)
	}
	_ = f.st.Close()
	if code, _ := f.post(t, "", endEvent("closed")); code != http.StatusServiceUnavailable {
		t.Fatalf("closed store: status %d, want 503", code)
	}
	for reason, want := range map[string]float64{"store_data_error": 1, "store_unavailable": 1} {
		if got := testutil.ToFloat64(f.m.IntakeRejected.WithLabelValues(reason)); got != want {
			t.Errorf("intake_rejected{reason=%q} = %v, want %v", reason, got, want)
		}
	}
}

// storedLSIDs is the set of lsids of the stored events.
func storedLSIDs(t *testing.T, st *store.Store) map[string]bool {
	t.Helper()
	evs, err := st.ListEvents(context.Background(), store.EventFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, e := range evs {
		out[e.LSID] = true
	}
	return out
}

// heldCommitter is a committer whose first commit is held open inside its
// transaction until release is closed; committed lists the dedupe keys
// whose transaction has returned, and batches the size of each commit.
type heldCommitter struct {
	*committer
	reached, release chan struct{}

	mu        sync.Mutex
	committed map[string]bool
	batches   []int
}

func newHeldCommitter(t *testing.T) *heldCommitter {
	st := storetest.Open(t)
	h := &heldCommitter{committer: newCommitter(st, nil, 256, metrics.New(nil, nil)),
		reached: make(chan struct{}), release: make(chan struct{}), committed: map[string]bool{}}
	first := true
	h.insert = func(ctx context.Context, batch []*store.NewEvent) ([]store.Inserted, error) {
		res, err := st.InsertEvents(ctx, batch, func(*sql.Tx) error {
			if first {
				first = false
				close(h.reached)
				<-h.release
			}
			return nil
		})
		h.mu.Lock()
		defer h.mu.Unlock()
		h.batches = append(h.batches, len(batch))
		if err == nil {
			for _, ne := range batch {
				h.committed[ne.Event.DedupeKey] = true
			}
		}
		return res, err
	}
	return h
}

func (h *heldCommitter) waitingPosts() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.committer.mu.Lock()
	defer h.committer.mu.Unlock()
	return len(h.waiting)
}

// A lone post commits at once on its own; posts arriving while a commit
// runs wait and then share the next commit, each answered only after that
// commit has returned.
func TestPostsArrivingDuringACommitShareTheNext(t *testing.T) {
	t.Parallel()
	h := newHeldCommitter(t)
	ctx := context.Background()
	errs := make(chan error, 21)
	go func() {
		_, err := h.submit(ctx, queued("lone").ev)
		errs <- err
	}()
	<-h.reached
	const n = 20
	for i := range n {
		go func() {
			key := fmt.Sprint("waiting", i)
			_, err := h.submit(ctx, queued(key).ev)
			h.mu.Lock()
			if err == nil && !h.committed[key] {
				err = fmt.Errorf("post %s answered before its commit returned", key)
			}
			h.mu.Unlock()
			errs <- err
		}()
	}
	for h.waitingPosts() < n {
		time.Sleep(time.Millisecond) // until all n are waiting; no timing is asserted
	}
	close(h.release)
	for range n + 1 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if fmt.Sprint(h.batches) != "[1 20]" {
		t.Fatalf("commits of %v posts, want the lone post alone, then the 20 waiting ones together", h.batches)
	}
}

// At shutdown the commit running goes through and is acknowledged; posts
// waiting for the next one are refused, not stored, and new posts are
// refused at once.
func TestStopLetsTheRunningCommitFinish(t *testing.T) {
	t.Parallel()
	h := newHeldCommitter(t)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { h.run(ctx); close(stopped) }()
	lone := make(chan error, 1)
	go func() {
		_, err := h.submit(context.Background(), queued("running").ev)
		lone <- err
	}()
	<-h.reached
	waiting := make(chan error, 1)
	go func() {
		_, err := h.submit(context.Background(), queued("waiting").ev)
		waiting <- err
	}()
	for h.waitingPosts() < 1 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	for {
		h.committer.mu.Lock()
		s := h.stopping
		h.committer.mu.Unlock()
		if s {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := h.submit(context.Background(), queued("late").ev); !errors.Is(err, errStopped) {
		t.Errorf("post after stop: %v, want errStopped", err)
	}
	close(h.release)
	if err := <-lone; err != nil {
		t.Errorf("running commit: %v, want it acknowledged", err)
	}
	if err := <-waiting; !errors.Is(err, errStopped) {
		t.Errorf("waiting post: %v, want errStopped", err)
	}
	<-stopped
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.committed["running"] || h.committed["waiting"] || h.committed["late"] {
		t.Fatalf("committed %v, want only the running post", h.committed)
	}
}
