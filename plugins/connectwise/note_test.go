package connectwise

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/plugins/connectwise/connectwisetest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestNoteGolden pins the text of the notes as ConnectWise receives them:
// the default templates' output and the marker line.
func TestNoteGolden(t *testing.T) {
	t.Parallel()
	h := newHarness(t, connectwisetest.Options{})
	s := h.app.Begin(bttest.SessionSpec{
		LSID:        "5e55104c0ffee0000000000000000002",
		ExternalKey: openKey,
		Customer:    &bttest.Customer{Name: "Arnie Bellini", Hostname: "ACME-PC7", OS: "Windows 11", Company: "Acme Corp", Issue: "Printer", Details: "Offline."},
		Rep:         bttest.Rep{ID: "3", Username: "alice", DisplayName: "Alice Tech"},
	}).After(2*time.Minute).Chat("Arnie Bellini", "Hi, my printer is offline.").
		After(13*time.Minute).Note("Alice Tech", "Spooler restarted.").
		After(time.Minute).End().
		CustomerSurvey(bt.SurveyAnswer{Name: "rating", Label: "Rating", Value: "5"})
	for _, ev := range []string{engine.EventSessionEnd, engine.EventCustomerSurveyDone} {
		if out, err := h.handle(h.job(ev, s, nil)); out != engine.OutcomeDone {
			t.Fatalf("%s: %v (%v)", ev, out, err)
		}
	}
	notes := h.sim.Notes(connectwisetest.TicketOpen)
	if len(notes) != 2 {
		t.Fatalf("notes = %+v", notes)
	}
	// The appliance simulator's port changes from run to run.
	host := strings.NewReplacer(h.app.Host(), "appliance.example")
	golden(t, "session_report_note.golden", host.Replace(notes[0].Text))
	golden(t, "customer_survey_note.golden", host.Replace(notes[1].Text))
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (run go test -update after checking):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}
