package intake

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"switchboard/engine/store"
	"switchboard/engine/store/pgtest"
)

// A well-formed post whose external_key or survey timestamp holds a NUL
// byte or bytes that are not UTF-8 gets 200 on PostgreSQL too, and its
// resend is a duplicate: a 503 would come back at every resend and stall
// the appliance (invariant 2). The posted bytes stay in the fields.
func TestOddBytesAreAcknowledgedOnPostgres(t *testing.T) {
	t.Parallel()
	st, err := store.Open(context.Background(), pgtest.URL(t), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	f := newFixtureOn(t, st, 0)
	posts := []url.Values{
		{"event": {"support_conference_end"}, "lsid": {"odd-key"}, "timestamp": {"1733240467"}, "external_key": {"T\x00\xff"}},
		{"event": {"support_conference_customer_exit_survey_completed"}, "lsid": {"odd-ts"}, "timestamp": {"17\x00\xfe"}},
	}
	for _, form := range posts {
		for round := range 2 {
			if status, body := f.post(t, "", form); status != http.StatusOK {
				t.Fatalf("%s, post %d: %d %q", form.Get("lsid"), round, status, body)
			}
		}
	}
	evs := f.events(t)
	if len(evs) != len(posts) {
		t.Fatalf("%d events stored, want %d (each resend a duplicate)", len(evs), len(posts))
	}
	for _, e := range evs {
		if e.LSID == "odd-key" && e.Values().Get("external_key") != "T\x00\xff" {
			t.Errorf("posted bytes not kept in the fields: %q", e.Values().Get("external_key"))
		}
	}
}
