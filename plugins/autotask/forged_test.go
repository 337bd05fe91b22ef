package autotask

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/plugins/autotask/autotasktest"
)

// Anyone who reaches the intake port can post an outbound event. The
// posted fields may select which session to fetch; the ticket, the
// ticket's title, its contact and whether a ticket is made at all come
// from the appliance's report (ARCHITECTURE invariant 9).

// forge makes a delivery of event for the real session s whose posted form
// carries the attacker's external key and fields instead of the
// appliance's.
func (h *harness) forge(event string, s *bttest.LiveSession, key string, fields url.Values) *engine.Job {
	job := h.job(event, s, fields)
	job.Event.ExternalKey = key
	return job
}

func TestForgedExternalKeyCannotMoveTheReport(t *testing.T) {
	t.Parallel()
	h := newHarness(t, autotasktest.Options{})
	// The real session has no external key: its report belongs nowhere.
	s := h.ended("")
	out, err := h.handle(h.forge(engine.EventSessionEnd, s, autotasktest.TicketOtherNumber, url.Values{"external_key": {autotasktest.TicketOtherNumber}}))
	if out != engine.OutcomeSkipped {
		t.Errorf("outcome %v (%v), want skipped: the report has no external key", out, err)
	}
	if n := len(h.sim.Notes(autotasktest.TicketOther)); n != 0 {
		t.Fatalf("the forged external key put %d notes of a real session on ticket %s", n, autotasktest.TicketOtherNumber)
	}

	// With a real key, the forged one changes nothing either.
	real := h.app.Begin(bttest.SessionSpec{ExternalKey: autotasktest.TicketOpenNumber, Rep: bttest.Rep{Username: "alice", DisplayName: "Alice Tech"}}).After(time.Minute).End()
	if out, err := h.handle(h.forge(engine.EventSessionEnd, real, autotasktest.TicketOtherNumber, nil)); out != engine.OutcomeDone {
		t.Fatalf("outcome %v: %v", out, err)
	}
	if n, m := len(h.sim.Notes(autotasktest.TicketOpen)), len(h.sim.Notes(autotasktest.TicketOther)); n != 1 || m != 0 {
		t.Errorf("notes: %d on the report's ticket, %d on the forged one; want 1 and 0", n, m)
	}
}

func TestForgedPostCannotTitleATicket(t *testing.T) {
	t.Parallel()
	for _, withoutKey := range []bool{true, false} {
		h := newHarness(t, autotasktest.Options{})
		autoTicket(h.set)
		h.set.AutoTicketWithoutKey = withoutKey
		live := h.app.Begin(bttest.SessionSpec{
			Customer: &bttest.Customer{Name: "Jane Doe", Issue: "Printer"},
			Rep:      bttest.Rep{Username: "alice", DisplayName: "Alice Tech"},
		})
		before := len(h.sim.Tickets())
		forged := url.Values{"type": {"representative"}, "external_key": {`{"title": "PWNED"}`}}
		out, err := h.handle(h.forge(engine.EventMemberAdded, live, `{"title": "PWNED", "priority": 4}`, forged))
		tickets := h.sim.Tickets()[before:]
		for _, tk := range tickets {
			if strings.Contains(tk.Title, "PWNED") || tk.Priority == 4 {
				t.Fatalf("without key %v: a forged external key made ticket %+v", withoutKey, tk)
			}
		}
		if withoutKey && (out != engine.OutcomeDone || len(tickets) != 1) {
			t.Errorf("without key on: outcome %v (%v), %d tickets; want the report's ticket", out, err, len(tickets))
		}
		if !withoutKey && (out != engine.OutcomeSkipped || len(tickets) != 0) {
			t.Errorf("without key off: outcome %v (%v), %d tickets; want skipped, none", out, err, len(tickets))
		}
	}
}

func TestForgedCustomFieldCannotPickTheContact(t *testing.T) {
	t.Parallel()
	h := newHarness(t, autotasktest.Options{})
	autoTicket(h.set)
	// The report's customer_email is empty: the default contact applies.
	live := h.app.Begin(bttest.SessionSpec{
		Customer: &bttest.Customer{Name: "Jane Doe", Issue: "Printer"},
		Rep:      bttest.Rep{Username: "alice", DisplayName: "Alice Tech"},
	})
	forged := url.Values{"type": {"representative"}, "customer_email": {"jane.doe@contoso.example"}}
	if out, err := h.handle(h.forge(engine.EventMemberAdded, live, "", forged)); out != engine.OutcomeDone {
		t.Fatalf("outcome %v: %v", out, err)
	}
	tickets := h.sim.Tickets()
	tk := tickets[len(tickets)-1]
	if tk.ContactID != autotasktest.ContactJohn || tk.CompanyID != autotasktest.CompanyFabrikam {
		t.Errorf("ticket contact %d company %d, want the default contact %d of company %d: the posted custom field chose them",
			tk.ContactID, tk.CompanyID, autotasktest.ContactJohn, autotasktest.CompanyFabrikam)
	}
}

func TestForgedMemberTypeCannotMakeATicket(t *testing.T) {
	t.Parallel()
	h := newHarness(t, autotasktest.Options{})
	autoTicket(h.set)
	// A customer waits in the queue: no representative has joined, so the
	// appliance's report lists none.
	lsid := "5e55104c0ffee0000000000000000042"
	h.app.AddSession(&bt.Session{
		LSID: lsid, Product: bt.ProductRS, Type: "support", StartTime: sessionStart,
		PrimaryCustomer: bt.Person{GSNumber: "1", Name: "Jane Doe"},
		Customers:       []bt.Customer{{GSNumber: "1", Primary: true, Info: bt.CustomerInfo{Name: "Jane Doe", Issue: "Printer"}}},
		Events:          []bt.SessionEvent{{Type: bt.EventSessionStart, Timestamp: sessionStart, PerformedBy: bt.Actor{Type: bt.ActorSystem, GSNumber: "0"}}},
	})
	job := h.job(engine.EventMemberAdded, h.app.Begin(bttest.SessionSpec{Rep: bttest.Rep{Username: "bob"}}), repJoined)
	job.Event.LSID, job.Event.ExternalKey = lsid, ""
	before := len(h.sim.Tickets())
	out, err := h.handle(job)
	if n := len(h.sim.Tickets()) - before; n != 0 || out != engine.OutcomeSkipped {
		t.Fatalf("outcome %v (%v), %d tickets: a post saying a representative joined made a ticket for a session the appliance shows without one", out, err, n)
	}
}
