package siem

import (
	"strings"
	"testing"

	bt "switchboard/engine/beyondtrust"
)

func TestCEFEscaping(t *testing.T) {
	t.Parallel()
	s := praSession(bt.SessionEvent{Type: "Chat|Message", Timestamp: t0, PerformedBy: admin, Body: "a=b\\c|d\r\ne\nf"})
	s.JumpGroup.Name = `Ops | Prod \ A=B`
	events := SessionEvents(s, Origin{ApplianceID: "Default", Host: "access.example.com"})
	got := CEF(&events[0], Redaction{})
	wantHead := `CEF:0|BeyondTrust|Privileged Remote Access||chat-message|Chat\|Message|3|`
	if !strings.HasPrefix(got, wantHead) {
		t.Fatalf("header:\n got %s\nwant %s", got, wantHead)
	}
	for _, want := range []string{`msg=a\=b\\c|d\ne\nf`, `cs2=Ops | Prod \\ A\=B`, `cs2Label=jumpGroup`, `externalId=1f344f8a38d14d1597b1c4188e0b6a55:0:chat-message`, `rt=1733239944000`, `suser=Admin`} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s in\n%s", want, got)
		}
	}
	if strings.ContainsAny(got, "\r\n") {
		t.Errorf("a CEF record must stay on one line: %q", got)
	}
	// A header field with a line break stays on one line too.
	s.Events[0].Type = "Odd\nType"
	if got := CEF(&SessionEvents(s, Origin{})[0], Redaction{}); strings.ContainsAny(got, "\n") || !strings.Contains(got, "|Odd Type|") {
		t.Errorf("header line break: %q", got)
	}
}

func TestCEFFileFields(t *testing.T) {
	t.Parallel()
	s := praSession(bt.SessionEvent{Type: "File Upload", Timestamp: t0, PerformedBy: admin, Destination: customerActor, Data: nv("filename", `C:\Users\jdoe\Downloads\image.png`, "filesize", "1296708")})
	got := CEF(&SessionEvents(s, Origin{})[0], Redaction{})
	for _, want := range []string{`fname=image.png`, `filePath=C:\\Users\\jdoe\\Downloads\\image.png`, `fsize=1296708`, `dhost=WIN-ENDPOINT`, `cs1=1f344f8a38d14d1597b1c4188e0b6a55`} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s in\n%s", want, got)
		}
	}
}

// TestCEFEscapeMatchesReplacer checks the hand-written escaping against
// the replacers it took over from.
func TestCEFEscapeMatchesReplacer(t *testing.T) {
	t.Parallel()
	header := strings.NewReplacer(`\`, `\\`, `|`, `\|`, "\r\n", " ", "\n", " ", "\r", " ")
	value := strings.NewReplacer(`\`, `\\`, `=`, `\=`, "\r\n", `\n`, "\n", `\n`, "\r", `\r`)
	for _, s := range []string{"", "plain", `a\b|c=d`, "x\r\ny\nz\rw", "\r", "\n\r", "\r\r\n", "=|\\\r\n", "ü😀=\r"} {
		var h, v strings.Builder
		cefEscape(&h, s, true)
		cefEscape(&v, s, false)
		if h.String() != header.Replace(s) || v.String() != value.Replace(s) {
			t.Errorf("%q: header %q want %q, value %q want %q", s, h.String(), header.Replace(s), v.String(), value.Replace(s))
		}
	}
}

// TestCEFControlCharacters: NUL ends a record for syslog receivers that frame
// with it, and other control bytes upset CEF parsers; none may pass through.
func TestCEFControlCharacters(t *testing.T) {
	t.Parallel()
	for _, header := range []bool{true, false} {
		var b strings.Builder
		cefEscape(&b, "a\x00b\x01c\x1bd\x7fe\tf", header)
		if got := b.String(); got != "a b c d e\tf" {
			t.Errorf("header=%v: %q", header, got)
		}
	}
}
