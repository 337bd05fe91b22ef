package siem

import (
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/plugins/siem/siemtest"
)

const webhookSecret = "whsec-0123456789abcdef"

func webhookSettings(url string) *Settings {
	set := NewSettings()
	set.Destination, set.URL, set.Credential = DestWebhook, url+"/hooks/soc", engine.NewSecret(webhookSecret)
	return set
}

func startWebhook(t testing.TB, h *harness, secret string) *siemtest.Webhook {
	t.Helper()
	r, err := siemtest.NewWebhook(siemtest.WebhookOptions{Secret: secret, MaxAge: 5 * time.Minute, Now: func() time.Time { return h.now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// TestWebhookSignedDelivery: the receiver checks the signature as
// docs/siem.md describes and holds every event once, in CEF too.
func TestWebhookSignedDelivery(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rec := startWebhook(t, h, webhookSecret)
	s := h.typical("abab0000000000000000000000000001")
	set := webhookSettings(rec.URL)
	set.MaxBatchEvents = 3
	job := h.job(set, s.LSID)
	if out, _, err := h.handle(job); out != engine.OutcomeDone {
		t.Fatalf("outcome %v: %v (refused %v)", out, err, rec.Refused())
	}
	got := rec.Events()
	if len(got) != len(s.Events)+1 || rec.Posts() != 3 {
		t.Fatalf("%d events in %d requests", len(got), rec.Posts())
	}
	if id := got[2]["event"].(map[string]any)["id"]; id != s.LSID+":2:chat-message" {
		t.Errorf("event id %v", id)
	}
	set.Format = FormatCEF
	if out, _, err := h.handle(h.job(set, s.LSID)); out != engine.OutcomeDone {
		t.Fatalf("CEF: %v %v", out, err)
	}
	if ev := rec.Events()[len(s.Events)+1]; ev["id"] != s.LSID+":0:session-start" || ev["cef"] == nil {
		t.Errorf("CEF event %v", ev)
	}
}

// TestWebhookRefusals: a receiver with another secret, or whose clock is
// far from ours, refuses; the delivery fails for good, naming the answer.
func TestWebhookRefusals(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.typical("abab0000000000000000000000000002")
	other := startWebhook(t, h, "another-secret")
	if out, _, err := h.handle(h.job(webhookSettings(other.URL), s.LSID)); out != engine.OutcomePermanent || other.Held() != 0 {
		t.Errorf("wrong secret: %v %v, %d held", out, err, other.Held())
	}
	if r := other.Refused(); len(r) != 1 || r[0] != "bad signature" {
		t.Errorf("refused %v", r)
	}
	stale, err := siemtest.NewWebhook(siemtest.WebhookOptions{Secret: webhookSecret, MaxAge: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stale.Close)
	if out, _, err := h.handle(h.job(webhookSettings(stale.URL), s.LSID)); out != engine.OutcomePermanent || stale.Refused()[0] != "stale timestamp" {
		t.Errorf("stale: %v %v %v", out, err, stale.Refused())
	}
}

func TestWebhookFailures(t *testing.T) {
	t.Parallel()
	runFailures(t, "abab1", []failureCase{
		{name: "429 with Retry-After", fault: siemtest.Fault{Status: 429, RetryAfter: "4"}, want: engine.OutcomeRetryAfter, after: 4 * time.Second, text: "429"},
		{name: "500 after storing", fault: siemtest.Fault{Status: 500, AfterWrite: true}, want: engine.OutcomeRetry, text: "500"},
		{name: "hangs past the client timeout", fault: siemtest.Fault{Status: 200, Delay: 5 * time.Second}, want: engine.OutcomeRetry, text: "webhook"},
	}, func(t *testing.T) (receiver, string) {
		rec, err := siemtest.NewWebhook(siemtest.WebhookOptions{Secret: webhookSecret})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(rec.Close)
		return rec, rec.URL
	}, webhookSettings)
}
