package alert

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"switchboard/engine/outbound"
	"switchboard/engine/store"
)

// failures is a Store with failed deliveries and poll cursors set by the
// test; FailedSince keeps the store's half-open window.
type failures struct {
	mu      sync.Mutex
	failed  []failedAt
	cursors []store.PollCursor
}

type failedAt struct {
	config int64
	at     time.Time
	err    string
}

func (f *failures) add(config int64, at time.Time, err string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failed = append(f.failed, failedAt{config, at, err})
}

func (f *failures) FailedSince(_ context.Context, since time.Time) ([]store.FailedDelivery, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.FailedDelivery
	for i, x := range f.failed {
		if !x.at.Before(since) {
			out = append(out, store.FailedDelivery{ID: int64(i + 1), ConfigID: x.config, FinishedAt: x.at.UnixMilli(), LastError: x.err})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].FinishedAt < out[j].FinishedAt })
	return out, nil
}

func (f *failures) ListPollCursors(context.Context) ([]store.PollCursor, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]store.PollCursor(nil), f.cursors...), nil
}

// receiver is an HTTPS webhook endpoint that checks every signature.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	got     []Notice
	refuse  bool
	badSigs int
}

func newReceiver(t *testing.T, secret string) *receiver {
	r := &receiver{}
	r.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		ts, _ := strconv.ParseInt(req.Header.Get(outbound.HeaderTimestamp), 10, 64)
		r.mu.Lock()
		defer r.mu.Unlock()
		if req.Header.Get(outbound.HeaderSignature) != outbound.Sign(secret, ts, body) {
			r.badSigs++
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if r.refuse {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		var n Notice
		if err := json.Unmarshal(body, &n); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.got = append(r.got, n)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) notices() []Notice {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Notice(nil), r.got...)
}

func (r *receiver) setRefuse(v bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refuse = v
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time               { return c.t }
func (c *clock) advance(d time.Duration)      { c.t = c.t.Add(d) }
func (c *clock) at(d time.Duration) time.Time { return c.t.Add(d) }

func newWatcher(st Store, c *clock, r *receiver, targets ...Target) *Watcher {
	return New(Options{Store: st, Targets: func() []Target { return targets }, Webhook: NewWebhook(r.Client()), Now: c.now, AdminURL: "https://sb.example.com"})
}

func TestFailuresToldOnceEachIntervalAndCountedIntoTheNext(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newReceiver(t, "s3cret")
	c := &clock{t: time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)}
	st := &failures{}
	target := Target{ConfigID: 7, Name: "Acme", Plugin: "autotask", Webhook: r.URL + "/hook", Secret: "s3cret", Every: time.Hour}
	w := newWatcher(st, c, r, target, Target{ConfigID: 8, Name: "quiet", Webhook: r.URL, Secret: "s3cret", Every: time.Hour})
	start := c.t

	st.add(7, c.at(10*time.Second), "autotask: ticket T1 not found")
	c.advance(time.Minute)
	if err := w.Check(ctx); err != nil {
		t.Fatal(err)
	}
	got := r.notices()
	if len(got) != 1 || got[0].Kind != KindDeliveriesFailed || got[0].ConfigID != 7 || got[0].Count != 1 || !got[0].Since.Equal(start.Add(10*time.Second)) ||
		got[0].LastError != "autotask: ticket T1 not found" || got[0].URL != "https://sb.example.com/events?config=7&state=failed" {
		t.Fatalf("first alert: %+v", got)
	}

	// Two more fail within the hour: not told yet, and not lost.
	second := c.t
	st.add(7, c.at(5*time.Second), "a")
	st.add(7, c.at(20*time.Minute), "b")
	for range 3 {
		c.advance(25 * time.Minute)
		if err := w.Check(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got = r.notices()
	if len(got) != 2 || got[1].Count != 2 || got[1].LastError != "b" || !got[1].Since.Equal(second.Add(5*time.Second)) {
		t.Fatalf("after the hour: %+v", got)
	}

	// A receiver that fails keeps the failures for the next check.
	r.setRefuse(true)
	st.add(7, c.at(time.Second), "c")
	c.advance(61 * time.Minute)
	if err := w.Check(ctx); err != nil {
		t.Fatal(err)
	}
	r.setRefuse(false)
	st.add(7, c.at(time.Second), "d")
	c.advance(time.Minute)
	if err := w.Check(ctx); err != nil {
		t.Fatal(err)
	}
	got = r.notices()
	if len(got) != 3 || got[2].Count != 2 || got[2].LastError != "d" {
		t.Fatalf("after a refused send: %+v", got)
	}
	if r.badSigs != 0 {
		t.Fatalf("%d alerts carried a wrong signature", r.badSigs)
	}
}

func TestPollingFailingToldAfterThreshold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newReceiver(t, "k")
	c := &clock{t: time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)}
	lastOK := c.at(-20 * time.Minute)
	st := &failures{cursors: []store.PollCursor{{ConfigID: 3, LastSuccessAt: lastOK.UnixMilli(), LastError: "beyondtrust: 401 invalid_client"}}}
	w := newWatcher(st, c, r, Target{ConfigID: 3, Name: "Poller", Webhook: r.URL, Secret: "k", Every: time.Hour, PollingAfter: 30 * time.Minute, Polls: true})

	if err := w.Check(ctx); err != nil || len(r.notices()) != 0 {
		t.Fatalf("before the threshold: %+v %v", r.notices(), err)
	}
	for range 3 {
		c.advance(11 * time.Minute)
		if err := w.Check(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got := r.notices()
	if len(got) != 1 || got[0].Kind != KindPollingFailing || !got[0].Since.Equal(lastOK) || got[0].LastError != "beyondtrust: 401 invalid_client" {
		t.Fatalf("after the threshold, checked three times: %+v", got)
	}
	// Recovered: nothing more, even after the interval.
	st.mu.Lock()
	st.cursors[0].LastError, st.cursors[0].LastSuccessAt = "", c.t.UnixMilli()
	st.mu.Unlock()
	c.advance(2 * time.Hour)
	if err := w.Check(ctx); err != nil || len(r.notices()) != 1 {
		t.Fatalf("after recovery: %+v %v", r.notices(), err)
	}
}

func TestOnlyTheLeaderAlerts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newReceiver(t, "k")
	c := &clock{t: time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)}
	st := &failures{}
	leader := false
	w := New(Options{Store: st, Now: c.now, Webhook: NewWebhook(r.Client()), Leader: func(context.Context) bool { return leader },
		Targets: func() []Target { return []Target{{ConfigID: 1, Webhook: r.URL, Secret: "k", Every: time.Minute}} }})
	st.add(1, c.at(time.Second), "x")
	c.advance(time.Minute)
	if err := w.Check(ctx); err != nil || len(r.notices()) != 0 {
		t.Fatalf("not the leader: %+v %v", r.notices(), err)
	}
	// Taking over does not tell what the other engine already told.
	leader = true
	st.add(1, c.at(time.Second), "y")
	c.advance(time.Minute)
	if err := w.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if got := r.notices(); len(got) != 1 || got[0].Count != 1 || got[0].LastError != "y" {
		t.Fatalf("after taking over: %+v", got)
	}
}

// TestAFailureCommittedLateIsCounted: a delivery's end time is taken before
// its transaction commits, so a check can read past that time before the
// row is visible. The next check still counts it, once.
func TestAFailureCommittedLateIsCounted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newReceiver(t, "k")
	c := &clock{t: time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)}
	st := &failures{}
	w := newWatcher(st, c, r, Target{ConfigID: 1, Name: "Acme", Webhook: r.URL, Secret: "k", Every: time.Minute})
	c.advance(time.Minute)
	if err := w.Check(ctx); err != nil || len(r.notices()) != 0 {
		t.Fatalf("nothing failed yet: %+v %v", r.notices(), err)
	}
	// It ended a second before that check, and committed after it.
	st.add(1, c.at(-time.Second), "late")
	for range 3 {
		c.advance(time.Minute)
		if err := w.Check(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := r.notices(); len(got) != 1 || got[0].Count != 1 || got[0].LastError != "late" {
		t.Fatalf("alerts %+v, want the late failure told once", got)
	}
}

// TestWebhookFollowsNoRedirect: the signed alert goes only to the
// configured URL; a receiver answering 3xx gets the alert retried, and
// the redirect target sees nothing.
func TestWebhookFollowsNoRedirect(t *testing.T) {
	t.Parallel()
	other := newReceiver(t, "k")
	hop := httptest.NewTLSServer(http.RedirectHandler(other.URL, http.StatusTemporaryRedirect))
	t.Cleanup(hop.Close)
	err := NewWebhook(hop.Client()).Send(context.Background(), hop.URL, "k", Notice{Kind: KindDeliveriesFailed})
	if err == nil {
		t.Fatal("a redirected alert counted as sent")
	}
	if got := other.notices(); len(got) != 0 {
		t.Fatalf("the redirect target received %+v", got)
	}
}
