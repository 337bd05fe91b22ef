package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/store"
)

// sessionOverlap runs each delivery for a moment and notes a session
// whose deliveries ran side by side, whichever engine ran them.
type sessionOverlap struct {
	mu      sync.Mutex
	running map[string]int
	ran     map[string]int
	overlap []string
}

func (p *sessionOverlap) Info() engine.Info {
	return engine.Info{ID: "overlap", Name: "Overlap", Events: []string{engine.EventSessionEnd, engine.EventMemberAdded},
		NewSettings: func() any { return &countingSettings{} }}
}

func (p *sessionOverlap) Handle(ctx context.Context, job *engine.Job) error {
	lsid := job.Event.LSID
	p.mu.Lock()
	p.running[lsid]++
	if p.running[lsid] > 1 {
		p.overlap = append(p.overlap, fmt.Sprintf("%s (event %d)", lsid, job.Event.ID))
	}
	p.mu.Unlock()
	select {
	case <-time.After(20 * time.Millisecond):
	case <-ctx.Done():
	}
	p.mu.Lock()
	p.running[lsid]--
	p.ran[lsid]++
	p.mu.Unlock()
	return nil
}

// Two engines on one PostgreSQL database each take posts of the same
// sessions at the same moment, claiming their deliveries at insert: a
// session's deliveries still run one at a time, each once.
func TestTwoEnginesClaimingAtInsertKeepSessionsOneAtATime(t *testing.T) {
	t.Parallel()
	p := &sessionOverlap{running: map[string]int{}, ran: map[string]int{}}
	opts := clusterOptions(t, p)
	first := startWith(t, opts())
	status, body := api(t, first, http.MethodPost, "/api/v1/configurations", map[string]any{
		"plugin": "overlap", "appliance": map[string]any{"name": "Acme", "host": "support.example.com"},
		"settings": map[string]any{"token": "t"},
	})
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	engines := []*Server{first, startWith(t, opts())}
	const sessions, perEngine = 4, 6
	var wg sync.WaitGroup
	for e, s := range engines {
		for sess := range sessions {
			wg.Go(func() {
				for i := range perEngine {
					resp, err := http.PostForm(s.IntakeURL()+"/ERSPost?appliance=Default", url.Values{
						"event": {engine.EventMemberAdded}, "lsid": {fmt.Sprint("S", sess)},
						"timestamp": {fmt.Sprint(1700000000 + e*100 + i)}, "seq": {fmt.Sprint(e, "-", i)}})
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						t.Errorf("post to engine %d: %d", e, resp.StatusCode)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	const want = sessions * perEngine * 2
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		st, err := first.Store.Stats(context.Background(), time.Now())
		if err == nil && st.ByState[store.StateDone] == want {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	total := 0
	for _, n := range p.ran {
		total += n
	}
	if total != want {
		t.Errorf("%d deliveries ran, want %d", total, want)
	}
	for _, o := range p.overlap {
		t.Errorf("session %s ran beside another delivery of its session", o)
	}
}
