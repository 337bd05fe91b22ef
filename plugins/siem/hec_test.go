package siem

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/plugintest"
	"switchboard/plugins/siem/siemtest"
)

const hecToken = "12345678-1234-1234-1234-1234567890AB"

func hecSettings(url string) *Settings {
	set := NewSettings()
	set.Destination, set.URL, set.Credential = DestHEC, url, engine.NewSecret(hecToken)
	set.HECIndex = "security"
	return set
}

func startHEC(t testing.TB, opts siemtest.HECOptions) *siemtest.HEC {
	t.Helper()
	opts.Token = hecToken
	r, err := siemtest.NewHEC(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

func TestHECDeliversEverySessionEventOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rec := startHEC(t, siemtest.HECOptions{TLS: true, Indexes: []string{"security"}})
	s := h.typical("aaaa0000000000000000000000000001")
	set := hecSettings(rec.URL)
	set.TLSCA = rec.Cert.PEM
	set.MaxBatchEvents = 4
	job := h.job(set, s.LSID)
	if out, _, err := h.handle(job); out != engine.OutcomeDone {
		t.Fatalf("outcome %v: %v", out, err)
	}
	got := rec.Events()
	if len(got) != len(s.Events)+1 {
		t.Fatalf("HEC holds %d events, want %d", len(got), len(s.Events)+1)
	}
	if rec.Posts() != 2 {
		t.Errorf("%d requests, want 2 (batches of 4)", rec.Posts())
	}
	chat := got[2].Envelope
	fields := chat["fields"].(map[string]any)
	if fields["event_id"] != s.LSID+":2:chat-message" || fields["lsid"] != s.LSID {
		t.Errorf("fields %v", fields)
	}
	if chat["sourcetype"] != "beyondtrust:session" || chat["index"] != "security" || chat["host"] != "access.example.com" {
		t.Errorf("envelope %v", chat)
	}
	ev := chat["event"].(map[string]any)
	if ev["event"].(map[string]any)["reason"] != "first line\nsecond line" {
		t.Errorf("chat text: %v", ev["event"])
	}
	if got := job.Result(); !strings.Contains(got, "7 events sent to Splunk HEC") {
		t.Errorf("result %q", got)
	}
	// A rerun with the checkpoint sends nothing.
	if out, _, err := h.handle(job); out != engine.OutcomeDone {
		t.Fatalf("rerun: %v %v", out, err)
	}
	if n := len(rec.Events()); n != len(s.Events)+1 {
		t.Errorf("rerun resent: %d events", n)
	}
}

func TestHECAcknowledgement(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rec := startHEC(t, siemtest.HECOptions{Ack: true, AckAfter: 2})
	s := h.typical("aaaa0000000000000000000000000002")
	set := hecSettings(rec.URL)
	set.HECIndex = ""
	// Without a channel, Splunk refuses: a configuration error.
	if out, _, err := h.handle(h.job(set, s.LSID)); out != engine.OutcomePermanent || !strings.Contains(err.Error(), "channel") {
		t.Fatalf("no channel: %v %v", out, err)
	}
	set.HECAck, set.HECChannel = true, "0e8a3c4f-6d0b-4e8e-9d61-0f4a2b8c1d77"
	if out, _, err := h.handle(h.job(set, s.LSID)); out != engine.OutcomeDone {
		t.Fatalf("outcome %v: %v", out, err)
	}
	if n := len(rec.Events()); n != len(s.Events)+1 {
		t.Errorf("%d events", n)
	}
}

// TestHECBusyPausesThatDestinationOnly: a 503 (code 9) asks the
// dispatcher to wait; other deliveries to the same HEC wait without a
// request, deliveries elsewhere go on.
func TestHECBusyPausesThatDestinationOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	busy := startHEC(t, siemtest.HECOptions{})
	other := startHEC(t, siemtest.HECOptions{})
	s := h.typical("aaaa0000000000000000000000000003")
	busy.FailNext(siemtest.Fault{Status: 503, Body: `{"text":"Server is busy","code":9}`, RetryAfter: "30"})
	out, after, err := h.handle(h.job(hecSettings(busy.URL), s.LSID))
	if out != engine.OutcomeRetryAfter || after != 30*time.Second {
		t.Fatalf("busy: %v %v %v", out, after, err)
	}
	posts := busy.Posts()
	if out, after, _ := h.handle(h.job(hecSettings(busy.URL), s.LSID)); out != engine.OutcomeRetryAfter || after != 30*time.Second || busy.Posts() != posts {
		t.Errorf("paused destination: %v %v, %d requests", out, after, busy.Posts()-posts)
	}
	if out, _, err := h.handle(h.job(hecSettings(other.URL), s.LSID)); out != engine.OutcomeDone {
		t.Errorf("other destination: %v %v", out, err)
	}
	h.now = h.now.Add(31 * time.Second)
	if out, _, err := h.handle(h.job(hecSettings(busy.URL), s.LSID)); out != engine.OutcomeDone {
		t.Errorf("after the pause: %v %v", out, err)
	}
}

