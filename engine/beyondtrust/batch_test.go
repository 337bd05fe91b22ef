package beyondtrust_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
)

// TestConcurrentFetchesShareCalls: Session calls made while another is in
// flight share the next report call, each caller still getting its own
// session, and an lsid the shared answer lacks gets the error it would get
// alone.
func TestConcurrentFetchesShareCalls(t *testing.T) {
	t.Parallel()
	a := newAppliance(t, bttest.WithLatency(20*time.Millisecond))
	const n = 24
	lsids := make([]string, n)
	for i := range lsids {
		lsids[i] = a.Begin(bttest.SessionSpec{
			ExternalKey: fmt.Sprintf("T%04d", i),
			Customer:    &bttest.Customer{Name: "Dana"},
			Rep:         bttest.Rep{ID: "14", Username: "amorgan", DisplayName: "Alex Morgan"},
		}).After(time.Minute).End().LSID()
	}
	unknown := "0123456789abcdef0123456789abcdef"
	c := beyondtrust.NewClient(a.Options(), nil)
	if err := c.Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, n+1)
	for i := range n + 1 {
		wg.Go(func() {
			lsid := unknown
			if i < n {
				lsid = lsids[i]
			}
			s, err := c.Session(t.Context(), lsid)
			switch {
			case i == n:
				if !errors.Is(err, beyondtrust.ErrNotFound) {
					errs[i] = fmt.Errorf("unknown lsid: %v, want not found", err)
				}
			case err != nil:
				errs[i] = err
			case s.LSID != lsid || s.ExternalKey != fmt.Sprintf("T%04d", i):
				errs[i] = fmt.Errorf("asked for %s (T%04d), got %s (%s)", lsid, i, s.LSID, s.ExternalKey)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	// At most: the first call alone, a shared one for the others, and the
	// unknown lsid asked again alone; a few more if the goroutines start
	// late, but far fewer than one per session.
	if calls := a.Calls("SupportSession"); calls > n/2 {
		t.Errorf("%d report calls for %d concurrent fetches, want them shared", calls, n+1)
	}
	conns := a.Connections()
	if conns.Opened != conns.Requests {
		t.Errorf("%d requests over %d connections, want one connection per call", conns.Requests, conns.Opened)
	}
}

// TestLoneFetchGoesAtOnce: a fetch with none in flight is one call of its
// own, however many were shared before.
func TestLoneFetchGoesAtOnce(t *testing.T) {
	t.Parallel()
	a := newAppliance(t)
	lsid := script(a)
	c := beyondtrust.NewClient(a.Options(), nil)
	for i := range 3 {
		if _, err := c.Session(t.Context(), lsid); err != nil {
			t.Fatal(err)
		}
		if calls := a.Calls("SupportSession"); calls != i+1 {
			t.Fatalf("%d report calls after %d fetches one at a time", calls, i+1)
		}
	}
}

// TestFailedSharedCallFetchesAlone: when the shared call fails (here a
// malformed answer), each of its fetches is asked again alone, so one bad
// answer fails only the callers whose own call got it.
func TestFailedSharedCallFetchesAlone(t *testing.T) {
	t.Parallel()
	a := newAppliance(t, bttest.WithLatency(50*time.Millisecond))
	const n = 12
	lsids := make([]string, n)
	for i := range lsids {
		lsids[i] = a.Begin(bttest.SessionSpec{Customer: &bttest.Customer{Name: "Dana"}, Rep: bttest.Rep{Username: "amorgan"}}).
			After(time.Minute).End().LSID()
	}
	c := beyondtrust.NewClient(a.Options(), nil)
	if err := c.Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The first two report calls: the one that went alone and the shared one.
	a.Inject(bttest.Fault{Path: bttest.PathReporting, Op: "SupportSession", Times: 2, Body: "<session_list><session"})
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	for i := range n {
		wg.Go(func() {
			s, err := c.Session(t.Context(), lsids[i])
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				failed++
			case s.LSID != lsids[i]:
				t.Errorf("asked for %s, got %s", lsids[i], s.LSID)
			}
		})
	}
	wg.Wait()
	if failed == 0 || failed > 2 {
		t.Errorf("%d of %d fetches failed, want only those whose own call got the malformed answer (1 or 2)", failed, n)
	}
}
