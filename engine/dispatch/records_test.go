package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"switchboard/engine"
	"switchboard/engine/store"
)

// reportingPlugin is a testPlugin that declares the Reporter capability.
type reportingPlugin struct{ *testPlugin }

func (reportingPlugin) RecordKinds() []engine.RecordKind {
	return []engine.RecordKind{{ID: "ticket", Label: "Ticket"}, {ID: "note", Label: "Note"}}
}

// TestRecordsAreStored checks that what a delivery wrote is stored with it:
// a failed attempt keeps the records it made (the ticket exists) even when
// a later attempt records nothing, and a successful attempt replaces them
// and is summarised in the result.
func TestRecordsAreStored(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	calls := map[string]int{}
	ticket := engine.Record{Kind: "ticket", ID: "7", Title: "T20240101.0001", URL: "https://ww1.example/t"}
	p := reportingPlugin{&testPlugin{id: "rep", concurrency: 1}}
	p.handle = func(_ context.Context, job *engine.Job) error {
		lsid := job.Event.LSID
		mu.Lock()
		calls[lsid]++
		n := calls[lsid]
		mu.Unlock()
		switch {
		case n == 1:
			job.Record(ticket)
			return errors.New("note refused")
		case lsid == "fails":
			return engine.Permanent(errors.New("appliance refused"))
		}
		job.Record(ticket)
		job.Record(engine.Record{Kind: "note", ID: "42", Title: "Session report", Ticket: "T20240101.0001"})
		return nil
	}
	r := newRig(t, p, nil)
	r.run(t)

	failed := r.waitFinal(t, r.enqueue(t, engine.EventSessionEnd, "fails", engine.SourceOutbound))
	if failed.State != store.StateFailed || records(t, failed) != "ticket 7" {
		t.Errorf("failed delivery: state %s, records %q; want the first attempt's ticket kept", failed.State, records(t, failed))
	}
	done := r.waitFinal(t, r.enqueue(t, engine.EventSessionEnd, "works", engine.SourceOutbound))
	if done.State != store.StateDone || records(t, done) != "ticket 7, note 42" {
		t.Errorf("done delivery: state %s, records %q", done.State, records(t, done))
	}
	if want := "Ticket T20240101.0001 · Note 42 (Session report)"; done.Result != want {
		t.Errorf("result = %q, want %q", done.Result, want)
	}
	views, err := r.svc.Deliveries(context.Background(), store.DeliveryFilter{EventID: done.EventID})
	if err != nil || len(views) != 1 {
		t.Fatalf("deliveries: %v, %v", views, err)
	}
	if w := views[0].Written; !views[0].Reports || len(w) != 2 || w[0].Label != "Ticket" || w[1].Label != "Note" || w[0].URL != ticket.URL {
		t.Errorf("API view: reports %v, written %+v", views[0].Reports, w)
	}
}

// records lists a stored delivery's records as "kind id, ...".
func records(t *testing.T, d store.Delivery) string {
	t.Helper()
	if d.Records == "" {
		return ""
	}
	var rs []engine.Record
	if err := json.Unmarshal([]byte(d.Records), &rs); err != nil {
		t.Fatalf("records of delivery %d: %v", d.ID, err)
	}
	out := ""
	for i, r := range rs {
		if i > 0 {
			out += ", "
		}
		out += r.Kind + " " + r.ID
	}
	return out
}
