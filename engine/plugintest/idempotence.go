package plugintest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"switchboard/engine"
)

// IdempotenceCase is one delivery whose handling makes external writes,
// for RunIdempotence.
type IdempotenceCase struct {
	Name string
	// New sets up a fresh remote (a simulator with its fixtures) and a
	// delivery for it. Every request the plugin makes to the remote must go
	// through hc: the kit loses answers and pauses attempts there.
	New func(t *testing.T, hc *http.Client) Scenario
}

// Scenario is one delivery against one fresh remote.
type Scenario struct {
	// NewPlugin returns the plugin as a freshly started engine process
	// holds it (nothing cached in memory), sending its remote requests
	// through the kit's client. Every attempt gets its own, so that what
	// keeps a write from being repeated is what survives a crash: the
	// checkpoint, the links and the remote itself.
	NewPlugin func() engine.Plugin
	// Job returns the delivery's job: event, settings, appliance client,
	// templates. The kit sets Attempt, Checkpoint, Links and Lease.
	Job func() *engine.Job
	// Writes counts the external writes the remote holds for this
	// delivery, by kind ("note", "time entry", "ticket").
	Writes func() map[string]int
}

// RunIdempotence is the idempotence half of the conformance kit, after
// invariant 5 ("re-running any delivery any number of times yields one
// note") and 8 (fenced attempts). For each case it runs the delivery once to
// learn the writes it makes and the remote requests it needs, then, each on
// a fresh remote, and for every request k of that run:
//
//   - the answer to request k is lost after the remote carried it out
//     (a 5xx or a timeout after the write); the delivery is run again with
//     its checkpoint as saved, and again with checkpoint and links lost;
//   - the attempt is paused before request k, and again after the remote
//     answered it, its lease is lost (its context cancelled with
//     engine.ErrLeaseLost as the cause, its checkpoint and link writes
//     refused), a second attempt runs the delivery to the end, and then the
//     first one resumes;
//
// and for every checkpoint save s, the process dies during save s (the
// write is made, its record is not) and the delivery is run again. Each
// time, the remote must end with exactly the writes of the first run: one
// of each. A rerun of the finished delivery, with its checkpoint and with
// everything local lost, must add nothing either.
func RunIdempotence(t *testing.T, cases []IdempotenceCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			runIdempotence(t, c)
		})
	}
}

func runIdempotence(t *testing.T, c IdempotenceCase) {
	// The reference run: no fault, one attempt, all done.
	sc := c.New(t, newGate().client())
	l := newLedger()
	a := &attempt{}
	if out, err := l.run(sc, a); out != engine.OutcomeDone {
		t.Fatalf("the delivery does not succeed without faults: %v (%v)", out, err)
	}
	want := sc.Writes()
	if len(want) == 0 {
		t.Fatal("the delivery makes no external write; give a case that does")
	}
	for kind, n := range want {
		if n != 1 {
			t.Fatalf("the first run made %d writes of %s, want 1", n, kind)
		}
	}
	requests, saves := a.requests(), l.saveCount()
	if requests == 0 {
		t.Fatal("the plugin sent no request through the kit's HTTP client")
	}
	for _, lose := range []bool{false, true} {
		if lose {
			l.forget()
		}
		if out, err := l.run(sc, &attempt{}); out != engine.OutcomeDone && out != engine.OutcomeSkipped {
			t.Fatalf("rerun of the finished delivery (local state lost: %v): %v (%v)", lose, out, err)
		}
		check(t, fmt.Sprintf("rerun of the finished delivery (local state lost: %v)", lose), sc, want)
	}

	for k := 1; k <= requests; k++ {
		for _, lose := range []bool{false, true} {
			name := fmt.Sprintf("answer to request %d lost after the remote carried it out, rerun with checkpoint %s", k, map[bool]string{false: "kept", true: "lost"}[lose])
			sc := c.New(t, newGate().client())
			l := newLedger()
			_, _ = l.run(sc, &attempt{failAfter: k})
			if lose {
				l.forget()
			}
			l.finish(t, name, sc)
			check(t, name, sc, want)
		}
		for _, after := range []bool{false, true} {
			name := fmt.Sprintf("lease lost while paused before request %d, a second attempt runs", k)
			if after {
				name = fmt.Sprintf("lease lost while paused after the remote answered request %d, a second attempt runs", k)
			}
			sc := c.New(t, newGate().client())
			race(t, name, sc, k, after)
			check(t, name, sc, want)
		}
	}
	for s := 1; s <= saves; s++ {
		name := fmt.Sprintf("crash during checkpoint save %d", s)
		sc := c.New(t, newGate().client())
		l := newLedger()
		l.crashAt = s
		_, _ = l.run(sc, &attempt{})
		l.crashAt = 0
		l.finish(t, name, sc)
		check(t, name, sc, want)
	}
}

