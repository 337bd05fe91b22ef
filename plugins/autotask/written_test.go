package autotask

import (
	"strconv"
	"strings"
	"testing"

	"switchboard/engine"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/plugins/autotask/autotasktest"
)

// TestRecordsWhatWasWritten checks the structured result a delivery
// reports: the ticket with a link into Autotask's web UI, the note and the
// time entry, and on a replay the same objects marked as already there.
func TestRecordsWhatWasWritten(t *testing.T) {
	t.Parallel()
	h := newHarness(t, autotasktest.Options{})
	h.set.UpdateTimeEntry = true
	h.set.TimeEntryDefaults = `{"defaultDomain": "msp.example", "roleName": "Technician", "summaryNotes": "Remote support"}`
	s := h.ended(autotasktest.TicketOpenNumber)
	job := h.job(engine.EventSessionEnd, s, nil)
	if out, err := h.handle(job); out != engine.OutcomeDone {
		t.Fatalf("outcome %v: %v", out, err)
	}
	notes, entries := h.sim.Notes(autotasktest.TicketOpen), h.sim.TimeEntries(autotasktest.TicketOpen)
	if len(notes) != 1 || len(entries) != 1 {
		t.Fatalf("%d notes, %d time entries", len(notes), len(entries))
	}
	link := h.sim.URL + "/Autotask/AutotaskExtend/ExecuteCommand.aspx?Code=OpenTicketDetail&TicketNumber=" + autotasktest.TicketOpenNumber
	want := []engine.Record{
		{Kind: "ticket", ID: strconv.Itoa(autotasktest.TicketOpen), Title: autotasktest.TicketOpenNumber, URL: link, Existing: true},
		{Kind: "note", ID: strconv.FormatInt(notes[0].ID, 10), Title: notes[0].Title, Ticket: autotasktest.TicketOpenNumber, URL: link},
		{Kind: "time_entry", ID: strconv.FormatInt(entries[0].ID, 10), Title: "0.40 h", Ticket: autotasktest.TicketOpenNumber, URL: link},
	}
	got := job.Records()
	if len(got) != len(want) {
		t.Fatalf("records = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("record %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	sum := engine.Summarize(got, h.plugin.RecordKinds())
	if !strings.HasPrefix(sum, "Ticket "+autotasktest.TicketOpenNumber+" · Note ") || !strings.HasSuffix(sum, "(0.40 h)") {
		t.Errorf("summary = %q", sum)
	}

	// A replay (a new delivery, empty checkpoint) finds both by marker.
	again := h.job(engine.EventSessionEnd, s, nil)
	if out, err := h.handle(again); out != engine.OutcomeDone {
		t.Fatalf("replay: outcome %v: %v", out, err)
	}
	for _, r := range again.Records() {
		if !r.Existing {
			t.Errorf("replay record %+v is not marked as already there", r)
		}
	}
	if sum := engine.Summarize(again.Records(), h.plugin.RecordKinds()); !strings.Contains(sum, "already there") {
		t.Errorf("replay summary = %q", sum)
	}
}

// TestRecordsCreatedTicket checks that a created ticket is reported as
// created, with its number.
func TestRecordsCreatedTicket(t *testing.T) {
	t.Parallel()
	h := newHarness(t, autotasktest.Options{})
	autoTicket(h.set)
	live := h.app.Begin(bttest.SessionSpec{
		Customer: &bttest.Customer{Name: "Jane Doe", Issue: "Printer"},
		Rep:      bttest.Rep{Username: "alice", DisplayName: "Alice Tech"},
	})
	job := h.job(engine.EventMemberAdded, live, repJoined)
	if out, err := h.handle(job); out != engine.OutcomeDone {
		t.Fatalf("outcome %v: %v", out, err)
	}
	tickets := h.sim.Tickets()
	tk := tickets[len(tickets)-1]
	got := job.Records()
	if len(got) != 1 || got[0].Kind != "ticket" || got[0].ID != strconv.FormatInt(tk.ID, 10) || got[0].Title != tk.TicketNumber || got[0].Existing || !strings.HasSuffix(got[0].URL, "TicketNumber="+tk.TicketNumber) {
		t.Errorf("records = %+v, want ticket %d (%s) created", got, tk.ID, tk.TicketNumber)
	}
}
