package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestSteadySplitsTheGeneratorsShare holds the steady run's accounting:
// every post has the time it was handed out after being due and the time it
// was written, the first never after the second, and the answer's latency
// (from the due time) never below the time it was written.
func TestSteadySplitsTheGeneratorsShare(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		_, _ = w.Write([]byte("OK\n"))
	}))
	defer srv.Close()
	st := steady([]string{srv.URL}, 1000, 200*time.Millisecond)
	if st.failed != 0 || st.acked != 200 {
		t.Fatalf("acked %d, failed %d, want 200 and 0", st.acked, st.failed)
	}
	if len(st.sched) != 200 || len(st.late) != 200 {
		t.Fatalf("%d handed-out and %d written times, want 200 each", len(st.sched), len(st.late))
	}
	for i := range st.sched {
		if st.sched[i] > st.late[i] {
			t.Errorf("post %d handed out %v after due but written %v after due", i, st.sched[i], st.late[i])
		}
	}
	if late, lat := (result{latencies: st.late}).percentile(1), st.percentile(1); late > lat {
		t.Errorf("latest write %v after due, but the slowest answer only %v", late, lat)
	}
}
