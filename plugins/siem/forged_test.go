package siem

import (
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
