package siem

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/plugintest"
	"switchboard/plugins/siem/siemtest"
)

const elasticKey = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="

func elasticSettings(url string) *Settings {
	set := NewSettings()
	set.Destination, set.URL, set.Credential = DestElastic, url, engine.NewSecret(elasticKey)
	return set
}

func startElastic(t testing.TB, tlsOn bool) *siemtest.Elastic {
	t.Helper()
	r, err := siemtest.NewElastic(siemtest.ElasticOptions{TLS: tlsOn, APIKey: elasticKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

func TestElasticDeliversWithCreateAndEventIDs(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rec := startElastic(t, true)
	s := h.typical("cccc0000000000000000000000000001")
	set := elasticSettings(rec.URL)
	set.TLSCA = rec.Cert.PEM
	set.MaxBatchEvents = 4
	job := h.job(set, s.LSID)
	if out, _, err := h.handle(job); out != engine.OutcomeDone {
		t.Fatalf("outcome %v: %v", out, err)
	}
	docs := rec.Docs()
	if len(docs) != len(s.Events)+1 || rec.Posts() != 2 {
		t.Fatalf("%d documents in %d requests, want %d in 2", len(docs), rec.Posts(), len(s.Events)+1)
	}
	chat := docs[2]
	if chat.ID != s.LSID+":2:chat-message" || chat.Index != "logs-beyondtrust.session-default" {
		t.Errorf("document %s in %s", chat.ID, chat.Index)
	}
	if chat.Source["@timestamp"] == nil || chat.Source["event"].(map[string]any)["reason"] != "first line\nsecond line" {
		t.Errorf("source %v", chat.Source)
	}
	// Everything local lost (a crash after Elastic stored the batches):
	// the rerun's creates come back 409 and count as delivered.
	job.Checkpoint = engine.NewCheckpoint(nil, nil)
	if out, _, err := h.handle(job); out != engine.OutcomeDone {
		t.Fatalf("rerun: %v %v", out, err)
	}
	if n := len(rec.Docs()); n != len(s.Events)+1 {
		t.Errorf("rerun stored duplicates: %d documents", n)
	}
}

func TestElasticFormatsCarryTimestamp(t *testing.T) {
	t.Parallel()
	for _, format := range []string{FormatRaw, FormatCEF} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			rec := startElastic(t, false)
			s := h.typical("cccc00000000000000000000000000" + map[string]string{FormatRaw: "21", FormatCEF: "22"}[format])
			set := elasticSettings(rec.URL)
			set.Format = format
			if out, _, err := h.handle(h.job(set, s.LSID)); out != engine.OutcomeDone {
				t.Fatalf("outcome %v: %v", out, err)
			}
			doc := rec.Docs()[2].Source
			if doc["@timestamp"] != "2024-12-03T15:33:24Z" {
				t.Errorf("@timestamp %v", doc["@timestamp"])
			}
			if format == FormatCEF && !strings.HasPrefix(doc["message"].(string), "CEF:0|") {
				t.Errorf("CEF document %v", doc)
			}
		})
	}
}

// TestElasticPerItemErrors: a per-item 429 is retried alone, after the
// pause it asks for; a 400 mapper_parsing_exception is refused for good;
// the other items are stored once; the delivery ends failed, naming the
// refused event.
func TestElasticPerItemErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rec := startElastic(t, false)
	s := h.typical("cccc0000000000000000000000000002")
	rec.FailItems(siemtest.ItemFault{}, siemtest.ItemFault{Status: 429, Type: "es_rejected_execution_exception"},
		siemtest.ItemFault{}, siemtest.ItemFault{Status: 400, Type: "mapper_parsing_exception"})
	job := h.job(elasticSettings(rec.URL), s.LSID)
	out, after, err := h.handle(job)
	if out != engine.OutcomeRetryAfter || after != defaultWait {
		t.Fatalf("first attempt: %v %v %v", out, after, err)
	}
	cp := job.Checkpoint.Values()
	if cp[keySent] != "0,2,4-6" || cp[keyRejected] != "3" {
		t.Errorf("checkpoint %v", cp)
	}
	if n := len(rec.Docs()); n != 5 {
		t.Errorf("%d documents after the first attempt, want 5", n)
	}
	// Paused: no request until the wait is over.
	posts := rec.Posts()
	if out, _, _ := h.handle(job); out != engine.OutcomeRetryAfter || rec.Posts() != posts {
		t.Errorf("paused destination: %v, %d requests", out, rec.Posts()-posts)
	}
	h.now = h.now.Add(defaultWait + time.Second)
	out, _, err = h.handle(job)
	if out != engine.OutcomePermanent || !strings.Contains(err.Error(), "refused 1 events in an earlier attempt") {
		t.Fatalf("second attempt: %v %v", out, err)
	}
	if rec.Posts() != posts+1 {
		t.Errorf("second attempt made %d requests, want 1 (the deferred item only)", rec.Posts()-posts)
	}
	docs := rec.Docs()
	if len(docs) != 6 || docs[5].ID != s.LSID+":1:conference-member-added" {
		t.Errorf("documents %d, last %v", len(docs), docs[len(docs)-1].ID)
	}
	if !strings.Contains(job.Result(), "1 refused") {
		t.Errorf("result %q", job.Result())
	}
}

