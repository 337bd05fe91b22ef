package activity

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard/engine/beyondtrust"
)

// syslogLine writes one segment as Sekoia's fixtures show it.
func syslogLine(at time.Time, pid, number, part, total int, payload string) string {
	return fmt.Sprintf("%s test BG[%d]: %d:%02d:%02d:%s", at.Format(time.Stamp), pid, number, part, total, payload)
}

func zipOf(t testing.TB, files ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i, content := range files {
		w, err := zw.Create(fmt.Sprintf("syslog-%d.log", i))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func messages(t testing.TB, archive []byte) []SyslogDoc {
	t.Helper()
	recs, err := ReadSyslog(bytes.NewReader(archive), t.TempDir())
	if err != nil {
		t.Fatalf("ReadSyslog: %v", err)
	}
	out := make([]SyslogDoc, len(recs))
	for i, r := range recs {
		if err := json.Unmarshal(r.Doc, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestParseSegment(t *testing.T) {
	t.Parallel()
	seg, ok := ParseSegment("Mar  3 11:55:00 test BG[100]: 1427:03:05:some;payload:with:colons")
	if !ok || seg.Date != "Mar  3 11:55:00" || seg.Host != "test" || seg.Process != "BG" || seg.PID != 100 ||
		seg.Number != 1427 || seg.Part != 3 || seg.Total != 5 || seg.Payload != "some;payload:with:colons" {
		t.Fatalf("%+v %v", seg, ok)
	}
	for _, bad := range []string{
		"", "not a syslog line", "Mar 10 11:55:00 test BG: missing brackets",
		"Mar 10 11:55:00 test BG[1]: 1:04:03:part past total", "Mar 10 11:55:00 test BG[1]: 1:00:03:part zero",
		"Mar 10 11:55:00 test BG[1]: 1:01:00:total zero", "Mar 10 11:55:00 test BG[1]: 1:01:99999:too many parts",
		"Mar 10 11:55:00 test BG[-1]: 1:01:01:negative pid", "Mar 10 11:55:00 test BG[1]: 1:01:01", // no payload separator
		"Mar 10 11:5:00 test BG[1]: 1:01:01:x", "March 10 11:55:00 test BG[1]: 1:01:01:x",
		"Mar 10 11:55:00 test BG[99999999999]: 1:01:01:x",
	} {
		if seg, ok := ParseSegment(bad); ok {
			t.Errorf("%q read as %+v", bad, seg)
		}
	}
}

func TestReassemblyOutOfOrderMissingAndRepeated(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 16, 3, 10, 36, 0, time.UTC)
	l := func(pid, number, part, total int, payload string) string {
		return syslogLine(at, pid, number, part, total, payload)
	}
	archive := zipOf(t, strings.Join([]string{
		l(77178, 1430, 3, 3, "old_username=jane"),
		l(77178, 1430, 1, 3, "site=s;when=1773648636;"),
		l(1, 7, 1, 2, "when=1773648637;a=1;"), // interleaved with another message
		l(77178, 1430, 2, 3, "event=user_changed;"),
		l(2, 9, 1, 3, "when=1773648638;b="), // part 2 missing, part 3 there
		l(2, 9, 3, 3, ";c=3"),
		l(3, 5, 1, 2, "when=1773648639;first="), // part 1 repeated: the first message is closed incomplete
		l(3, 5, 1, 2, "when=1773648640;second="),
		l(3, 5, 2, 2, "two"),
		"a line of another shape",
		"",
		l(1, 7, 2, 2, "b=2") + "\r",            // CRLF
		l(4, 1, 1, 2, "when=1773648641;tail="), // the archive ends before part 2
	}, "\n"), l(5, 1, 1, 1, "when=1773648642;file=second"))
	got := messages(t, archive)
	var summary []string
	for _, m := range got {
		summary = append(summary, fmt.Sprintf("%s|%v|%v|%v", m.Message, m.Missing, m.Incomplete, m.NotSegment))
	}
	want := []string{
		"site=s;when=1773648636;event=user_changed;old_username=jane|[]|false|false",
		"when=1773648639;first=|[2]|true|false",
		"when=1773648640;second=two|[]|false|false",
		"a line of another shape|[]|false|true",
		"when=1773648637;a=1;b=2|[]|false|false",
		"when=1773648642;file=second|[]|false|false", // messages may span files: the open ones wait for the end
		"when=1773648638;b=;c=3|[2]|true|false",
		"when=1773648641;tail=|[2]|true|false",
	}
	if !slices.Equal(summary, want) {
		t.Errorf("messages\n%s\nwant\n%s", strings.Join(summary, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseFieldsKeepsEveryByte(t *testing.T) {
	t.Parallel()
	got := ParseFields("site=a.example;when=1773161700;who=Jane Doe (jane@example.com) using oidc;note=x;y;url=https://a/?q=1;")
	want := []Field{{"site", "a.example"}, {"when", "1773161700"}, {"who", "Jane Doe (jane@example.com) using oidc"}, {"note", "x;y"}, {"url", "https://a/?q=1"}}
	if !slices.Equal(got, want) {
		t.Errorf("%q, want %q", got, want)
	}
	if got := ParseFields("lead;a=1"); !slices.Equal(got, []Field{{"", "lead"}, {"a", "1"}}) {
		t.Errorf("%q", got)
	}
	if w := When(ParseFields("when=abc")); !w.IsZero() {
		t.Errorf("when %v", w)
	}
}

func TestSyslogArchiveFaults(t *testing.T) {
	t.Parallel()
	good := zipOf(t, syslogLine(time.Now(), 1, 1, 1, 1, "when=1773161700;event=login"))
	for name, tc := range map[string]struct {
		body []byte
		want func(error) bool
	}{
		"truncated": {good[:len(good)-10], isMalformed},
		"not a zip": {[]byte("PK\x03\x04 broken"), isMalformed},
		"html":      {[]byte("<html><body>proxy</body></html>"), isMalformed},
		"refusal":   {[]byte(`<?xml version="1.0"?><error code="x">You do not have permission</error>`), isRefusal},
	} {
		_, err := ReadSyslog(bytes.NewReader(tc.body), t.TempDir())
		if !tc.want(err) {
			t.Errorf("%s: error %v", name, err)
		}
	}
	recs, err := ReadSyslog(strings.NewReader(`<error>No Support report information matching your chosen criteria is available.</error>`), t.TempDir())
	if err != nil || len(recs) != 0 {
		t.Errorf("no data: %v %v", recs, err)
	}
	if got := messages(t, zipOf(t)); len(got) != 0 {
		t.Errorf("empty archive: %v", got)
	}
}

func isMalformed(err error) bool {
	var pe *beyondtrust.ParseError
	return errors.As(err, &pe)
}

func isRefusal(err error) bool {
	var re *beyondtrust.ResponseError
	return errors.As(err, &re)
}

// Not parallel: they change the package's bounds.
func TestSyslogBounds(t *testing.T) {
	defer func(e int64, l int) { MaxExpanded, MaxLine = e, l }(MaxExpanded, MaxLine)
	MaxLine = 100
	got := messages(t, zipOf(t, strings.Repeat("x", 250)+"\nMar 10 11:55:00 test BG[1]: 1:01:01:when=5;ok=1\n"))
	if len(got) != 2 || !got[0].Cut || len(got[0].Message) != 100 || got[1].Fields["ok"] != "1" {
		t.Errorf("long line: %+v", got)
	}
	MaxExpanded = 1000
	_, err := ReadSyslog(bytes.NewReader(zipOf(t, strings.Repeat("a\n", 2000))), t.TempDir())
	if !isMalformed(err) || !strings.Contains(err.Error(), "expands past") {
		t.Errorf("expanding archive: %v", err)
	}
}

func TestOddReportXML(t *testing.T) {
	t.Parallel()
	recs, err := ParseTeam(strings.NewReader(`<?xml version="1.0" encoding="UTF-8"?>
<!-- comment -->
<team_activity_list xmlns="urn:other"><unknown><x/></unknown>
<team_activity id="1" name="A"><events>
  <event timestamp="oops" event_type="No Time"><performed_by type="system">Sys<b>old</b></performed_by><data><value name="k" value="1"/><value name="k" value="2"/></data><extra/></event>
</events></team_activity></team_activity_list>`), "Team")
	if err != nil || len(recs) != 1 || !recs[0].At.IsZero() {
		t.Fatalf("%v %v", recs, err)
	}
	var d TeamDoc
	_ = json.Unmarshal(recs[0].Doc, &d)
	if d.Data["k"] != "1" || d.Data["k#2"] != "2" || d.PerformedBy.Name != "Sys" || d.EventType != "No Time" {
		t.Errorf("%+v", d)
	}
	// An <error> inside the list (older appliances) that says "no data".
	recs, err = ParseVault(strings.NewReader(`<vault_account_activity_list><error>No vault account activity matching your chosen criteria is available</error></vault_account_activity_list>`))
	if err != nil || len(recs) != 0 {
		t.Errorf("wrapped no data: %v %v", recs, err)
	}
	if _, err := ParseVault(strings.NewReader(`<vault_account_activity_list><error>Login failed</error></vault_account_activity_list>`)); !isRefusal(err) {
		t.Errorf("wrapped refusal: %v", err)
	}
}

// FuzzSyslogReassembly feeds arbitrary lines: nothing panics, every line
// that is a segment or text ends up in exactly one message, and no message
// holds more than its lines.
func FuzzSyslogReassembly(f *testing.F) {
	f.Add("Mar 16 03:10:36 test BG[77178]: 1430:02:03:b;\nMar 16 03:10:36 test BG[77178]: 1430:01:03:when=1;\nMar 16 03:10:36 test BG[77178]: 1430:03:03:c")
	f.Add("Mar 16 03:10:36 test BG[1]: 1:01:02:x\nMar 16 03:10:36 test BG[1]: 1:01:02:y\nnoise\n\n")
	f.Add("Mar  3 11:55:00 h BG[1]: 9:02:02:z\r\nMar  3 11:55:00 h BG[1]: 9:01:03:q")
	f.Fuzz(func(t *testing.T, input string) {
		var payloadBytes int
		var want int
		for line := range strings.SplitSeq(input, "\n") {
			line = strings.TrimRight(line, "\r\n")
			if strings.TrimSpace(line) == "" {
				continue
			}
			if seg, ok := ParseSegment(line); ok {
				payloadBytes += len(seg.Payload)
			} else {
				payloadBytes += len(line)
			}
			want++
		}
		var got, gotBytes int
		re := NewReassembler(func(m Message) {
			got++
			gotBytes += len(m.Payload)
			if len(m.Missing) > 0 && m.Total <= 1 {
				t.Fatalf("a single-segment message with missing parts: %+v", m)
			}
		})
		for line := range strings.SplitSeq(input, "\n") {
			re.Line(line)
		}
		re.Flush()
		if got > want || gotBytes != payloadBytes {
			t.Fatalf("%d messages holding %d bytes from %d lines holding %d", got, gotBytes, want, payloadBytes)
		}
	})
}

// FuzzSyslogFields: nothing panics and no text is dropped (only the ";"
// separators may differ).
func FuzzSyslogFields(f *testing.F) {
	f.Add("site=test.beyondtrustcloud.com;when=1773161700;who=JOHN DOE (john.doe@example.org);who_ip=1.2.3.4;event=setting_changed;old_api=0;new_api=1")
	f.Add(";;=;a==b;;c")
	f.Add("x;y=1;")
	f.Fuzz(func(t *testing.T, payload string) {
		fields := ParseFields(payload)
		var b strings.Builder
		for _, fl := range fields {
			if fl.Name != "" {
				b.WriteString(fl.Name + "=")
			}
			b.WriteString(fl.Value)
		}
		strip := func(s string) string { return strings.ReplaceAll(s, ";", "") }
		if strip(b.String()) != strip(payload) {
			t.Fatalf("fields %q lose text of %q", fields, payload)
		}
		_ = When(fields)
	})
}

// FuzzActivityXML: the report parsers never panic, and return records or an
// error the client can classify.
func FuzzActivityXML(f *testing.F) {
	f.Add(`<team_activity_list><team_activity id="1" name="A"><events><event timestamp="1773679963" event_type="x"><performed_by type="r">n</performed_by><data><value name="a" value="b"/></data></event></events></team_activity_list>`)
	f.Add(`<vault_account_activity_list><vault_account_activity timestamp="1" event_type="e" account="1"><performed_by id="2" type="User">J</performed_by><data>d</data></vault_account_activity></vault_account_activity_list>`)
	f.Add(`<error code="x">No vault account activity matching your chosen criteria is available</error>`)
	f.Fuzz(func(t *testing.T, doc string) {
		for _, parse := range []func() ([]Record, error){
			func() ([]Record, error) { return ParseTeam(strings.NewReader(doc), "Team") },
			func() ([]Record, error) { return ParseVault(strings.NewReader(doc)) },
		} {
			recs, err := parse()
			if err != nil && !isMalformed(err) && !isRefusal(err) {
				t.Fatalf("unclassified error %T %v", err, err)
			}
			if err != nil && recs != nil {
				t.Fatal("records with an error")
			}
		}
	})
}
