package siem

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
)

// equivalenceEvents are every event type of ecsCases and the benchmark,
// a summary, an outbound event, the Test button's event, an RS session,
// and text with what JSON and CEF must escape or clean.
func equivalenceEvents() []Event {
	o := Origin{ApplianceID: "Default", Host: "access.example.com"}
	var out []Event
	for _, c := range ecsCases {
		ev := c.event
		ev.Timestamp = t0
		out = append(out, SessionEvents(praSession(ev), o)...)
	}
	hostile := "a\r\nb\rc\x00d\x1be\tf <g> & \"h\" \\i =j |k \u2028l\u2029 \xff\xfe m ü 😀"
	pra := praSession(
		bt.SessionEvent{Type: "Chat Message", Timestamp: t0, PerformedBy: admin, Body: hostile, Data: nv("body", hostile)},
		bt.SessionEvent{Type: "File Download", Timestamp: t0, PerformedBy: admin, Destination: customerActor, Data: nv("path", `C:\dir\`+hostile, "filesize", "12", "sha256", "ABC")},
		bt.SessionEvent{Type: "Remote Shell Event", Timestamp: t0.Add(time.Millisecond * 1234), PerformedBy: system, Data: nv("text", hostile, "weird\x01key", "v", "text", "second")},
		bt.SessionEvent{Type: "Conference Member Added", Timestamp: t0, PerformedBy: bt.Actor{Type: bt.ActorRepresentative, Name: "10.1.2.3"}, Data: nv("public_ip", "4.3.2.1:50677", "private_ip", "10.0.0.9")},
		bt.SessionEvent{Type: "File Transfer Complete", Timestamp: t0, PerformedBy: admin, Files: []bt.File{{Name: `C:\a\b.txt`, Size: 3}, {Name: "/x/y", Size: 4}}},
	)
	pra.ChatViewURL, pra.RecordingViewURL = "https://access.example.com/chat?a=1&b=2", "https://access.example.com/rec?x=<y>"
	pra.CustomAttributes = []bt.CustomAttribute{{CodeName: "ticket", Value: hostile}}
	pra.ShellRecordings = []bt.ShellRecording{{Instance: "1", ViewURL: "https://v", DownloadURL: "https://d"}}
	out = append(out, SessionEvents(pra, o)...)
	rs := praSession(bt.SessionEvent{Type: "Session Start", Timestamp: t0})
	rs.Product, rs.JumpGroup, rs.PublicSite = bt.ProductRS, bt.JumpGroup{}, bt.Ref{ID: "1", Name: "Default <site>"}
	out = append(out, SessionEvents(rs, o)...)
	out = append(out,
		Event{ID: "x:1-2:member-added", Kind: "member-added", Index: -1, Time: t0, Type: "Member Added", ApplianceID: "Default", Host: "h", Session: pra,
			Fields: map[string]string{"event": "support_conference_member_added", "note": hostile}},
		Event{ID: "test:0:test", Kind: "test", Index: -1, Time: t0, Type: TestType, ApplianceID: "Default", Host: "h", Test: true},
	)
	return out
}

// TestDirectEncoderMatchesMaps checks that the direct JSON writer gives
// the bytes the nested map and engine.MarshalClean gave before it, and
// CEF the same record from either, for every event and redaction.
func TestDirectEncoderMatchesMaps(t *testing.T) {
	t.Parallel()
	events := equivalenceEvents()
	for _, r := range []Redaction{{}, {Chat: true}, {Paths: true}, {Chat: true, Paths: true}} {
		for i := range events {
			e := &events[i]
			want, err := engine.MarshalClean(ECS(e, r))
			if err != nil {
				t.Fatal(err)
			}
			got, err := Encode(FormatECS, e, r)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Body, want) {
				t.Errorf("ECS %s %+v:\n got %s\nwant %s", e.ID, r, got.Body, want)
			}
			want, err = engine.MarshalClean(Raw(e, r))
			if err != nil {
				t.Fatal(err)
			}
			if got, _ = Encode(FormatRaw, e, r); !bytes.Equal(got.Body, want) {
				t.Errorf("raw %s %+v:\n got %s\nwant %s", e.ID, r, got.Body, want)
			}
			if got, want := CEF(e, r), cef(obj{}, e, r); got != want {
				t.Errorf("CEF %s %+v:\n got %s\nwant %s", e.ID, r, got, want)
			}
		}
	}
}

// TestDocMatchesObj checks the flat document against the nested map for
// what the mappings never do today: keys that sort differently flat and
// nested, and a leaf replacing an object and the other way round.
func TestDocMatchesObj(t *testing.T) {
	t.Parallel()
	steps := []struct {
		path string
		v    any
	}{
		{"a.b", "1"}, {"a-b", "2"}, {"a", "3"}, {"a.c.d", 4}, {"ab.c", true}, {"a.c", "5"}, {"a.c.e", int64(6)},
		{"x", "\x01"}, {"y.z", []string{"p", "q"}}, {"y.z", ""}, {"y.w", map[string]string{"k\r": "v", "a": "b"}},
	}
	o, d := obj{}, &doc{}
	for _, s := range steps {
		o.set(s.path, s.v)
		d.set(s.path, s.v)
		want, err := engine.MarshalClean(o)
		if err != nil {
			t.Fatal(err)
		}
		if got := encodeJSON(nil, d.appendJSON); !bytes.Equal(got, want) {
			t.Fatalf("after %s:\n got %s\nwant %s", s.path, got, want)
		}
	}
}

// TestHECEnvelopeMatchesMarshal checks the hand-written HEC envelope
// against the same envelope built with encoding/json.
func TestHECEnvelopeMatchesMarshal(t *testing.T) {
	t.Parallel()
	h := &hec{set: &Settings{HECSource: "sb<1>", HECSourcetype: "beyondtrust:ecs", HECIndex: "soc"}}
	for _, e := range equivalenceEvents() {
		for _, format := range []string{FormatECS, FormatCEF} {
			enc, err := Encode(format, &e, Redaction{})
			if err != nil {
				t.Fatal(err)
			}
			q := func(v string) string { b, _ := json.Marshal(v); return string(b) }
			want := `{"time":` + strconv.FormatFloat(float64(e.Time.UnixMilli())/1000, 'f', 3, 64) + `,"host":` + q(e.Host) +
				`,"source":"sb\u003c1\u003e","sourcetype":"beyondtrust:ecs","index":"soc","event":`
			if enc.JSON {
				want += string(enc.Body)
			} else {
				want += q(string(enc.Body))
			}
			fields := map[string]string{"event_id": e.ID, "kind": e.Kind}
			if e.Session != nil {
				fields["lsid"], fields["product"] = e.Session.LSID, e.Session.Product
			}
			f, _ := json.Marshal(fields)
			want += `,"fields":` + string(f) + "}\n"
			if got := string(h.envelope(nil, enc)); got != want {
				t.Errorf("%s %s:\n got %s\nwant %s", e.ID, format, got, want)
			}
		}
	}
}
