package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/service"
)

// Queries that the appliance does not answer (a slow or hostile one) do
// not pile up: past service.MaxQueries at once, a query is refused at once
// with 503 and Retry-After, instead of holding one more connection to the
// appliance and one more answer in memory for up to the query timeout.
func TestQueriesAtOnceAreBounded(t *testing.T) {
	t.Parallel()
	r := newQueryRig(t, beyondtrust.ProductPRA)
	r.sim.Inject(bttest.Fault{Path: bttest.PathReporting, Op: "Team", Hang: true})
	from := url.QueryEscape(r.sim.Now().Add(-time.Hour).Format(time.RFC3339))
	ctx, cancel := context.WithCancel(context.Background())
	const n = 3 * service.MaxQueries
	var busy atomic.Int64
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	for range n {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, "GET", r.base+"/query/team-activity?config=1&from="+from, nil)
			req.Header.Set("Authorization", "Bearer "+r.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return // cancelled at the end of the test
			}
			defer resp.Body.Close()
			if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "" {
				busy.Add(1)
			}
		})
	}
	deadline := time.Now().Add(20 * time.Second)
	for int64(r.sim.Calls("Team"))+busy.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("after 20 s: %d queries reached the appliance, %d were refused, of %d", r.sim.Calls("Team"), busy.Load(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if calls := r.sim.Calls("Team"); calls > service.MaxQueries {
		t.Fatalf("%d queries waited on the appliance at once; at most %d may", calls, service.MaxQueries)
	}
}
