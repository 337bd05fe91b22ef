package beyondtrust_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
)

// TestRateLimitRetriesAfter: the appliance's 429 asks the dispatcher to wait
// (engine.RetryAfter, no attempt spent), for as long as Retry-After says,
// never less than a second, and a default when it says nothing useful.
func TestRateLimitRetriesAfter(t *testing.T) {
	t.Parallel()
	a := newAppliance(t)
	lsid := script(a)
	now := time.Now()
	tests := []struct {
		name, header string
		want         time.Duration
	}{
		{"seconds", "7", 7 * time.Second},
		{"zero has a floor", "0", time.Second},
		{"negative has a floor", "-5", beyondtrust.DefaultRetryAfter},
		{"absent", "", beyondtrust.DefaultRetryAfter},
		{"garbage", "soon", beyondtrust.DefaultRetryAfter},
		{"huge is capped", "999999999", beyondtrust.MaxRetryAfter},
		{"HTTP date", now.Add(time.Hour).UTC().Format(http.TimeFormat), time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Not parallel: faults are appliance-wide.
			a.Inject(bttest.Fault{Path: bttest.PathReporting, Status: http.StatusTooManyRequests, RetryAfter: tt.header, Times: 1})
			defer a.ClearFaults()
			_, err := beyondtrust.NewClient(a.Options(), nil).Session(context.Background(), lsid)
			var e *beyondtrust.Error
			if !errors.As(err, &e) || e.Kind != beyondtrust.KindRateLimited {
				t.Fatalf("got %v, want a rate-limited *beyondtrust.Error", err)
			}
			out, after := engine.Classify(err)
			if out != engine.OutcomeRetryAfter {
				t.Fatalf("Classify = %v, want %v", out, engine.OutcomeRetryAfter)
			}
			// An HTTP date is read against the clock: allow the seconds
			// this test may take.
			if after > tt.want || after < tt.want-time.Minute || (tt.header != "" && !strings.Contains(tt.header, " ") && after != tt.want) {
				t.Errorf("wait %v, want %v", after, tt.want)
			}
			// Wrapped the way a plugin wraps it, the wait survives.
			if out, _ := engine.Classify(errors.Join(errors.New("autotask: fetch session"), err)); out != engine.OutcomeRetryAfter {
				t.Errorf("wrapped: Classify = %v", out)
			}
		})
	}
}

// TestSessionWithoutLSID: a report whose session carries no lsid cannot be
// matched to the event that asked for it; that is a permanent error that
// says so, not a "not found yet" retried until the attempts run out.
func TestSessionWithoutLSID(t *testing.T) {
	t.Parallel()
	a := newAppliance(t)
	a.Inject(bttest.Fault{Path: bttest.PathReporting, Status: http.StatusOK, Body: `<session_list xmlns="` + beyondtrust.NamespaceRSReporting + `"><session><session_type>support</session_type><lseq>4</lseq></session></session_list>`})
	lsid := "0123456789abcdef0123456789abcdef"
	_, err := beyondtrust.NewClient(a.Options(), nil).Session(context.Background(), lsid)
	if err == nil {
		t.Fatal("no error")
	}
	if out, _ := engine.Classify(err); out != engine.OutcomePermanent {
		t.Errorf("Classify = %v, want permanent (%v)", out, err)
	}
	if errors.Is(err, beyondtrust.ErrNotFound) {
		t.Errorf("%v reads as not found, which is retried", err)
	}
	for _, want := range []string{lsid, "no lsid"} {
		if !strings.Contains(err.Error(), want) || !strings.Contains(beyondtrust.Explain(err), "no lsid") {
			t.Errorf("error %q / %q does not say %q", err, beyondtrust.Explain(err), want)
		}
	}
}
