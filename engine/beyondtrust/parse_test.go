package beyondtrust

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"switchboard/engine/rusage"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// samples is the shared folder of appliance responses.
const samples = "../../testdata/sessions"

// parseSample parses a sample with the parser its name calls for and returns
// what the golden file records: the result, or the error's type and text.
func parseSample(t testing.TB, name string, data []byte) any {
	t.Helper()
	var result any
	var err error
	switch {
	case strings.HasPrefix(name, "listing_"):
		result, err = ParseListing(bytes.NewReader(data))
	case strings.HasPrefix(name, "survey_customer"):
		result, err = ParseSurveys(bytes.NewReader(data), CustomerSurvey)
	case strings.HasPrefix(name, "survey_rep"):
		result, err = ParseSurveys(bytes.NewReader(data), RepSurvey)
	case strings.HasPrefix(name, "api_info_"):
		result, err = ParseAPIInfo(bytes.NewReader(data))
	default:
		result, err = ParseSessions(bytes.NewReader(data))
	}
	if err != nil {
		var pe *ParseError
		var re *ResponseError
		kind := "other"
		switch {
		case errors.As(err, &pe):
			kind = "ParseError"
		case errors.As(err, &re):
			kind = "ResponseError"
		}
		return map[string]string{"error_type": kind, "error": err.Error()}
	}
	return map[string]any{"result": result}
}

func TestParseGolden(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(samples, "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples in %s: %v", samples, err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".xml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(parseSample(t, name, data)); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			golden := filepath.Join("testdata", "golden", name+".json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("parsed %s differs from %s (run go test -update after checking the change):\n%s", file, golden, got)
			}
		})
	}
}

func TestParseSessionsFields(t *testing.T) {
	t.Parallel()
	read := func(name string) []*Session {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(samples, name))
		if err != nil {
			t.Fatal(err)
		}
		s, err := ParseSessions(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return s
	}
	typical := read("rs_typical.xml")[0]
	pra := read("pra_access_session.xml")[0]
	open := read("rs_in_progress_no_customer.xml")[0]
	unicode := read("rs_unicode_encoded_chat.xml")[0]
	two := read("rs_two_sessions.xml")

	tests := []struct {
		name      string
		got, want any
	}{
		{"rs product from namespace", typical.Product, ProductRS},
		{"pra product from namespace", pra.Product, ProductPRA},
		{"prefixed namespace", unicode.Product, ProductRS},
		{"start time UTC from timestamp", typical.StartTime, time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)},
		{"time from ISO text with offset", two[1].EndTime, time.Date(2026, 2, 25, 6, 5, 30, 0, time.UTC)},
		{"duration", pra.Duration, 15*time.Minute + 2*time.Second},
		{"chat lines", len(typical.Chat()), 50},
		{"reps", len(typical.Reps), 2},
		{"custom attribute by code name", first(typical.Attribute("cost_center")), "CC-7100"},
		{"customer info", typical.Customers[0].Info.CompanyCode, "NWT-001"},
		{"survey newline unescaped", typical.CustomerSurveys[0].Answers[2].Value, "Quick and friendly.\nThank you!"},
		{"system info categories", len(typical.SystemInfo()), 7},
		{"system info rows", len(typical.SystemInfo()[4].Rows), 2},
		{"jump group", pra.JumpGroup, JumpGroup{ID: "3", Type: "shared", Name: "Database Servers"}},
		{"shell recording", pra.ShellRecordings[0].Instance, "0"},
		{"encoded body decoded", pra.Chat()[1].Text, "Log line with a bell \a and a form feed \f char"},
		{"encoded body wins over body", unicode.Chat()[4].Text, "\x1b[31mERROR\x1b[0m: disk full\x00 ü"},
		{"CDATA body", unicode.Chat()[5].Text, `Use <b>bold</b> & "quotes"`},
		{"entities", unicode.Chat()[6].Text, "Rep & customer <connected> ✓"},
		{"unicode chat", unicode.Chat()[3].Text, "Emoji test: 👩🏽‍💻 🚀 and math ∑∞≠"},
		{"files of one event", len(pra.FileTransfers()), 3},
		{"in progress", open.Ended(), false},
		{"no customer", len(open.Customers), 0},
		{"several reps", len(open.Reps), 3},
		{"Unknown stays text", open.Reps[0].Hostname, "Unknown"},
		{"Unknown number reads 0", open.Reps[0].SecondsInvolved, int64(0)},
		{"private chat destination", open.Chat()[0].To, "Tae Kim"},
		{"lsids in order", two[0].LSID + "," + two[1].LSID, "aaaa0000000000000000000000000001,aaaa0000000000000000000000000002"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %#v, want %#v", tt.name, tt.got, tt.want)
		}
	}
}

