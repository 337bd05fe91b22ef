package autotask

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/plugins/autotask/autotasktest"
)

func TestNoteTitleKeepsTheMarker(t *testing.T) {
	t.Parallel()
	mark := marker("5e55104c0ffee0000000000000000001", "report")
	for _, who := range []string{"", "Jane Doe", strings.Repeat("Ünïcødé ", 60)} {
		title := noteTitle("Remote Support session report", who, mark)
		if n := utf8.RuneCountInString(title); n > maxNoteTitle {
			t.Errorf("title of %d characters, Autotask takes %d", n, maxNoteTitle)
		}
		if !strings.HasSuffix(title, " "+mark) {
			t.Errorf("title %q lost its marker", title)
		}
	}
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", maxNoteDescription+10)
	got := truncate(long, maxNoteDescription)
	if n := utf8.RuneCountInString(got); n != maxNoteDescription || !strings.HasSuffix(got, "(truncated: Autotask keeps at most 32000 characters)") {
		t.Errorf("truncated to %d characters, ending %q", n, got[len(got)-60:])
	}
	if short := "a report"; truncate(short, maxNoteDescription) != short {
		t.Error("a short text was changed")
	}
}

// TestTruncateAsBefore: truncate gives what cutting the text's runes gave,
// at and around the limit, in one- and multi-byte text, and a text within
// the limit is returned without a copy.
func TestTruncateAsBefore(t *testing.T) { // not parallel: AllocsPerRun
	byRunes := func(text string, max int) string {
		rs := []rune(text)
		if len(rs) <= max {
			return text
		}
		tail := fmt.Sprintf("\n… (truncated: Autotask keeps at most %d characters)", max)
		return string(rs[:max-len([]rune(tail))]) + tail
	}
	const max = 100
	for _, unit := range []string{"a", "é", "€", "𝄞"} {
		for _, n := range []int{0, 1, max / 2, max - 1, max, max + 1, 2 * max, 5 * max} {
			text := strings.Repeat(unit, n)
			if got, want := truncate(text, max), byRunes(text, max); got != want {
				t.Errorf("%d × %q: got %q, want %q", n, unit, got, want)
			}
		}
	}
	report := strings.Repeat("Chat line about the printer queue & the spooler — ok.\n", 100)
	if n := testing.AllocsPerRun(20, func() { truncate(report, maxNoteDescription) }); n != 0 {
		t.Errorf("truncating a %d-byte report within the limit took %v allocations", len(report), n)
	}
}

func TestTimeEntryTimes(t *testing.T) {
	t.Parallel()
	start := time.Date(2024, 3, 5, 23, 30, 0, 0, time.UTC)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	tests := []struct {
		name                 string
		length               time.Duration
		loc                  *time.Location
		wantHours            float64
		wantEnd, wantDateDay string
	}{
		{name: "half an hour", length: 30 * time.Minute, loc: time.UTC, wantHours: 0.5, wantEnd: "2024-03-06T00:00:00Z", wantDateDay: "2024-03-05"},
		{name: "date in the report zone", length: 30 * time.Minute, loc: berlin, wantHours: 0.5, wantEnd: "2024-03-06T00:00:00Z", wantDateDay: "2024-03-06"},
		{name: "a few seconds", length: 5 * time.Second, loc: time.UTC, wantHours: minHours, wantEnd: "2024-03-05T23:30:36Z", wantDateDay: "2024-03-05"},
		{name: "over a day", length: 30 * time.Hour, loc: time.UTC, wantHours: 24, wantEnd: "2024-03-06T23:30:00Z", wantDateDay: "2024-03-05"},
	}
	for _, tc := range tests {
		s := &bt.Session{StartTime: start, EndTime: start.Add(tc.length)}
		e := timeEntry(TimeEntryDefaults{SummaryNotes: "x", Fields: map[string]any{"billingCodeID": int64(3)}}, s, tc.loc)
		if e["hoursWorked"] != tc.wantHours || e["endDateTime"] != tc.wantEnd || e["dateWorked"] != tc.wantDateDay+"T00:00:00" || e["billingCodeID"] != int64(3) {
			t.Errorf("%s: entry %v", tc.name, e)
		}
	}
}

