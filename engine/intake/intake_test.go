package intake

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"switchboard/engine/metrics"
	"switchboard/engine/store"
	"switchboard/engine/storetest"
)

// staticRouter routes every event of one appliance id to fixed deliveries.
type staticRouter struct {
	appliance  string
	deliveries []store.NewDelivery
}

func (r staticRouter) Route(applianceID, event, source string) ([]store.NewDelivery, string) {
	if applianceID != r.appliance {
		return nil, fmt.Sprintf("no configuration has Appliance Id %q", applianceID)
	}
	return r.deliveries, ""
}

type fixture struct {
	st  *store.Store
	srv *httptest.Server
	m   *metrics.Metrics
	cfg int64
}

func newFixture(t testing.TB, maxBody int64) *fixture {
	t.Helper()
	return newFixtureOn(t, storetest.Open(t), maxBody)
}

// newFixtureOn is newFixture on a store the caller opened.
func newFixtureOn(t testing.TB, st *store.Store, maxBody int64) *fixture {
	t.Helper()
	cfg := storetest.Config(t, st, "test", "Default")
	m := metrics.New(nil, nil)
	h := New(Options{Store: st, Router: staticRouter{appliance: "Default", deliveries: []store.NewDelivery{{ConfigID: cfg, Plugin: "test", MaxAttempts: 3}}}, Metrics: m, MaxBody: maxBody})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	e := echo.New()
	h.Register(e)
	srv := httptest.NewServer(e)
	t.Cleanup(func() { srv.Close(); cancel(); <-done })
	return &fixture{st: st, srv: srv, m: m, cfg: cfg}
}

func (f *fixture) post(t *testing.T, query string, form url.Values) (int, string) {
	t.Helper()
	resp, err := http.PostForm(f.srv.URL+Path+query, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (f *fixture) events(t *testing.T) []store.Event {
	t.Helper()
	evs, err := f.st.ListEvents(context.Background(), store.EventFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// send makes req and returns the status and body of the answer.
func send(t *testing.T, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, msg
}

func endEvent(lsid string) url.Values {
	return url.Values{"event": {"support_conference_end"}, "version": {"3"}, "timestamp": {"1733240467"}, "lsid": {lsid}, "external_key": {"T20240101.0001"}}
}

func TestAcknowledgesOnlyAfterCommit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 0)
	status, _ := f.post(t, "?appliance=Default", endEvent("abc"))
	if status != http.StatusOK {
		t.Fatalf("status = %d, want 200", status)
	}
	evs := f.events(t)
	if len(evs) != 1 || evs[0].Routing != store.Routed || evs[0].LSID != "abc" || evs[0].ExternalKey != "T20240101.0001" {
		t.Fatalf("stored events = %+v", evs)
	}
	if got := evs[0].Values().Get("version"); got != "3" {
		t.Fatalf("posted field version = %q, want every field kept", got)
	}
	ds, _ := f.st.ListDeliveries(context.Background(), store.DeliveryFilter{EventID: evs[0].ID})
	if len(ds) != 1 || ds[0].State != store.StatePending || ds[0].MaxAttempts != 3 || ds[0].LSID != "abc" {
		t.Fatalf("deliveries = %+v", ds)
	}
}

func TestDuplicateAddsNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 0)
	for range 3 {
		if status, _ := f.post(t, "?appliance=Default", endEvent("dup")); status != http.StatusOK {
			t.Fatalf("status = %d, want 200 for a duplicate too", status)
		}
	}
	if n := len(f.events(t)); n != 1 {
		t.Fatalf("events = %d, want 1", n)
	}
	ds, _ := f.st.ListDeliveries(context.Background(), store.DeliveryFilter{})
	if len(ds) != 1 {
		t.Fatalf("deliveries = %d, want 1", len(ds))
	}
	if got := testutil.ToFloat64(f.m.EventsReceived.WithLabelValues("support_conference_end", "outbound", "duplicate")); got != 2 {
		t.Fatalf("duplicate metric = %v, want 2", got)
	}
}

func TestUnroutedIsRecordedAndAcknowledged(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 0)
	cases := []struct {
		query string
		form  url.Values
		want  string
	}{
		{"?appliance=Other", endEvent("x1"), `no configuration has Appliance Id "Other"`},
		{"?id=Other", endEvent("x2"), `"Other"`},
		{"", url.Values{"event": {"some_future_event"}, "appliance_id": {"Elsewhere"}, "timestamp": {"1"}}, `"Elsewhere"`},
	}
	for _, c := range cases {
		if status, _ := f.post(t, c.query, c.form); status != http.StatusOK {
			t.Fatalf("%s: status = %d, want 200", c.query, status)
		}
	}
	evs := f.events(t)
	if len(evs) != len(cases) {
		t.Fatalf("events = %d, want %d", len(evs), len(cases))
	}
	for i, c := range cases {
		e := evs[len(evs)-1-i]
		if e.Routing != store.Unrouted || !strings.Contains(e.Reason, c.want) {
			t.Errorf("event %d: routing %q reason %q, want unrouted with %q", i, e.Routing, e.Reason, c.want)
		}
	}
}

