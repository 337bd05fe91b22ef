package poll

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/store"
)

// TestPolledTimesComeFromTheReport: a listing carries lsid and has_recording
// and nothing else (reference "System information and listings"), so a
// polled session end takes its time from the session's full report; no
// event is ever stored at the zero time.
func TestPolledTimesComeFromTheReport(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.clock.Advance(time.Minute)
	lsid := f.session("T7")
	ended, _ := f.app.Session(lsid)
	// A listing exactly as the reference shows one: no times, no lseq.
	f.app.Inject(bttest.Fault{Path: bttest.PathReporting, Op: "SupportSessionListing", Status: http.StatusOK, Times: 1,
		Body: `<session_summary_list xmlns="` + beyondtrust.NamespaceRSReporting + `"><session_summary lsid="` + lsid + `" has_recording="0"/></session_summary_list>`})
	f.clock.Advance(time.Minute)
	if err := f.poll(); err != nil {
		t.Fatal(err)
	}
	events, err := f.st.ListEvents(context.Background(), store.EventFilter{LSID: lsid})
	if err != nil || len(events) != 1 {
		t.Fatalf("events %+v, %v; want one", events, err)
	}
	e := events[0]
	if !e.Occurred().Equal(ended.EndTime) {
		t.Errorf("occurred %v, want the report's end time %v", e.Occurred(), ended.EndTime)
	}
	if got := e.Values().Get("timestamp"); got != strconv.FormatInt(ended.EndTime.Unix(), 10) {
		t.Errorf("timestamp field %q, want the end time", got)
	}
	if e.ExternalKey != "T7" {
		t.Errorf("external key %q, want the report's T7", e.ExternalKey)
	}
}

// TestPolledSurveyWithoutTimeIsNotAtZero: an exit survey whose report gives
// no time is stored at the poll's time, and polled again it adds nothing.
func TestPolledSurveyWithoutTimeIsNotAtZero(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.clock.Advance(time.Minute)
	lsid := f.session("")
	body := `<exit_survey_list xmlns="` + beyondtrust.NamespaceRSReporting + `"><exit_survey lsid="` + lsid + `"><submitted_by type="customer">Dana</submitted_by><primary_customer gsnumber="1">Dana</primary_customer></exit_survey></exit_survey_list>`
	for range 2 {
		f.app.Inject(bttest.Fault{Path: bttest.PathReporting, Op: "SupportCustExitSurvey", Status: http.StatusOK, Times: 1, Body: body})
		f.clock.Advance(30 * time.Second)
		if err := f.poll(); err != nil {
			t.Fatal(err)
		}
	}
	events, err := f.st.ListEvents(context.Background(), store.EventFilter{LSID: lsid})
	if err != nil {
		t.Fatal(err)
	}
	surveys := 0
	for _, e := range events {
		if e.Occurred().Year() < 2000 {
			t.Errorf("%s stored at %v", e.Name, e.Occurred())
		}
		if e.Name == engine.EventCustomerSurveyDone {
			surveys++
		}
	}
	if surveys != 1 {
		t.Errorf("%d survey events after two polls, want 1", surveys)
	}
}
