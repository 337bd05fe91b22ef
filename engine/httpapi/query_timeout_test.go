package httpapi_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/server"
)

// TestQueryTimeoutOverHTTP: an appliance that does not answer in time
// gives the caller, through the running engine, a 503 with Retry-After
// naming the appliance, without the appliance's secret; the query's slot
// is free again afterwards (the next query is answered).
func TestQueryTimeoutOverHTTP(t *testing.T) {
	t.Parallel()
	r := newQueryRig(t, beyondtrust.ProductPRA, func(o *server.Options) { o.QueryTimeout = 300 * time.Millisecond })
	from := url.QueryEscape(r.sim.Now().Add(-time.Hour).Format(time.RFC3339))
	path := "/query/sessions?config=1&from=" + from
	r.sim.Inject(bttest.Fault{Path: bttest.PathReporting, Hang: true, Times: 1})
	code, h, raw := r.get(path)
	if code != http.StatusServiceUnavailable {
		t.Fatalf("appliance not answering: %d %s, want 503", code, raw)
	}
	if secs, err := strconv.Atoi(h.Get("Retry-After")); err != nil || secs <= 0 {
		t.Fatalf("appliance not answering: Retry-After %q, want seconds", h.Get("Retry-After"))
	}
	body := string(raw)
	if !strings.Contains(body, "BeyondTrust appliance "+r.sim.Host()) || !strings.Contains(body, "timeout") ||
		strings.Contains(body, r.sim.Options().ClientSecret) {
		t.Fatalf("appliance not answering: %s", raw)
	}
	if code, _, raw := r.get(path); code != http.StatusOK {
		t.Fatalf("the query after the timeout: %d %s", code, raw)
	}
}
