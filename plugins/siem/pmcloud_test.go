package siem

import (
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/sources/pmcloud"
	"switchboard/engine/sources/pmcloud/pmcloudtest"
	"switchboard/plugins/siem/siemtest"
)

func pmcloudJob(h *harness, set *Settings, doc string) *engine.Job {
	job := h.job(set, "")
	job.Event = engine.Event{ApplianceID: "acme-epm", Name: pmcloud.EventName, Source: pmcloud.Source, Timestamp: t0,
		Fields: url.Values{pmcloud.DocumentField: {doc}, "event_id": {"0c6f8f5e"}}}
	return job
}

// A stored PM Cloud event reaches HEC as its own ECS document, with its
// own id; CEF, a filtered type and a broken record are refused clearly.
func TestPMCloudEventsForwardTheirDocument(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rec := startHEC(t, siemtest.HECOptions{TLS: true, Indexes: []string{"security"}})
	set := hecSettings(rec.URL)
	set.TLSCA = rec.Cert.PEM
	doc := string(pmcloudtest.Event("0c6f8f5e", time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)))
	if out, _, err := h.handle(pmcloudJob(h, set, doc)); out != engine.OutcomeDone {
		t.Fatalf("outcome %v: %v", out, err)
	}
	got := rec.Events()
	if len(got) != 1 {
		t.Fatalf("HEC holds %d events", len(got))
	}
	ev, _ := json.Marshal(got[0].Envelope["event"])
	var sent, want map[string]any
	_ = json.Unmarshal(ev, &sent)
	_ = json.Unmarshal([]byte(doc), &want)
	if sent["event"].(map[string]any)["id"] != "0c6f8f5e" || sent["host"].(map[string]any)["hostname"] != "WS-0142" {
		t.Fatalf("forwarded %s", ev)
	}
	if f := got[0].Envelope["fields"].(map[string]any); f["event_id"] != "pmcloud:0c6f8f5e" {
		t.Errorf("fields %v", f)
	}

	for name, c := range map[string]struct {
		set  func(*Settings)
		doc  string
		want engine.Outcome
	}{
		"cef":        {func(s *Settings) { s.Format = FormatCEF }, doc, engine.OutcomeSkipped},
		"filtered":   {func(s *Settings) { s.EventTypes = []string{"Chat Message"} }, doc, engine.OutcomeSkipped},
		"not json":   {func(*Settings) {}, "<html>", engine.OutcomePermanent},
		"not object": {func(*Settings) {}, "[1]", engine.OutcomePermanent},
	} {
		s := hecSettings(rec.URL)
		s.TLSCA = rec.Cert.PEM
		c.set(s)
		if out, _, err := h.handle(pmcloudJob(h, s, c.doc)); out != c.want {
			t.Errorf("%s: outcome %v (%v), want %v", name, out, err, c.want)
		}
	}
	if len(rec.Events()) != 1 {
		t.Errorf("HEC holds %d events after the refused ones", len(rec.Events()))
	}
}
