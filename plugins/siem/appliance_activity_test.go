package siem

import (
	"encoding/json"
	"net/url"
	"testing"

	"switchboard/engine"
	activitysrc "switchboard/engine/sources/appliance"
	"switchboard/plugins/siem/siemtest"
)

// Appliance activity records reach HEC mapped to ECS (the document in
// event.original) or raw, each stream with its own event type and dataset,
// so that a configuration can select or route them apart.
func TestApplianceActivityForwardsMapped(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rec := startHEC(t, siemtest.HECOptions{TLS: true, Indexes: []string{"security"}})
	docs := map[string]string{
		activitysrc.StreamTeam:   `{"report":"Team","team":{"id":"1","name":"Integration"},"timestamp":"2026-03-16T16:52:43Z","unix":1773679963,"event_type":"Conference Member Added","performed_by":{"type":"representative","name":"John Doe"},"data":{"public_ip":"4.3.2.1:41286"}}`,
		activitysrc.StreamVault:  `{"report":"VaultAccountActivity","timestamp":"2026-03-16T14:40:20Z","unix":1773672020,"event_type":"Password Changed","account_id":"1","performed_by":{"id":"2","type":"User","name":"John Doe"},"data":"Manually Edited"}`,
		activitysrc.StreamSyslog: `{"report":"Syslog","timestamp":"2026-03-10T16:55:00Z","unix":1773161700,"host":"test","process":"BG","pid":24183,"number":1427,"fields":{"event":"setting_changed","when":"1773161700","who":"JOHN DOE","who_ip":"1.2.3.4"},"message":"when=1773161700;who=JOHN DOE;who_ip=1.2.3.4;event=setting_changed"}`,
	}
	job := func(s *Settings, stream, doc string) *engine.Job {
		j := h.job(s, "")
		j.Event = engine.Event{ApplianceID: "pra-prod", Name: activitysrc.EventName[stream], Source: activitysrc.Source, Timestamp: t0,
			Fields: url.Values{activitysrc.DocumentField: {doc}, "record_id": {"abc"}, "stream": {stream}, "appliance": {"access.example.com"}}}
		return j
	}
	n := 0
	for stream, doc := range docs {
		for _, format := range []string{FormatECS, FormatRaw} {
			set := hecSettings(rec.URL)
			set.TLSCA, set.Format = rec.Cert.PEM, format
			if out, _, err := h.handle(job(set, stream, doc)); out != engine.OutcomeDone {
				t.Fatalf("%s %s: outcome %v: %v", stream, format, out, err)
			}
			got := rec.Events()[n]
			n++
			var sent map[string]any
			b, _ := json.Marshal(got.Envelope["event"])
			_ = json.Unmarshal(b, &sent)
			if f := got.Envelope["fields"].(map[string]any); f["event_id"] != "appliance:"+stream+":abc" {
				t.Errorf("%s %s: fields %v", stream, format, f)
			}
			if format == FormatRaw {
				if sent["report"] == nil {
					t.Errorf("raw: %s", b)
				}
				continue
			}
			ev := sent["event"].(map[string]any)
			if ev["original"] != doc || ev["dataset"] != applianceTypes[activitysrc.EventName[stream]][1] || ev["action"] == "" {
				t.Errorf("%s ecs: %s", stream, b)
			}
			switch stream {
			case activitysrc.StreamVault:
				if ev["type"].([]any)[0] != "change" || sent["user"].(map[string]any)["id"] != "2" {
					t.Errorf("vault ecs: %s", b)
				}
			case activitysrc.StreamSyslog:
				if sent["source"].(map[string]any)["ip"] != "1.2.3.4" || ev["action"] != "setting_changed" {
					t.Errorf("syslog ecs: %s", b)
				}
			}
		}
	}
	for name, c := range map[string]struct {
		set  func(*Settings)
		doc  string
		want engine.Outcome
	}{
		"cef":         {func(s *Settings) { s.Format = FormatCEF }, docs[activitysrc.StreamVault], engine.OutcomeSkipped},
		"other types": {func(s *Settings) { s.EventTypes = []string{applianceTeamType} }, docs[activitysrc.StreamVault], engine.OutcomeSkipped},
		"not json":    {func(*Settings) {}, "<html>", engine.OutcomePermanent},
	} {
		set := hecSettings(rec.URL)
		set.TLSCA = rec.Cert.PEM
		c.set(set)
		if out, _, _ := h.handle(job(set, activitysrc.StreamVault, c.doc)); out != c.want {
			t.Errorf("%s: outcome %v, want %v", name, out, c.want)
		}
	}
}
