package intake

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"switchboard/engine/metrics"
	"switchboard/engine/store"
	"switchboard/engine/storetest"
)

// Identifiers an attacker would like stored or logged: long, control
// characters, invalid UTF-8. Each is refused with a 4xx and stores nothing.
func TestRefusesMalformedIdentifiers(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 0)
	long := strings.Repeat("a", 65)
	cases := []struct {
		name  string
		query string
		form  url.Values
		want  int
	}{
		{"long event", "", url.Values{"event": {long}}, http.StatusBadRequest},
		{"event with newline", "", url.Values{"event": {"support_conference_end\nforged log line"}}, http.StatusBadRequest},
		{"event not UTF-8", "", url.Values{"event": {"caf\xe9"}}, http.StatusBadRequest},
		{"event with space", "", url.Values{"event": {"support conference"}}, http.StatusBadRequest},
		{"long appliance id", "?appliance=" + long, endEvent("a1"), http.StatusBadRequest},
		{"appliance id with control", "?appliance=Def%00ault", endEvent("a2"), http.StatusBadRequest},
		{"posted appliance id not ASCII", "", url.Values{"event": {"support_conference_end"}, "appliance_id": {"Dé"}}, http.StatusBadRequest},
		{"long lsid", "", endEvent(long), http.StatusBadRequest},
		{"lsid with quote", "", endEvent(`a"b`), http.StatusBadRequest},
		{"lsid with tab", "", endEvent("a\tb"), http.StatusBadRequest},
		{"too many field bytes", "", url.Values{"event": {"support_conference_end"}, "notes": {strings.Repeat("x", DefaultMaxFieldBytes)}}, http.StatusRequestEntityTooLarge},
	}
	for _, c := range cases {
		if status, msg := f.post(t, c.query, c.form); status != c.want {
			t.Errorf("%s: status %d (%s), want %d", c.name, status, strings.TrimSpace(msg), c.want)
		}
	}
	if n := len(f.events(t)); n != 0 {
		t.Fatalf("refused posts stored %d events", n)
	}
}

// What the appliance sends, at the edges of each rule, is still accepted.
func TestAcceptsIdentifiersAtTheLimits(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 0)
	max := strings.Repeat("b", 64)
	cases := []struct {
		query string
		form  url.Values
	}{
		{"?appliance=" + url.QueryEscape("My Site (EU) #2"), endEvent("e9e99aeb9ad54fb381634498502c5a1b")},
		{"?appliance=" + max, url.Values{"event": {max}, "lsid": {max}, "timestamp": {"1"}}},
		{"", url.Values{"event": {"some.future-event_2"}, "lsid": {"a:b-c.d_e"}, "display_name": {"Zoë\x00<x>"}}},
		{"", url.Values{"event": {"support_conference_end"}, "notes": {strings.Repeat("x", DefaultMaxFieldBytes-100)}}},
	}
	for i, c := range cases {
		if status, msg := f.post(t, c.query, c.form); status != http.StatusOK {
			t.Errorf("case %d: status %d (%s), want 200", i, status, strings.TrimSpace(msg))
		}
	}
	if n := len(f.events(t)); n != len(cases) {
		t.Fatalf("stored %d events, want %d", n, len(cases))
	}
}

