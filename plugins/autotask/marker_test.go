package autotask

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"switchboard/engine"
	"switchboard/plugins/autotask/autotasktest"
)

// The simulator pages at 500 (autotask-api.md §4): a ticket with more notes
// than a page holds is read whole by following nextPageUrl, and a query
// that wants one record reads one page.
func TestQueryFollowsNextPage(t *testing.T) {
	t.Parallel()
	sim := autotasktest.New(autotasktest.Options{})
	t.Cleanup(sim.Close)
	sim.AddNotes(autotasktest.TicketOther, "filler", 1203)
	c, err := NewClient(simOptions(sim))
	if err != nil {
		t.Fatal(err)
	}
	var notes []struct {
		ID    int64  `json:"id"`
		Title string `json:"title"`
	}
	q := Query{Filter: []Filter{Eq("ticketID", autotasktest.TicketOther)}, IncludeFields: []string{"id", "title"}}
	if err := c.Query(context.Background(), "TicketNotes", q, &notes); err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1203 || notes[0].Title != "filler 1" || notes[1202].Title != "filler 1203" {
		t.Fatalf("read %d notes (first %+v), want all 1203 in order", len(notes), notes[:min(1, len(notes))])
	}
	before := sim.Stats("TicketNotes").Requests
	if _, ok, err := c.FirstID(context.Background(), "TicketNotes", Eq("ticketID", autotasktest.TicketOther)); err != nil || !ok {
		t.Fatalf("FirstID: %v %v", ok, err)
	}
	if n := sim.Stats("TicketNotes").Requests - before; n != 1 {
		t.Errorf("FirstID made %d requests, want 1 page", n)
	}
}

// A nextPageUrl on another origin is not followed: the request would carry
// the credentials there.
func TestQueryKeepsCredentialsOnTheZone(t *testing.T) {
	t.Parallel()
	var leaked atomic.Bool
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Store(true)
		w.Write([]byte(`{"items":[],"pageDetails":{"nextPageUrl":null}}`))
	}))
	t.Cleanup(elsewhere.Close)
	zone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"items":[{"id":1}],"pageDetails":{"count":1,"requestCount":500,"nextPageUrl":"` + elsewhere.URL + `/ATServicesRest/V1.0/Tickets/query/next?paging=x"}}`))
	}))
	t.Cleanup(zone.Close)
	c, err := NewClient(Options{ServicesURL: zone.URL + "/ATServicesRest", Username: "u", Secret: "secret-value", IntegrationCode: "code-value"})
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	err = c.Query(context.Background(), "Tickets", Query{Filter: []Filter{Eq("status", 1)}}, &out)
	if err == nil || !strings.Contains(err.Error(), "another origin") || leaked.Load() {
		t.Fatalf("err = %v, leaked = %v; want a refusal and nothing sent", err, leaked.Load())
	}
}

// The no-duplicate search finds an earlier note and time entry whether the
// tenant takes contains on TicketNotes.title and TimeEntries.internalNotes
// or refuses it (then the ticket's records are listed, every page, and
// matched here).
func TestMarkerSearchWithAndWithoutContains(t *testing.T) {
	t.Parallel()
	for _, refuse := range []bool{false, true} {
		t.Run(map[bool]string{false: "contains", true: "contains refused"}[refuse], func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, autotasktest.Options{RefuseContains: refuse})
			h.set.UpdateTimeEntry = true
			h.set.TimeEntryDefaults = `{"defaultDomain": "msp.example", "roleName": "Technician", "summaryNotes": "Remote support session"}`
			// More notes than one page: the report note lands on page 2.
			h.sim.AddNotes(autotasktest.TicketOpen, "earlier work", 600)
			job := h.job(engine.EventSessionEnd, h.ended(autotasktest.TicketOpenNumber), nil)
			for run := range 3 {
				if out, err := h.handle(job); out != engine.OutcomeDone {
					t.Fatalf("run %d: outcome %v: %v", run+1, out, err)
				}
				job.Checkpoint = engine.NewCheckpoint(nil, nil) // lost each time
			}
			if n := len(h.sim.Notes(autotasktest.TicketOpen)); n != 601 {
				t.Errorf("%d notes, want the 600 earlier ones and one report", n)
			}
			if n := len(h.sim.TimeEntries(autotasktest.TicketOpen)); n != 1 {
				t.Errorf("%d time entries, want 1", n)
			}
		})
	}
}