func check(t *testing.T, name string, sc Scenario, want map[string]int) {
	t.Helper()
	if got := sc.Writes(); !maps.Equal(got, want) {
		t.Errorf("%s: the remote holds %v, want %v", name, got, want)
	}
}

// race pauses attempt A at request k, loses its lease, runs attempt B to
// the end and then lets A go on.
func race(t *testing.T, name string, sc Scenario, k int, after bool) {
	t.Helper()
	l := newLedger()
	a := &attempt{paused: make(chan struct{}), resume: make(chan struct{})}
	if after {
		a.pauseAfter = k
	} else {
		a.pauseBefore = k
	}
	doneA := make(chan struct{})
	ctx, cancelA := context.WithCancelCause(context.Background())
	defer cancelA(nil)
	tokA := l.claim()
	go func() {
		defer close(doneA)
		_, _ = l.handle(ctx, sc, a, tokA)
	}()
	select {
	case <-a.paused:
	case <-doneA:
		// A finished (or failed) before request k: nothing to race.
	}
	// The lease runs out: another claim takes the delivery, and A learns
	// it the way the dispatcher tells it, by its context.
	l.claim()
	cancelA(engine.ErrLeaseLost)
	l.finish(t, name+" (attempt B)", sc)
	close(a.resume)
	<-doneA
}

// ledger is the store's side of one delivery: its checkpoint and links,
// and the fencing token of the attempt that holds it.
type ledger struct {
	mu      sync.Mutex
	values  map[string]string
	links   map[string]string
	token   int
	saves   int
	crashAt int // the save that never commits (the process died)
}

func newLedger() *ledger {
	return &ledger{values: map[string]string{}, links: map[string]string{}}
}

// claim starts a new attempt and returns its fencing token.
func (l *ledger) claim() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.token++
	return l.token
}

// forget loses every local record: checkpoint and links.
func (l *ledger) forget() {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.values)
	clear(l.links)
}

func (l *ledger) saveCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.saves
}

// errCrashed is what a save returns in the crash case: to the plugin the
// store became unreachable; in truth the process is gone.
var errCrashed = errors.New("plugintest: the process died while saving the checkpoint")

func (l *ledger) fenced(token int) error {
	if token != l.token {
		return fmt.Errorf("plugintest: attempt %d writes after attempt %d claimed the delivery: %w", token, l.token, engine.ErrLeaseLost)
	}
	return nil
}

func (l *ledger) save(token int, v map[string]string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.fenced(token); err != nil {
		return err
	}
	l.saves++
	if l.saves == l.crashAt {
		return errCrashed
	}
	l.values = maps.Clone(v)
	return nil
}

// run claims the delivery and runs one attempt to its end.
func (l *ledger) run(sc Scenario, a *attempt) (engine.Outcome, error) {
	return l.handle(context.Background(), sc, a, l.claim())
}