// TestElasticFailures: whole-request refusals, a malformed answer, a
// receiver that hangs, a wrong key.
func TestElasticFailures(t *testing.T) {
	t.Parallel()
	runFailures(t, "cccc1", []failureCase{
		{name: "429 with Retry-After", fault: siemtest.Fault{Status: 429, RetryAfter: "12", Body: `{}`}, want: engine.OutcomeRetryAfter, after: 12 * time.Second, text: "429"},
		{name: "503", fault: siemtest.Fault{Status: 503}, want: engine.OutcomeRetryAfter, after: defaultWait, text: "503"},
		{name: "500 after storing", fault: siemtest.Fault{Status: 500, AfterWrite: true}, want: engine.OutcomeRetry, text: "500", stored: true},
		{name: "200 with an HTML body after storing", fault: siemtest.Fault{Status: 200, Body: "<html>proxy</html>", AfterWrite: true}, want: engine.OutcomeRetry, text: "not a bulk response", stored: true},
		{name: "200 with too few items", fault: siemtest.Fault{Status: 200, Body: `{"errors":false,"items":[]}`}, want: engine.OutcomeRetry, text: "0 items for 7 events"},
		{name: "hangs past the client timeout", fault: siemtest.Fault{Status: 200, Delay: 5 * time.Second}, want: engine.OutcomeRetry, text: "Elastic"},
		{name: "wrong API key", key: "d3Jvbmc6a2V5", want: engine.OutcomePermanent, text: "401"},
		{name: "400 for the request", fault: siemtest.Fault{Status: 400, Body: `{"error":"x"}`}, want: engine.OutcomePermanent, text: "400"},
	}, func(t *testing.T) (receiver, string) {
		rec := startElastic(t, false)
		return rec, rec.URL
	}, elasticSettings)
}

func TestElasticRetryTable(t *testing.T) {
	t.Parallel()
	runRetryTable(t, "cccc0000000000000000000000000003", elasticSettings, elasticKey)
}

// TestElasticIdempotence runs the conformance kit: whatever answer is lost
// and whenever the process dies, Elastic ends with each event once,
// because every event is a create with its event id as _id.
func TestElasticIdempotence(t *testing.T) {
	t.Parallel()
	plugintest.RunIdempotence(t, []plugintest.IdempotenceCase{{
		Name: "session of 7 events in batches of 3",
		New: func(t *testing.T, hc *http.Client) plugintest.Scenario {
			h := newHarness(t)
			rec := startElastic(t, false)
			s := h.typical("cccc0000000000000000000000000004")
			set := elasticSettings(rec.URL)
			set.MaxBatchEvents = 3
			return plugintest.Scenario{
				NewPlugin: func() engine.Plugin {
					p := New()
					p.HTTPClient, p.Now = hc, h.plugin.Now
					return p
				},
				Job: func() *engine.Job { return h.job(set, s.LSID) },
				Writes: func() map[string]int {
					out := map[string]int{}
					for _, d := range rec.Docs() {
						out[d.ID]++
					}
					return out
				},
			}
		},
	}})
}
