package siem

import (
	"bytes"
	"encoding/json"
	"time"

	"strings"
	bt "switchboard/engine/beyondtrust"
	"testing"

	"switchboard/engine"
	"switchboard/plugins/siem/siemtest"
)

// items is a bulk answer with n copies of item.
func items(n int, item string) string {
	return `{"errors":false,"items":[` + strings.TrimSuffix(strings.Repeat(item+",", n), ",") + `]}`
}

// A 2xx bulk answer whose items are not create results (a proxy, another
// operation, an item without a status) says nothing about the events: it
// is retried, never taken for a refusal of every event.
func TestElasticItemsOfAnotherShapeAreRetried(t *testing.T) {
	t.Parallel()
	runFailures(t, "cccc7", []failureCase{
		{name: "index items", fault: siemtest.Fault{Status: 200, Body: items(7, `{"index":{"status":201}}`), AfterWrite: true}, want: engine.OutcomeRetry, text: "Elastic", stored: true},
		{name: "create without status", fault: siemtest.Fault{Status: 200, Body: items(7, `{"create":{}}`), AfterWrite: true}, want: engine.OutcomeRetry, text: "Elastic", stored: true},
		{name: "empty items", fault: siemtest.Fault{Status: 200, Body: items(7, `{}`)}, want: engine.OutcomeRetry, text: "Elastic"},
	}, func(t *testing.T) (receiver, string) {
		rec := startElastic(t, false)
		return rec, rec.URL
	}, elasticSettings)
}

// Over UDP without a size limit, an event larger than a datagram can
// carry is cut to the largest one rather than failing its whole batch on
// every attempt (the events after it never sent).
func TestSyslogUDPUnlimitedStillFitsADatagram(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rec := startSyslog(t, siemtest.SyslogOptions{Transport: TransportUDP})
	s := praSession(
		bt.SessionEvent{Type: "Session Start", Timestamp: t0},
		bt.SessionEvent{Type: "Chat Message", Timestamp: t0, PerformedBy: admin, Body: strings.Repeat("x", 70_000)},
		bt.SessionEvent{Type: "Session End", Timestamp: t0.Add(time.Minute)},
	)
	s.LSID = "dddd0000000000000000000000000077"
	h.app.AddSession(s)
	set := syslogSettings(TransportUDP, rec.Addr)
	set.UDPMaxBytes = 0
	if out, _, err := h.handle(h.job(set, s.LSID)); out != engine.OutcomeDone {
		t.Fatalf("outcome %v: %v", out, err)
	}
	waitMessages(t, rec, len(s.Events)+1)
}

// The Elastic source line of a JSON event is one valid JSON object with
// one @timestamp, wherever the document has its own (a PM Cloud document
// need not put it first) and when it has no field at all.
func TestElasticDocumentHasOneTimestamp(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, body := range []string{
		`{"@timestamp":"2026-03-02T08:59:59.000Z","a":1}`,
		`{"ecs":{"version":"8.8.0"},"@timestamp":"2026-03-02T08:59:59.000Z"}`,
		`{"a":{"@timestamp":"nested, not the document's"}}`,
		`{}`,
	} {
		var b bytes.Buffer
		document(&b, Encoded{ID: "x", JSON: true, Body: []byte(body), Event: &Event{Time: at}})
		dec := json.NewDecoder(bytes.NewReader(b.Bytes()))
		n := 0
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			t.Fatalf("%s: source line %q is not an object", body, b.String())
		}
		for dec.More() {
			key, err := dec.Token()
			if err != nil {
				t.Fatalf("%s: source line %q: %v", body, b.String(), err)
			}
			if key == "@timestamp" {
				n++
			}
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("%s: source line %q: %v", body, b.String(), err)
			}
		}
		if n != 1 || !json.Valid(b.Bytes()) {
			t.Errorf("%s: source line %q has %d @timestamp fields, want 1", body, b.String(), n)
		}
	}
}