func first[T any](v T, _ bool) T { return v }

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		empty   bool   // a "no data" answer: no error, no sessions
		errType string // "parse" or "response"
		quote   string // the error text must contain it
	}{
		{name: "no data en", body: `<error>No Support report information matching your chosen criteria is available.</error>`, empty: true},
		{name: "no data typographic apostrophe", body: `<error>Aucune information correspondant à vos critères n’est disponible.</error>`, empty: true},
		{name: "no data ja", body: `<error>選択した条件に一致するサポート レポート情報はありません。</error>`, empty: true},
		{name: "empty list", body: `<session_list xmlns="` + NamespaceRSReporting + `"/>`, empty: true},
		{name: "other error", body: `<error>Login failed</error>`, errType: "response", quote: "Login failed"},
		{name: "error with code", body: `<error code="x">Oops</error>`, errType: "response", quote: "error x: Oops"},
		{name: "nested other error", body: `<session_list><error>Invalid lsid</error></session_list>`, errType: "response", quote: "Invalid lsid"},
		{name: "html", body: "<!DOCTYPE html><html><body>Sign in</body></html>", errType: "parse", quote: `want <session_list>; response begins "<!DOCTYPE html><html><body>Sign in</body></html>"`},
		{name: "empty body", body: "", errType: "parse", quote: "empty response"},
		{name: "truncated", body: `<session_list><session lsid="1"><lseq>1`, errType: "parse", quote: "unexpected EOF"},
		{name: "mismatched", body: `<session_list><session></session_list></session>`, errType: "parse", quote: "closed by"},
		{name: "not xml", body: "Service Unavailable", errType: "parse", quote: "text before the root element"},
		{name: "bad time", body: `<session_list><session lsid="x"><end_time>yesterday</end_time></session></session_list>`, errType: "parse", quote: `session x: end_time: cannot read time "yesterday"`},
		{name: "bad base64", body: `<session_list><session lsid="x"><session_details><event><encoded_body>!!</encoded_body></event></session_details></session></session_list>`, errType: "parse", quote: "encoded_body"},
		{name: "trailing content", body: `<session_list/><session_list/>`, errType: "parse", quote: "after the root element"},
		{name: "long head is cut", body: "<html>" + strings.Repeat("x", 200), errType: "parse", quote: `response begins "<html>` + strings.Repeat("x", headSize-6) + `"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSessions(strings.NewReader(tt.body))
			if tt.empty {
				if err != nil || len(got) != 0 {
					t.Fatalf("got %d sessions, err %v; want an empty result", len(got), err)
				}
				return
			}
			var pe *ParseError
			var re *ResponseError
			switch {
			case err == nil:
				t.Fatalf("no error, want a %s error", tt.errType)
			case tt.errType == "parse" && !errors.As(err, &pe), tt.errType == "response" && !errors.As(err, &re):
				t.Fatalf("error %T %v, want a %s error", err, err, tt.errType)
			}
			if !strings.Contains(err.Error(), tt.quote) {
				t.Errorf("error %q does not contain %q", err, tt.quote)
			}
		})
	}
}

func TestIsNoData(t *testing.T) {
	t.Parallel()
	for _, m := range []string{
		"No vault account activity matching your chosen criteria is available",
		"NO SUPPORT TEAM REPORT INFORMATION MATCHING YOUR CHOSEN CRITERIA IS AVAILABLE.",
	} {
		if !IsNoData(m) {
			t.Errorf("IsNoData(%q) = false", m)
		}
	}
	for _, m := range []string{"Login failed", "This recording has expired", ""} {
		if IsNoData(m) {
			t.Errorf("IsNoData(%q) = true", m)
		}
	}
}

func TestAPIInfoPermissions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file               string
		reporting, fullCmd bool
		version            string
		timestamp          time.Time
	}{
		{"api_info_rs.xml", true, true, "1.24.1", time.Unix(1772446800, 0).UTC()},
		{"api_info_pra_readonly.xml", true, false, "1.25.2", time.Date(2026, 3, 2, 10, 20, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		data, err := os.ReadFile(filepath.Join(samples, tt.file))
		if err != nil {
			t.Fatal(err)
		}
		info, err := ParseAPIInfo(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		if info.HasReporting() != tt.reporting || info.HasFullCommand() != tt.fullCmd || info.Version != tt.version || !info.Timestamp.Equal(tt.timestamp) {
			t.Errorf("%s: got reporting %v, full command %v, version %q, timestamp %v", tt.file, info.HasReporting(), info.HasFullCommand(), info.Version, info.Timestamp)
		}
	}
}

func TestParseCommandResult(t *testing.T) {
	t.Parallel()
	msg, err := ParseCommandResult(strings.NewReader(`<success xmlns="` + NamespaceRSCommand + `">Session attributes were set</success>`))
	if err != nil || msg != "Session attributes were set" {
		t.Errorf("got %q, %v", msg, err)
	}
	_, err = ParseCommandResult(strings.NewReader(`<error>Session is not active</error>`))
	var re *ResponseError
	if !errors.As(err, &re) || re.Message != "Session is not active" {
		t.Errorf("got %v, want the appliance's error", err)
	}
}

// sampleData returns the contents of every shared sample, the seeds of the
// fuzz targets.
func sampleData(tb testing.TB) [][]byte {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(samples, "*.xml"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no samples in %s: %v", samples, err)
	}
	var out [][]byte
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

func FuzzParseSessions(f *testing.F) {
	for _, data := range sampleData(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sessions, err := ParseSessions(bytes.NewReader(data))
		if err != nil {
			var pe *ParseError
			var re *ResponseError
			if !errors.As(err, &pe) && !errors.As(err, &re) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			if sessions != nil {
				t.Fatalf("sessions returned with error %v", err)
			}
			return
		}
		for _, s := range sessions {
			if s == nil {
				t.Fatal("nil session")
			}
			if !s.StartTime.IsZero() && s.StartTime.Location() != time.UTC {
				t.Fatalf("start time %v not UTC", s.StartTime)
			}
		}
	})
}

// BenchmarkParseSession parses one typical session: 50 chat lines, two
// representatives, a note, a file transfer and system information. Besides
// wall time it reports sessions per CPU-second of this process, which stays
// meaningful on a machine shared with other work.
func BenchmarkParseSession(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(samples, "rs_typical.xml"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	cpu := rusage.CPU()
	for b.Loop() {
		s, err := ParseSessions(bytes.NewReader(data))
		if err != nil || len(s) != 1 {
			b.Fatal(len(s), err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sessions/s")
	b.ReportMetric(float64(b.N)/(rusage.CPU()-cpu).Seconds(), "sessions/cpu-s")
}
