package bttest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"switchboard/engine/beyondtrust"
)

// recipient records posted events and refuses the first refuse of them.
type recipient struct {
	mu     sync.Mutex
	refuse int
	got    []url.Values
	tries  int
}

func (r *recipient) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if err := req.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tries++
	if r.refuse > 0 {
		r.refuse--
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	r.got = append(r.got, req.PostForm)
}

func events(list []url.Values) []string {
	var out []string
	for _, f := range list {
		out = append(out, f.Get("event")+":"+f.Get("type"))
	}
	return out
}

func TestSenderHoldsQueueAndRetriesHead(t *testing.T) {
	t.Parallel()
	rec := &recipient{refuse: 3}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	a := New(WithApplianceID("site-1"))
	defer a.Close()
	sender := a.SendOutbound(srv.URL+"/?appliance=site-1", RetryInterval(5*time.Millisecond))

	l := a.Begin(SessionSpec{ExternalKey: "T1", Customer: &Customer{Name: "Dana", Username: "dana"}, Rep: Rep{ID: "14", Username: "alex", DisplayName: "Alex"}})
	l.Chat("Dana", "hello").End().CustomerSurvey(beyondtrust.SurveyAnswer{Name: "rating", Value: "5"})

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := sender.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"support_conference_begin:",
		"support_conference_member_added:customer",
		"support_conference_member_added:representative",
		"support_conference_end:",
		"support_conference_customer_exit_survey_completed:",
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if got := events(rec.got); !slices.Equal(got, want) {
		t.Errorf("recipient got %v, want %v in order", got, want)
	}
	if rec.tries != len(want)+3 || sender.Attempts() != len(want)+3 {
		t.Errorf("%d tries at the recipient, %d attempts by the sender; want %d", rec.tries, sender.Attempts(), len(want)+3)
	}
	f := rec.got[2]
	for k, v := range map[string]string{"appliance_id": "site-1", "lsid": l.LSID(), "external_key": "T1", "version": OutboundVersion, "username": "alex", "user_id": "14", "display_name": "Alex"} {
		if f.Get(k) != v {
			t.Errorf("field %s = %q, want %q", k, f.Get(k), v)
		}
	}
	if f.Get("timestamp") == "" {
		t.Error("no timestamp field")
	}
}

func TestSenderDropsAfterRetryDuration(t *testing.T) {
	t.Parallel()
	rec := &recipient{refuse: 1 << 30}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	s := NewSender(srv.URL, RetryInterval(2*time.Millisecond), RetryDuration(20*time.Millisecond))
	defer s.Close()
	for _, e := range []string{"a", "b"} {
		s.Enqueue(url.Values{"event": {e}})
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := s.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if got := events(s.Dropped()); !slices.Equal(got, []string{"a:", "b:"}) {
		t.Errorf("dropped %v, want both events in order", got)
	}
	if len(s.Sent()) != 0 || s.Pending() != 0 {
		t.Errorf("sent %d, pending %d; want none", len(s.Sent()), s.Pending())
	}
}

func TestTokenLifetimeAndFaults(t *testing.T) {
	t.Parallel()
	a := New(WithTokenLifetime(time.Minute))
	defer a.Close()
	c := beyondtrust.NewClient(a.Options(), nil)
	if _, err := c.APIInfo(t.Context()); err != nil {
		t.Fatal(err)
	}
	a.Advance(2 * time.Minute) // the token expires on the appliance
	a.Inject(Fault{Path: PathCommand, Op: "get_api_info", Times: 2, Status: http.StatusBadGateway})
	_, err := c.APIInfo(t.Context())
	if err == nil {
		t.Fatal("no error from an injected 502")
	}
	if _, err := c.APIInfo(t.Context()); err == nil {
		t.Fatal("the fault should hit twice")
	}
	if _, err := c.APIInfo(t.Context()); err != nil {
		t.Fatalf("after the fault: %v", err)
	}
	if n := a.Calls("get_api_info"); n != 5 {
		t.Errorf("%d get_api_info calls, want 5 (1 + 2 faulted + expired token refused + retry)", n)
	}
	if n := a.TokensIssued(); n != 2 {
		t.Errorf("%d tokens, want 2 (the first expired)", n)
	}
}