func TestApplianceIDSources(t *testing.T) {
	t.Parallel()
	cases := []struct {
		query  string
		posted string
		want   string
	}{
		{"?appliance=A", "", "A"},
		{"?id=B", "", "B"},
		{"?appliance_id=C", "", "C"},
		{"", "D", "D"},
		{"?appliance=E", "F", "E"},
		{"", "", "Default"},
	}
	for _, c := range cases {
		q, _ := url.ParseQuery(strings.TrimPrefix(c.query, "?"))
		f := url.Values{}
		if c.posted != "" {
			f.Set("appliance_id", c.posted)
		}
		if got := applianceID(q, f); got != c.want {
			t.Errorf("query %q posted %q: got %q, want %q", c.query, c.posted, got, c.want)
		}
	}
}

func TestRefusesWhatCannotBeRead(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 4096)
	cases := []struct {
		name, contentType, body string
		want                    int
	}{
		{"no event field", "application/x-www-form-urlencoded", "lsid=abc&timestamp=1", http.StatusBadRequest},
		{"blank event", "application/x-www-form-urlencoded", "event=++&lsid=abc", http.StatusBadRequest},
		{"broken escape", "application/x-www-form-urlencoded", "event=x&lsid=%zz", http.StatusBadRequest},
		{"bad content type", "text/plain; charset", "event=x", http.StatusBadRequest},
		{"json", "application/json", `{"event":"x"}`, http.StatusUnsupportedMediaType},
		{"too large", "application/x-www-form-urlencoded", "event=x&pad=" + strings.Repeat("a", 5000), http.StatusRequestEntityTooLarge},
		{"multipart without boundary", "multipart/form-data", "event=x", http.StatusBadRequest},
	}
	for _, c := range cases {
		req, err := http.NewRequest(http.MethodPost, f.srv.URL+Path, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", c.contentType)
		status, msg := send(t, req)
		if status != c.want {
			t.Errorf("%s: status %d (%s), want %d", c.name, status, msg, c.want)
		}
		if len(bytes.TrimSpace(msg)) == 0 || bytes.Count(bytes.TrimSpace(msg), []byte("\n")) > 0 {
			t.Errorf("%s: want a one-line reason, got %q", c.name, msg)
		}
	}
	if n := len(f.events(t)); n != 0 {
		t.Fatalf("refused posts stored %d events", n)
	}
	resp, err := http.Get(f.srv.URL + Path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: status %d, want 405", resp.StatusCode)
	}
}

// TestReadsEveryFormShape holds the intake's own form reading (the body and
// the URL query each parsed once) to what net/http's ParseForm accepted:
// any case and parameters of the form's media type, none at all, a body of
// unknown length; the URL's own fields stay out of the stored ones, and a
// URL query that cannot be parsed is refused as before.
func TestReadsEveryFormShape(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 4096)
	cases := []struct {
		name, contentType, query string
		chunked                  bool
		want                     int
	}{
		{"form", "application/x-www-form-urlencoded", "?appliance=Default", false, http.StatusOK},
		{"form with a charset", "application/x-www-form-urlencoded; charset=UTF-8", "?appliance=Default", false, http.StatusOK},
		{"form in capitals", "APPLICATION/X-WWW-FORM-URLENCODED", "?appliance=Default", false, http.StatusOK},
		{"no content type", "", "?appliance=Default", false, http.StatusOK},
		{"body of unknown length", "application/x-www-form-urlencoded", "?appliance=Default&token=", true, http.StatusOK},
		{"broken URL query", "application/x-www-form-urlencoded", "?appliance=Default&x=%zz", false, http.StatusBadRequest},
	}
	for i, c := range cases {
		lsid := fmt.Sprintf("shape%d", i)
		body := "event=support_conference_begin&lsid=" + lsid + "&timestamp=7&display_name=Zo%C3%AB+%26+Co"
		var r io.Reader = strings.NewReader(body)
		if c.chunked {
			r = io.MultiReader(strings.NewReader(body[:10]), strings.NewReader(body[10:]))
		}
		req, err := http.NewRequest(http.MethodPost, f.srv.URL+Path+c.query, r)
		if err != nil {
			t.Fatal(err)
		}
		if c.contentType != "" {
			req.Header.Set("Content-Type", c.contentType)
		}
		if c.chunked && req.ContentLength != 0 {
			t.Fatalf("%s: ContentLength = %d, want unknown", c.name, req.ContentLength)
		}
		if status, msg := send(t, req); status != c.want {
			t.Errorf("%s: status %d (%s), want %d", c.name, status, msg, c.want)
			continue
		}
		if c.want != http.StatusOK {
			continue
		}
		var got *store.Event
		for _, ev := range f.events(t) {
			if ev.LSID == lsid {
				got = &ev
			}
		}
		if got == nil {
			t.Errorf("%s: not stored", c.name)
			continue
		}
		if v := got.Values(); v.Get("display_name") != "Zoë & Co" || v.Has("appliance") || v.Has("token") || len(v) != 4 {
			t.Errorf("%s: stored fields %v", c.name, v)
		}
	}
}

