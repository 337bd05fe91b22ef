package siem

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	bt "switchboard/engine/beyondtrust"

	"switchboard/engine"
	"switchboard/plugins/siem/siemtest"
)

const sekoiaKey = "d0b0f8e2-intake-key-secret"

func sekoiaSettings(url string) *Settings {
	set := NewSettings()
	set.Destination, set.URL, set.Credential = DestSekoia, url, engine.NewSecret(sekoiaKey)
	return set
}

func startSekoia(t testing.TB, tlsOn bool) *siemtest.Sekoia {
	t.Helper()
	r, err := siemtest.NewSekoia(siemtest.SekoiaOptions{TLS: tlsOn, IntakeKey: sekoiaKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

func TestSekoiaDeliversJSONLines(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rec := startSekoia(t, true)
	s := h.typical("dddd0000000000000000000000000001")
	// A regional intake: the batch endpoint sits under the base path.
	set := sekoiaSettings(rec.URL + "/api/v1/intake-http")
	set.TLSCA = rec.Cert.PEM
	set.MaxBatchEvents = 5
	job := h.job(set, s.LSID)
	if out, _, err := h.handle(job); out != engine.OutcomeDone {
		t.Fatalf("outcome %v: %v", out, err)
	}
	got := rec.Events()
	if len(got) != len(s.Events)+1 || rec.Posts() != 2 {
		t.Fatalf("%d events in %d requests, want %d in 2", len(got), rec.Posts(), len(s.Events)+1)
	}
	var chat map[string]any
	if err := json.Unmarshal([]byte(got[2].Body), &chat); err != nil {
		t.Fatalf("line is not JSON: %v", err)
	}
	ev := chat["event"].(map[string]any)
	if ev["id"] != s.LSID+":2:chat-message" || ev["reason"] != "first line\nsecond line" {
		t.Errorf("event %v", ev)
	}
	if out, _, _ := h.handle(job); out != engine.OutcomeDone || len(rec.Events()) != len(s.Events)+1 {
		t.Errorf("rerun with the checkpoint resent events: %d", len(rec.Events()))
	}
}

// TestSekoiaOversizedEvent: Sekoia drops events over 250,000 bytes; the
// plugin refuses such an event itself, names it, and delivers the rest.
func TestSekoiaOversizedEvent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rec := startSekoia(t, false)
	s := praSession(
		bt.SessionEvent{Type: "Session Start", Timestamp: t0},
		bt.SessionEvent{Type: "Chat Message", Timestamp: t0, PerformedBy: admin, Body: strings.Repeat("x", 260_000)},
		bt.SessionEvent{Type: "Session End", Timestamp: t0.Add(time.Minute)},
	)
	s.LSID = "dddd0000000000000000000000000002"
	h.app.AddSession(s)
	out, _, err := h.handle(h.job(sekoiaSettings(rec.URL), s.LSID))
	if out != engine.OutcomePermanent || !strings.Contains(err.Error(), s.LSID+":1:chat-message") || !strings.Contains(err.Error(), "250,000") {
		t.Fatalf("outcome %v: %v", out, err)
	}
	if n := len(rec.Events()); n != 3 {
		t.Errorf("the receiver holds %d events, want 3 (start, end, summary)", n)
	}
	// With chat redaction the same session fits.
	set := sekoiaSettings(rec.URL)
	set.RedactChat = true
	if out, _, err := h.handle(h.job(set, s.LSID)); out != engine.OutcomeDone {
		t.Errorf("redacted: %v %v", out, err)
	}
}

func TestSekoiaFailures(t *testing.T) {
	t.Parallel()
	runFailures(t, "dddd1", []failureCase{
		{name: "429 with Retry-After", fault: siemtest.Fault{Status: 429, RetryAfter: "3"}, want: engine.OutcomeRetryAfter, after: 3 * time.Second, text: "429"},
		{name: "502 with an HTML body", fault: siemtest.Fault{Status: 502, Body: "<html>Bad Gateway</html>"}, want: engine.OutcomeRetry, text: "Bad Gateway"},
		{name: "hangs past the client timeout", fault: siemtest.Fault{Status: 200, Delay: 5 * time.Second}, want: engine.OutcomeRetry, text: "Sekoia.io"},
		{name: "wrong intake key", key: "wrong", want: engine.OutcomePermanent, text: "401"},
	}, func(t *testing.T) (receiver, string) {
		rec := startSekoia(t, false)
		return rec, rec.URL
	}, sekoiaSettings)
}

// TestSekoiaNoIdempotencyKey pins down what docs/siem.md says: Sekoia's
// intake takes no idempotency key, so a batch it stored but whose answer
// was lost is stored twice on the retry (each copy with the same
// event.id, for deduplication in the SOC). A 2xx with a body that is not
// the documented {"event_ids"} counts as accepted: resending on a doubt
// would duplicate for certain.
func TestSekoiaNoIdempotencyKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rec := startSekoia(t, false)
	s := h.typical("dddd0000000000000000000000000003")
	rec.FailNext(siemtest.Fault{Status: 500, AfterWrite: true})
	job := h.job(sekoiaSettings(rec.URL), s.LSID)
	if out, _, err := h.handle(job); out != engine.OutcomeRetry {
		t.Fatalf("lost answer: %v %v", out, err)
	}
	if out, _, err := h.handle(job); out != engine.OutcomeDone {
		t.Fatalf("retry: %v %v", out, err)
	}
	if n := len(rec.Events()); n != 2*(len(s.Events)+1) {
		t.Errorf("the receiver holds %d events, want each twice (%d)", n, 2*(len(s.Events)+1))
	}

	rec2 := startSekoia(t, false)
	rec2.FailNext(siemtest.Fault{Status: 200, Body: "<html>ok</html>", AfterWrite: true})
	if out, _, err := h.handle(h.job(sekoiaSettings(rec2.URL), s.LSID)); out != engine.OutcomeDone || len(rec2.Events()) != len(s.Events)+1 {
		t.Errorf("2xx with an odd body: %v %v, %d events", out, err, len(rec2.Events()))
	}
}

func TestSekoiaRetryTable(t *testing.T) {
	t.Parallel()
	runRetryTable(t, "dddd0000000000000000000000000004", sekoiaSettings, sekoiaKey)
}
