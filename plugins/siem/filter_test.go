package siem

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/plugins/siem/siemtest"
)

// TestFilterAndRedactionEndToEnd: only the chosen event types reach the
// SIEM, and neither chat text nor a file's folder leaves the engine.
func TestFilterAndRedactionEndToEnd(t *testing.T) {
	t.Parallel()
	for _, format := range []string{FormatECS, FormatCEF, FormatRaw} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			rec := startHEC(t, siemtest.HECOptions{})
			s := h.typical("eeee00000000000000000000000000" + map[string]string{FormatECS: "01", FormatCEF: "02", FormatRaw: "03"}[format])
			set := hecSettings(rec.URL)
			set.Format, set.EventTypes, set.RedactChat, set.RedactPaths = format, []string{"Chat Message", "File Upload", SummaryType}, true, true
			job := h.job(set, s.LSID)
			if out, _, err := h.handle(job); out != engine.OutcomeDone {
				t.Fatalf("outcome %v: %v", out, err)
			}
			got := rec.Events()
			var kinds []string
			for _, e := range got {
				kinds = append(kinds, e.Envelope["fields"].(map[string]any)["kind"].(string))
				b, _ := json.Marshal(e.Envelope)
				for _, secret := range []string{"first line", "second line", `C:\\tmp`, `C:\tmp`} {
					if strings.Contains(string(b), secret) {
						t.Errorf("%s event shows %q: %s", format, secret, b)
					}
				}
			}
			if strings.Join(kinds, ",") != "chat-message,file-upload,summary" {
				t.Errorf("forwarded %v", kinds)
			}
		})
	}
}

func TestFilterLeavesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rec := startHEC(t, siemtest.HECOptions{})
	s := h.typical("eeee0000000000000000000000000004")
	set := hecSettings(rec.URL)
	set.EventTypes = []string{"Registry"}
	if out, _, err := h.handle(h.job(set, s.LSID)); out != engine.OutcomeSkipped {
		t.Fatalf("outcome %v: %v", out, err)
	}
	if rec.Posts() != 0 {
		t.Errorf("%d requests for nothing", rec.Posts())
	}
}

// memberAdded is an outbound event as the appliance posts it (fields of
// beyondtrust-api.md "Fields posted").
func memberAdded(lsid string) engine.Event {
	return engine.Event{
		ApplianceID: "Default", Name: engine.EventMemberAdded, Source: engine.SourceOutbound, LSID: lsid,
		Timestamp: t0, ReceivedAt: t0.Add(time.Second),
		Fields: url.Values{"event": {engine.EventMemberAdded}, "version": {"3"}, "timestamp": {"1733239944"}, "lsid": {lsid},
			"type": {"representative"}, "username": {"admin"}, "display_name": {"Admin"}, "external_key": {"T1234"}},
	}
}

// TestOutboundEventsForwardedLive: with "Forward Outbound Events as They
// Arrive" an outbound event goes out as a lightweight event, without a
// report; the Event Types filter, made for the report's events, does not
// hold it back unless it names outbound events itself.
func TestOutboundEventsForwardedLive(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rec := startHEC(t, siemtest.HECOptions{})
	lsid := "eeee0000000000000000000000000005"
	set := hecSettings(rec.URL)
	job := h.job(set, lsid)
	job.Event = memberAdded(lsid)
	if out, _, err := h.handle(job); out != engine.OutcomeSkipped || rec.Posts() != 0 {
		t.Fatalf("forwarding off: %v %v, %d requests", out, err, rec.Posts())
	}
	set.ForwardLive, set.EventTypes = true, []string{"Chat Message"}
	job = h.job(set, lsid)
	job.Event = memberAdded(lsid)
	if out, _, err := h.handle(job); out != engine.OutcomeDone {
		t.Fatalf("forwarding on: %v %v", out, err)
	}
	got := rec.Events()
	if len(got) != 1 {
		t.Fatalf("%d events, want 1", len(got))
	}
	fields := got[0].Envelope["fields"].(map[string]any)
	if fields["event_id"] != lsid+":1733239944:support_conference_member_added" || fields["lsid"] != lsid {
		t.Errorf("fields %v", fields)
	}
	b, _ := json.Marshal(got[0].Envelope["event"])
	if !strings.Contains(string(b), `"display_name":"Admin"`) || strings.Contains(string(b), "T1234") {
		t.Errorf("event %s", b)
	}
	// A filter that names outbound events holds the others back.
	set.EventTypes = []string{engine.EventMemberDeparted}
	job = h.job(set, lsid)
	job.Event = memberAdded(lsid)
	if out, _, err := h.handle(job); out != engine.OutcomeSkipped {
		t.Errorf("filtered: %v %v", out, err)
	}
}

// TestOutboundEventsSameSecond: the customer and the representative join
// in the same second; both reach Elastic, whose create refuses a second
// document with the same _id.
func TestOutboundEventsSameSecond(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rec := startElastic(t, false)
	lsid := "eeee0000000000000000000000000006"
	set := elasticSettings(rec.URL)
	set.ForwardLive = true
	for id := int64(41); id <= 42; id++ {
		job := h.job(set, lsid)
		job.Event = memberAdded(lsid)
		job.Event.ID = id
		if out, _, err := h.handle(job); out != engine.OutcomeDone {
			t.Fatalf("event %d: %v %v", id, out, err)
		}
	}
	docs := rec.Docs()
	if len(docs) != 2 || docs[0].ID == docs[1].ID {
		t.Fatalf("documents %+v", docs)
	}
	if docs[0].ID != lsid+":1733239944-41:support_conference_member_added" {
		t.Errorf("id %s", docs[0].ID)
	}
}