// serve runs a handler with opts behind a test server until the test ends.
func serve(t *testing.T, opts Options) *httptest.Server {
	t.Helper()
	h := New(opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	e := echo.New()
	h.Register(e)
	srv := httptest.NewServer(e)
	t.Cleanup(func() { srv.Close(); cancel(); <-done })
	return srv
}

// syncBuffer is a log destination safe for concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A flood of refused posts writes a bounded number of short log lines: a
// 900 KB event name must not become a 900 KB log line.
func TestRefusalLogIsRateLimitedAndTruncated(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	var logs syncBuffer
	m := metrics.New(nil, nil)
	srv := serve(t, Options{Store: st, Router: staticRouter{appliance: "Default"}, Metrics: m, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	// A 200 KB name breaks the field cap, a 6 KB one only the name's rule.
	huge, long := strings.Repeat("A", 200<<10), strings.Repeat("A\n", 3<<10)
	const posts = 60
	start := time.Now()
	for i := range posts {
		name, want := huge, http.StatusRequestEntityTooLarge
		if i%2 == 1 {
			name, want = long, http.StatusBadRequest
		}
		resp, err := http.PostForm(srv.URL+Path, url.Values{"event": {name + fmt.Sprint(i)}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("post %d: status %d, want %d", i, resp.StatusCode, want)
		}
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	// The burst, then one line per interval that passed.
	allowed := refusalLogBurst + 1 + int(time.Since(start)/refusalLogInterval)
	if len(lines) > allowed {
		t.Errorf("%d refused posts wrote %d log lines, want at most %d", posts, len(lines), allowed)
	}
	for _, l := range lines {
		if len(l) > 1024 {
			t.Fatalf("a log line has %d bytes: %.200s…", len(l), l)
		}
	}
	for _, reason := range []string{"invalid_event", "fields_too_large"} {
		if got := testutil.ToFloat64(m.IntakeRejected.WithLabelValues(reason)); got != posts/2 {
			t.Fatalf("%s refusals counted %v, want %d (every refusal counts, logged or not)", reason, got, posts/2)
		}
	}
}

// clip keeps logged values short and printable whatever was posted.
func TestClip(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"":                        "",
		"short":                   "short",
		strings.Repeat("x", 70):   strings.Repeat("x", 64) + "…(70 bytes)",
		"caf\xe9":                 "caf\ufffd",
		"line\nbreak\x1b[31m":     "line\\nbreak\\x1b[31m",
		strings.Repeat("é", 40):   strings.Repeat("é", 32) + "…(80 bytes)",
		strings.Repeat("\n", 100): strings.Repeat(`\n`, 32) + "…(100 bytes)",
	}
	for in, want := range cases {
		if got := clip(in); got != want {
			t.Errorf("clip(%q) = %q, want %q", in, got, want)
		}
	}
}

// Events that route nowhere cannot fill the disk: past the cap the oldest
// are removed, and the storage they hold is a metric.
func TestUnroutedStorageIsBounded(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	cfg := storetest.Config(t, st, "test", "Default")
	m := metrics.New(nil, nil)
	srv := serve(t, Options{
		Store: st, Metrics: m,
		Router:    staticRouter{appliance: "Default", deliveries: []store.NewDelivery{{ConfigID: cfg, Plugin: "test", MaxAttempts: 1}}},
		Unrouted:  UnroutedLimits{MaxEvents: 5, MaxBytes: 1 << 20, TrimEvery: 1},
		MaxBody:   1 << 20,
		MaxFields: 1 << 20,
	})
	post := func(query string, form url.Values) {
		t.Helper()
		resp, err := http.PostForm(srv.URL+Path+query, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d, want 200: unrouted events are acknowledged", resp.StatusCode)
		}
	}
	post("?appliance=Default", endEvent("routed-1"))
	for i := range 20 {
		post("?appliance=Nobody", endEvent(fmt.Sprint("u", i)))
	}
	evs, err := st.ListEvents(context.Background(), store.EventFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var unrouted []string
	routed := 0
	for _, e := range evs {
		if e.Routing == store.Unrouted {
			unrouted = append(unrouted, e.LSID)
		} else {
			routed++
		}
	}
	if routed != 1 || strings.Join(unrouted, ",") != "u19,u18,u17,u16,u15" {
		t.Fatalf("kept routed %d, unrouted %v; want the routed event and the 5 newest unrouted", routed, unrouted)
	}
	if got := testutil.ToFloat64(m.UnroutedEvents); got != 5 {
		t.Fatalf("unrouted events gauge = %v, want 5", got)
	}
	if got := testutil.ToFloat64(m.UnroutedTrimmed); got != 15 {
		t.Fatalf("trimmed counter = %v, want 15", got)
	}
	if got := testutil.ToFloat64(m.UnroutedBytes); got <= 0 {
		t.Fatalf("unrouted bytes gauge = %v, want the stored size", got)
	}

	// The byte cap trims as well: two large events do not fit in 1 MiB.
	big := strings.Repeat("z", 600<<10)
	post("?appliance=Nobody", url.Values{"event": {"x"}, "lsid": {"big1"}, "pad": {big}})
	post("?appliance=Nobody", url.Values{"event": {"x"}, "lsid": {"big2"}, "pad": {big}})
	evs, _ = st.ListEvents(context.Background(), store.EventFilter{Routing: store.Unrouted, Limit: 1000})
	if len(evs) != 1 || evs[0].LSID != "big2" {
		t.Fatalf("after two 600 KB unrouted events kept %d (first %q), want only the newest", len(evs), evs[0].LSID)
	}
}