// Control characters in what the appliance reports (a chat's encoded_body
// can hold any) never reach Autotask: not in the note, not in its title.
func TestNoControlCharactersReachAutotask(t *testing.T) {
	t.Parallel()
	h := newHarness(t, autotasktest.Options{})
	s := h.app.Begin(bttest.SessionSpec{
		ExternalKey: autotasktest.TicketOpenNumber,
		Customer:    &bttest.Customer{Name: "Jane\x1b[1m Doe\x07", Issue: "Printer\x00"},
		Rep:         bttest.Rep{Username: "alice", DisplayName: "Alice Tech"},
	}).After(time.Minute).Chat("Jane\x1b[1m Doe\x07", "log:\x00 \x1b[31mERROR\x1b[0m\x07\x0b\x0c done\rnext\r\nlast").
		After(time.Minute).End()
	if out, err := h.handle(h.job(engine.EventSessionEnd, s, nil)); out != engine.OutcomeDone {
		t.Fatalf("outcome %v: %v", out, err)
	}
	notes := h.sim.Notes(autotasktest.TicketOpen)
	if len(notes) != 1 {
		t.Fatalf("%d notes, want 1", len(notes))
	}
	for what, text := range map[string]string{"title": notes[0].Title, "description": notes[0].Description} {
		if i := strings.IndexFunc(text, func(r rune) bool { return r < 0x20 && r != '\t' && r != '\n' }); i >= 0 {
			t.Errorf("the note's %s holds control character %q: %q", what, text[i], text)
		}
	}
	if d := notes[0].Description; !strings.Contains(d, "log: [31mERROR[0m done\nnext\n  last") {
		t.Errorf("the chat line is not kept readable:\n%s", d)
	}
}

// A 500 with an errors list is a refusal only when its message says what
// was refused (a field or a value); otherwise it is Autotask failing, and
// the delivery is retried. The hint names a setting only when the message
// names what that setting controls.
func TestNoteErrorsListClassified(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		want     engine.Outcome
		hint     string // the message must carry it
		wrongFor string // the message must not carry it
	}{
		{name: "server failure", body: `{"errors":["Internal Server Error"]}`, want: engine.OutcomeRetry, wrongFor: "check"},
		{name: "server failure, .NET text", body: `{"errors":["Object reference not set to an instance of an object."]}`, want: engine.OutcomeRetry, wrongFor: "check"},
		{name: "note type refused", body: `{"errors":["Value 6 does not exist in the picklist for noteType."]}`, want: engine.OutcomePermanent, hint: "check Autotask Note Type", wrongFor: "Publish"},
		{name: "publish refused", body: `{"errors":["Value 9 does not exist in the picklist for publish."]}`, want: engine.OutcomePermanent, hint: "check Publish Notes as Public", wrongFor: "Note Type"},
		{name: "ticket gone", body: `{"errors":["Value does not reference an existing entity for ticketID 7865. "]}`, want: engine.OutcomePermanent, wrongFor: "check"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, autotasktest.Options{})
			h.sim.Inject(autotasktest.Fault{Method: "POST", Endpoint: "TicketNotes", WritesOnly: true, Status: 500, Body: tc.body})
			out, err := h.handle(h.job(engine.EventSessionEnd, h.ended(autotasktest.TicketOpenNumber), nil))
			if out != tc.want {
				t.Fatalf("outcome %v (%v), want %v", out, err, tc.want)
			}
			if tc.hint != "" && !strings.Contains(err.Error(), tc.hint) {
				t.Errorf("error %q does not say %q", err, tc.hint)
			}
			if strings.Contains(err.Error(), tc.wrongFor) {
				t.Errorf("error %q blames a setting the message does not name (%q)", err, tc.wrongFor)
			}
		})
	}
}