func (l *ledger) handle(ctx context.Context, sc Scenario, a *attempt, token int) (engine.Outcome, error) {
	job := sc.Job()
	l.mu.Lock()
	values := maps.Clone(l.values)
	l.mu.Unlock()
	job.Attempt = token
	job.Checkpoint = engine.NewCheckpoint(values, func(_ context.Context, v map[string]string) error { return l.save(token, v) })
	job.Links = fencedLinks{l: l, token: token}
	job.Lease = fencedLease{l: l, token: token}
	err := sc.NewPlugin().Handle(context.WithValue(ctx, attemptKey{}, a), job)
	out, _ := engine.Classify(err)
	return out, err
}

// finish runs attempts until the delivery is done (or skipped: nothing
// left to do), as the dispatcher would retry it.
func (l *ledger) finish(t *testing.T, name string, sc Scenario) {
	t.Helper()
	var last error
	for range 5 {
		out, err := l.run(sc, &attempt{})
		if out == engine.OutcomeDone || out == engine.OutcomeSkipped {
			return
		}
		last = err
	}
	t.Errorf("%s: the delivery did not finish in 5 attempts; last error: %v", name, last)
}

type fencedLinks struct {
	l     *ledger
	token int
}

func linkKey(configID int64, lsid, kind string) string {
	return strconv.FormatInt(configID, 10) + "|" + lsid + "|" + kind
}

func (f fencedLinks) Link(_ context.Context, configID int64, lsid, kind string) (string, bool, error) {
	f.l.mu.Lock()
	defer f.l.mu.Unlock()
	v, ok := f.l.links[linkKey(configID, lsid, kind)]
	return v, ok, nil
}

func (f fencedLinks) SetLink(_ context.Context, configID int64, lsid, kind, value string) error {
	f.l.mu.Lock()
	defer f.l.mu.Unlock()
	if err := f.l.fenced(f.token); err != nil {
		return err
	}
	f.l.links[linkKey(configID, lsid, kind)] = value
	return nil
}

type fencedLease struct {
	l     *ledger
	token int
}

func (f fencedLease) Check(context.Context) error {
	f.l.mu.Lock()
	defer f.l.mu.Unlock()
	return f.l.fenced(f.token)
}

// attempt is what the gate does to one attempt's requests, numbered from 1
// in the order they are sent.
type attempt struct {
	failAfter   int // lose this request's answer after the remote carried it out
	pauseBefore int // hold this request until resume, then send it unless cancelled
	pauseAfter  int // hold this request's answer until resume
	paused      chan struct{}
	resume      chan struct{}

	mu sync.Mutex
	n  int
}

type attemptKey struct{}

func (a *attempt) next() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n++
	return a.n
}

func (a *attempt) requests() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n
}

// errAnswerLost is what the plugin sees when the gate drops an answer.
var errAnswerLost = errors.New("plugintest: connection reset after the request was sent")

// gate is the transport the plugin's remote requests go through.
type gate struct{ base http.RoundTripper }

func newGate() *gate { return &gate{base: http.DefaultTransport.(*http.Transport).Clone()} }

func (g *gate) client() *http.Client { return &http.Client{Transport: g} }

func (g *gate) RoundTrip(req *http.Request) (*http.Response, error) {
	a, _ := req.Context().Value(attemptKey{}).(*attempt)
	if a == nil {
		return g.base.RoundTrip(req)
	}
	k := a.next()
	if k == a.pauseBefore {
		// A paused process: it sends the request only when it runs again,
		// and a transport does not send for a cancelled context.
		close(a.paused)
		<-a.resume
		if err := req.Context().Err(); err != nil {
			return nil, context.Cause(req.Context())
		}
	}
	resp, err := g.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if k != a.failAfter && k != a.pauseAfter {
		return resp, nil
	}
	// The remote has answered, so whatever it does is done.
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if k == a.failAfter {
		return nil, errAnswerLost
	}
	// Paused with the answer in hand: once resumed, the plugin reads it
	// and must still stop, as its lease was lost meanwhile.
	close(a.paused)
	<-a.resume
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}
