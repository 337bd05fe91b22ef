package connectwise

import (
	"net/url"
	"strconv"
	"testing"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/plugins/connectwise/connectwisetest"
)

// TestPostedFieldsDecideNothing (invariant 9): an event whose posted
// external key and custom fields were forged still writes to the ticket
// the appliance's report names, and a new ticket's contact comes from the
// report's custom field.
func TestPostedFieldsDecideNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, connectwisetest.Options{})
	s := h.ended(openKey)
	job := h.job(engine.EventSessionEnd, s, url.Values{"external_key": {strconv.Itoa(connectwisetest.TicketNoTime)}})
	job.Event.ExternalKey = strconv.Itoa(connectwisetest.TicketNoTime)
	if out, err := h.handle(job); out != engine.OutcomeDone {
		t.Fatalf("%v (%v)", out, err)
	}
	if n, forged := len(h.sim.Notes(connectwisetest.TicketOpen)), len(h.sim.Notes(connectwisetest.TicketNoTime)); n != 1 || forged != 0 {
		t.Errorf("notes: %d on the report's ticket, %d on the forged one", n, forged)
	}

	autoTicket(h.set)
	live := h.app.Begin(bttest.SessionSpec{
		Customer: &bttest.Customer{Name: "Walk-in", Issue: "VPN"},
		Rep:      bttest.Rep{Username: "alice"},
		Custom:   []bt.CustomAttribute{{CodeName: "customer_email", Value: "nobody@example.org"}},
	})
	forged := url.Values{"type": {"representative"}, "customer_email": {"arnie@acme.com"}, "custom.customer_email": {"arnie@acme.com"}}
	if out, err := h.handle(h.job(engine.EventMemberAdded, live, forged)); out != engine.OutcomeDone {
		t.Fatalf("%v (%v)", out, err)
	}
	ts := h.sim.Tickets()
	if tk := ts[len(ts)-1]; tk.Contact.ID != connectwisetest.ContactDefault {
		t.Errorf("the forged custom field chose contact %d", tk.Contact.ID)
	}
}
