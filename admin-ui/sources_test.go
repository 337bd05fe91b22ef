package adminui

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The Polling page lists each source's state next to the configurations.
func TestPollingPageShowsSources(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	st := h.srv.Store
	now := time.Now()
	if _, _, err := st.AcquireSourceLease(context.Background(), "pmcloud/acme-epm", "test", now, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordSourceError(context.Background(), "pmcloud/acme-epm", "test", now, "pmcloud: GET Events/FromStartDate: 500 Internal Server Error"); err != nil {
		t.Fatal(err)
	}
	rec := h.get("/polling")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	for _, want := range []string{"Sources", "pmcloud/acme-epm", "500 Internal Server Error", "0 / 0"} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("the Polling page lacks %q", want)
		}
	}
}
