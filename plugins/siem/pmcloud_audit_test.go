package siem

import (
	"encoding/json"
	"net/url"
	"testing"

	"switchboard/engine"
	"switchboard/engine/sources/pmcloud"
	"switchboard/engine/sources/pmcloud/pmcloudtest"
	"switchboard/plugins/siem/siemtest"
)

// A stored activity audit reaches HEC mapped to ECS (its document in
// event.original) or raw, with an id of its own that an event id cannot
// take; the PM Cloud Event type does not select it.
func TestPMCloudAuditsForwardMapped(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rec := startHEC(t, siemtest.HECOptions{TLS: true, Indexes: []string{"security"}})
	doc := string(pmcloudtest.Audit(48211, t0))
	job := func(s *Settings, doc string) *engine.Job {
		j := h.job(s, "")
		j.Event = engine.Event{ApplianceID: "acme-epm", Name: pmcloud.AuditEventName, Source: pmcloud.Source, Timestamp: t0,
			Fields: url.Values{pmcloud.DocumentField: {doc}, "audit_id": {"48211"}}}
		return j
	}
	for i, format := range []string{FormatECS, FormatRaw} {
		set := hecSettings(rec.URL)
		set.TLSCA, set.Format = rec.Cert.PEM, format
		if out, _, err := h.handle(job(set, doc)); out != engine.OutcomeDone {
			t.Fatalf("%s: outcome %v: %v", format, out, err)
		}
		got := rec.Events()[i]
		var sent map[string]any
		b, _ := json.Marshal(got.Envelope["event"])
		_ = json.Unmarshal(b, &sent)
		if f := got.Envelope["fields"].(map[string]any); f["event_id"] != "pmcloud-audit:48211" {
			t.Errorf("%s: fields %v", format, f)
		}
		if format == FormatRaw {
			if sent["auditType"] != "Modify" || sent["entityName"] != "Finance" {
				t.Errorf("raw: %s", b)
			}
			continue
		}
		ev := sent["event"].(map[string]any)
		if ev["id"] != "48211" || ev["action"] != "Modify" || ev["type"].([]any)[0] != "change" || ev["original"] != mustCompact(t, doc) ||
			sent["user"].(map[string]any)["name"] != "admin@example.com" || sent["message"] == "" {
			t.Errorf("ecs: %s", b)
		}
	}
	for name, c := range map[string]struct {
		set  func(*Settings)
		doc  string
		want engine.Outcome
	}{
		"cef":             {func(s *Settings) { s.Format = FormatCEF }, doc, engine.OutcomeSkipped},
		"events only":     {func(s *Settings) { s.EventTypes = []string{pmcloudType} }, doc, engine.OutcomeSkipped},
		"not json":        {func(*Settings) {}, "<html>", engine.OutcomePermanent},
		"not object":      {func(*Settings) {}, "[1]", engine.OutcomePermanent},
		"odd field types": {func(*Settings) {}, `{"id":{"x":1},"details":7,"user":["a"]}`, engine.OutcomeDone},
		"audits selected": {func(s *Settings) { s.EventTypes = []string{pmcloudAuditType} }, doc, engine.OutcomeDone},
	} {
		s := hecSettings(rec.URL)
		s.TLSCA = rec.Cert.PEM
		c.set(s)
		if out, _, err := h.handle(job(s, c.doc)); out != c.want {
			t.Errorf("%s: outcome %v (%v), want %v", name, out, err, c.want)
		}
	}
}

func mustCompact(t *testing.T, doc string) string {
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