// TestHECInvalidEventNumber: events before the invalid one were accepted
// and are recorded; the invalid one is refused for good; the rest go out
// in the next request.
func TestHECInvalidEventNumber(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rec := startHEC(t, siemtest.HECOptions{})
	s := h.typical("aaaa0000000000000000000000000004")
	rec.FailNext(siemtest.Fault{Status: 400, Body: `{"text":"Invalid data format","code":6,"invalid-event-number":2}`})
	job := h.job(hecSettings(rec.URL), s.LSID)
	out, _, err := h.handle(job)
	if out != engine.OutcomePermanent || !strings.Contains(err.Error(), s.LSID+":2:chat-message") {
		t.Fatalf("outcome %v: %v", out, err)
	}
	cp := job.Checkpoint.Values()
	if cp[keySent] != "0-1,3-6" || cp[keyRejected] != "2" {
		t.Errorf("checkpoint %v", cp)
	}
	// The fault stood in for the receiver, so it holds only the rest.
	if n := len(rec.Events()); n != 4 {
		t.Errorf("the receiver holds %d events after the retry of the rest, want 4", n)
	}
}

func TestHECRetryTable(t *testing.T) {
	t.Parallel()
	runRetryTable(t, "aaaa0000000000000000000000000005", hecSettings, hecToken,
		plugintest.Answer{Name: "HEC code 4 invalid token", Status: 403, Body: `{"text":"Invalid token","code":4}`, Want: engine.OutcomePermanent},
		plugintest.Answer{Name: "HEC code 7 incorrect index", Status: 400, Body: `{"text":"Incorrect index","code":7}`, Want: engine.OutcomePermanent},
		plugintest.Answer{Name: "HEC code 8 internal error", Status: 500, Body: `{"text":"Internal server error","code":8}`, Want: engine.OutcomeRetry},
		plugintest.Answer{Name: "HEC 200 with a failure code", Status: 200, Body: `{"text":"odd","code":8}`, Want: engine.OutcomeRetry},
	)
}

func TestHECEnvelopeCEF(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rec := startHEC(t, siemtest.HECOptions{})
	s := h.typical("aaaa0000000000000000000000000006")
	set := hecSettings(rec.URL)
	set.Format = FormatCEF
	if out, _, err := h.handle(h.job(set, s.LSID)); out != engine.OutcomeDone {
		t.Fatal(out, err)
	}
	ev, _ := rec.Events()[2].Envelope["event"].(string)
	if !strings.HasPrefix(ev, "CEF:0|BeyondTrust|Privileged Remote Access||chat-message|") || !strings.Contains(ev, `msg=first line\nsecond line`) {
		t.Errorf("CEF event %q", ev)
	}
	b, _ := json.Marshal(rec.Events()[0].Envelope["time"])
	if string(b) != "1733239944" {
		t.Errorf("time %s", b)
	}
}

// TestHECReceiverRefusesQueryStringToken: the receiver's token has no
// query-string authorization, so ?token= alone is code 16, as the
// reference says of such a token (siem-forwarding.md, HEC auth).
func TestHECReceiverRefusesQueryStringToken(t *testing.T) {
	t.Parallel()
	rec := startHEC(t, siemtest.HECOptions{})
	resp, err := http.Post(rec.URL+"/services/collector/event?token="+hecToken, "application/json", strings.NewReader(`{"event":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || !strings.Contains(string(body), `"code":16`) {
		t.Fatalf("?token= without the header: %d %s, want 400 code 16", resp.StatusCode, body)
	}
}

// TestHECReceiverChecksEnvelopes: the receiver, which decodes envelopes
// into a struct rather than maps, still answers each malformed envelope
// with the reference's code and the number of the first bad one, and
// keeps the envelopes before it.
func TestHECReceiverChecksEnvelopes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		body      string
		code, bad int
		held      int
	}{
		{`{"event":{"a":1}}` + "\n" + `{"event":"x","index":"security"}`, 0, -1, 2},
		{`{"event":{"a":1}}{"time":1}`, 12, 1, 1},
		{`{"event":null}`, 13, 0, 0},
		{`{"event":{}}{"event":""}`, 13, 1, 1},
		{`[{"event":"x"}]`, 6, 0, 0},
		{`null`, 6, 0, 0},
		{`{"event":"x"}{"event":`, 6, 1, 1},
		{`{"event":"x","index":7}`, 6, 0, 0},
		{`{"event":"x","index":"main"}`, 7, 0, 0},
	} {
		rec := startHEC(t, siemtest.HECOptions{Indexes: []string{"security"}})
		req, _ := http.NewRequest(http.MethodPost, rec.URL+"/services/collector/event", strings.NewReader(c.body))
		req.Header.Set("Authorization", "Splunk "+hecToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var ans struct {
			Code    int  `json:"code"`
			Invalid *int `json:"invalid-event-number"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&ans)
		resp.Body.Close()
		bad := -1
		if ans.Invalid != nil {
			bad = *ans.Invalid
		}
		if ans.Code != c.code || bad != c.bad || rec.Held() != c.held {
			t.Errorf("%s: code %d, invalid-event-number %d, held %d; want %d, %d, %d", c.body, ans.Code, bad, rec.Held(), c.code, c.bad, c.held)
		}
		if c.held > 0 && rec.Events()[0].Envelope["event"] == nil {
			t.Errorf("%s: Events() lost the envelope: %+v", c.body, rec.Events()[0])
		}
	}
}