func TestAcceptsMultipart(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 0)
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range map[string]string{"event": "support_conference_begin", "lsid": "mp1", "timestamp": "5", "display_name": "Zoë <Ops> & \"Co\""} {
		_ = w.WriteField(k, v)
	}
	_ = w.Close()
	resp, err := http.Post(f.srv.URL+Path+"?appliance=Default", w.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	evs := f.events(t)
	if len(evs) != 1 || evs[0].Values().Get("display_name") != "Zoë <Ops> & \"Co\"" {
		t.Fatalf("events = %+v", evs)
	}
}

func TestKeepsBytesThatAreNotUTF8(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 0)
	status, _ := f.post(t, "", url.Values{"event": {"support_conference_begin"}, "lsid": {"l"}, "timestamp": {"1"}, "name": {"caf\xe9"}})
	if status != http.StatusOK {
		t.Fatalf("status = %d", status)
	}
	if got := f.events(t)[0].Values().Get("name"); got != "caf\xe9" {
		t.Fatalf("name = %q, want the posted bytes unchanged", got)
	}
}

// A store failure midway through the transaction (here: a delivery for a
// configuration that does not exist) must answer 503 and leave no event.
func TestStoreFailureAnswers503AndWritesNothing(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	h := New(Options{Store: st, Router: staticRouter{appliance: "Default", deliveries: []store.NewDelivery{{ConfigID: 999, Plugin: "test", MaxAttempts: 1}}}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go h.Run(ctx)
	e := echo.New()
	h.Register(e)
	srv := httptest.NewServer(e)
	defer srv.Close()
	resp, err := http.PostForm(srv.URL+Path, endEvent("fk"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("status = %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	evs, _ := st.ListEvents(context.Background(), store.EventFilter{})
	if len(evs) != 0 {
		t.Fatalf("a failed transaction left %d events", len(evs))
	}
	// A closed database is unavailable as well.
	_ = st.Close()
	resp, err = http.PostForm(srv.URL+Path, endEvent("closed"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("closed store: status = %d, want 503", resp.StatusCode)
	}
}

func TestConcurrentPostsAreAllStored(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 0)
	const n = 200
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if status, _ := f.post(t, "", endEvent(fmt.Sprintf("c%d", i))); status != http.StatusOK {
				t.Errorf("post %d: status %d", i, status)
			}
		})
	}
	wg.Wait()
	if got := len(f.events(t)); got != n {
		t.Fatalf("events = %d, want %d", got, n)
	}
}

// Posts waiting when the committer takes its next batch share one
// transaction, each answered with its own result.
func TestWaitingPostsShareOneCommit(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	m := metrics.New(nil, nil)
	c := newCommitter(st, nil, 256, m)
	var ps []*pending
	for i := range 5 {
		key := fmt.Sprint("batch", i%4) // the fifth repeats the first
		p := &pending{ev: &store.NewEvent{Event: store.Event{DedupeKey: key, ApplianceID: "Default", Name: "x", Source: "outbound", Fields: "event=x", Routing: store.Unrouted}}, done: make(chan commitResult, 1)}
		ps = append(ps, p)
	}
	c.commit(context.Background(), ps)
	for i, p := range ps {
		r := <-p.done
		if r.err != nil || r.ins.Duplicate != (i == 4) {
			t.Fatalf("post %d: %+v, want duplicate only for the repeated key", i, r)
		}
	}
	var got dto.Metric
	if err := m.CommitBatch.Write(&got); err != nil {
		t.Fatal(err)
	}
	if got.GetHistogram().GetSampleCount() != 1 || got.GetHistogram().GetSampleSum() != 5 {
		t.Fatalf("commits %d holding %v posts; want one commit of 5", got.GetHistogram().GetSampleCount(), got.GetHistogram().GetSampleSum())
	}
}
