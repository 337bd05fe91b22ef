package outbound

import (
	"net/http"
	"testing"
	"time"
)

func TestClassifyTable(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		status     int
		retryAfter string
		want       Verdict
	}{
		{200, "", Verdict{Class: OK}},
		{204, "", Verdict{Class: OK}},
		{301, "", Verdict{Class: Permanent}},
		{400, "", Verdict{Class: Permanent}},
		{401, "", Verdict{Class: Permanent}},
		{404, "", Verdict{Class: Permanent}},
		{408, "", Verdict{Class: Retry}},
		{425, "", Verdict{Class: Retry}},
		{429, "", Verdict{Class: RetryLater, Wait: DefaultRetryAfter}},
		{429, "7", Verdict{Class: RetryLater, Wait: 7 * time.Second}},
		{429, "0", Verdict{Class: RetryLater, Wait: MinRetryAfter}},
		{429, "-3", Verdict{Class: RetryLater, Wait: DefaultRetryAfter}},
		{429, "99999999", Verdict{Class: RetryLater, Wait: MaxRetryAfter}},
		{429, now.Add(90 * time.Second).Format(http.TimeFormat), Verdict{Class: RetryLater, Wait: 90 * time.Second}},
		{429, now.Add(-time.Hour).Format(http.TimeFormat), Verdict{Class: RetryLater, Wait: MinRetryAfter}},
		{429, "soon", Verdict{Class: RetryLater, Wait: DefaultRetryAfter}},
		{500, "", Verdict{Class: Retry}},
		{503, "5", Verdict{Class: Retry}},
		{599, "", Verdict{Class: Retry}},
		{600, "", Verdict{Class: Permanent}},
	}
	for _, tc := range cases {
		h := http.Header{}
		if tc.retryAfter != "" {
			h.Set("Retry-After", tc.retryAfter)
		}
		if got := Classify(tc.status, h, now, 0); got != tc.want {
			t.Errorf("%d Retry-After %q: %+v, want %+v", tc.status, tc.retryAfter, got, tc.want)
		}
	}
	if got := RetryAfter("", now, 10*time.Second); got != 10*time.Second {
		t.Errorf("fallback: %s", got)
	}
}
