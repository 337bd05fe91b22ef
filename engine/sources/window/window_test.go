package window

import (
	"errors"
	"testing"
	"time"
)

// Fit halves a window holding too much until it holds no more, never below
// the smallest window, and hands read's error back untouched.
func TestFit(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 16, 10, 0, 0, 0, time.UTC)
	// One record a second for the first 100 s, nothing after.
	count := func(end time.Time) (int, error) { return min(int(end.Sub(start)/time.Second), 100), nil }
	over := func(limit int) func(int, error) bool {
		return func(n int, err error) bool { return err == nil && n > limit }
	}

	end, n, halved, err := Fit(start, start.Add(time.Hour), time.Second, time.Second, count, over(30))
	if err != nil || n > 30 || halved == 0 || end.Sub(start) != time.Duration(n)*time.Second {
		t.Fatalf("end %s, %d records, halved %d, %v", end, n, halved, err)
	}
	if end, n, halved, _ = Fit(start, start.Add(time.Hour), time.Second, time.Second, count, over(1000)); halved != 0 || n != 100 || !end.Equal(start.Add(time.Hour)) {
		t.Fatalf("a window that fits was halved: %s %d %d", end, n, halved)
	}
	// A window of the smallest size is read whole whatever it holds.
	if end, _, _, _ = Fit(start, start.Add(time.Hour), time.Second, time.Second, count, over(0)); end.Sub(start) != time.Second {
		t.Fatalf("halved below the smallest window: %s", end.Sub(start))
	}
	// An odd span never halves to nothing.
	if end, _, _, _ = Fit(start, start.Add(1500*time.Millisecond), time.Second, time.Second, count, over(0)); end.Sub(start) != time.Second {
		t.Fatalf("1.5 s window halved to %s", end.Sub(start))
	}
	boom := errors.New("boom")
	if _, _, halved, err = Fit(start, start.Add(time.Hour), time.Second, time.Second,
		func(time.Time) (int, error) { return 0, boom }, over(0)); !errors.Is(err, boom) || halved != 0 {
		t.Fatalf("error %v, halved %d", err, halved)
	}
}
