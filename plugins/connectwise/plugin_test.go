package connectwise

import (
	"strconv"
	"strings"
	"testing"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/plugins/connectwise/connectwisetest"
)

var openKey = strconv.Itoa(connectwisetest.TicketOpen)

func TestSessionEndAddsNoteAndTimeEntry(t *testing.T) {
	t.Parallel()
	for _, key := range []string{openKey, "#" + openKey, " " + openKey + " "} {
		h := newHarness(t, connectwisetest.Options{})
		timeEntries(h.set)
		s := h.ended(key)
		job := h.job(engine.EventSessionEnd, s, nil)
		if out, err := h.handle(job); out != engine.OutcomeDone {
			t.Fatalf("key %q: %v (%v)", key, out, err)
		}
		notes := h.sim.Notes(connectwisetest.TicketOpen)
		if len(notes) != 1 {
			t.Fatalf("key %q: notes = %+v", key, notes)
		}
		n := notes[0]
		if !strings.HasSuffix(n.Text, marker(s.LSID(), "report")) || !strings.Contains(n.Text, "Spooler restarted") || !n.InternalAnalysisFlag || n.DetailDescriptionFlag {
			t.Errorf("note = %+v", n)
		}
		te := h.sim.TimeEntries(connectwisetest.TicketOpen)
		if len(te) != 1 {
			t.Fatalf("time entries = %+v", te)
		}
		e := te[0]
		if e.Member.Identifier != "jdoe" || e.TimeStart != "2024-11-28T16:02:15Z" || e.TimeEnd != "2024-11-28T16:18:15Z" || e.ActualHours != 0.27 ||
			e.BillableOption != "Billable" || e.WorkType.Name != "Remote" || e.WorkRole.Name != "System Engineer" || e.InternalNotes != marker(s.LSID(), "time") || e.ChargeToType != "ServiceTicket" {
			t.Errorf("time entry = %+v", e)
		}
		if got := engine.Summarize(job.Records(), h.plugin.RecordKinds()); got != "Ticket #"+openKey+" · Note "+strconv.FormatInt(n.ID, 10)+" (Session report) · Time entry "+strconv.FormatInt(e.ID, 10)+" (0.27 h)" {
			t.Errorf("records = %q", got)
		}
		// A replay writes nothing and says so.
		replay := h.job(engine.EventSessionEnd, s, nil)
		if out, err := h.handle(replay); out != engine.OutcomeDone || strings.Count(engine.Summarize(replay.Records(), h.plugin.RecordKinds()), "already there") != 2 {
			t.Errorf("replay: %v (%v), records %+v", out, err, replay.Records())
		}
	}
}

func TestSessionEndSkipsWithoutTicket(t *testing.T) {
	t.Parallel()
	h := newHarness(t, connectwisetest.Options{})
	for _, key := range []string{"", "999999", "T20240101.0001", "{\"board\": \"Help Desk\"}", "#"} {
		out, err := h.handle(h.job(engine.EventSessionEnd, h.ended(key), nil))
		if out != engine.OutcomeSkipped {
			t.Errorf("key %q: %v (%v)", key, out, err)
		}
	}
}

func TestMemberMapping(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, rule, domain, table, want string
		ok                              bool
	}{
		{"identifier", MemberByIdentifier, "", "", "alice", true},
		{"e-mail", MemberByEmail, "msp.example", "", "alice", true},
		{"table first", MemberByIdentifier, "", "ALICE = jdoe", "jdoe", true},
		{"table to an inactive member", MemberByIdentifier, "", "alice = carol", "", false},
		{"wrong domain", MemberByEmail, "other.example", "", "", false},
	}
	for _, c := range cases {
		h := newHarness(t, connectwisetest.Options{})
		timeEntries(h.set)
		h.set.MemberRule, h.set.MemberDomain, h.set.MemberTable = c.rule, c.domain, c.table
		out, err := h.handle(h.job(engine.EventSessionEnd, h.ended(openKey), nil))
		te := h.sim.TimeEntries(connectwisetest.TicketOpen)
		switch {
		case c.ok && (out != engine.OutcomeDone || len(te) != 1 || te[0].Member.Identifier != c.want):
			t.Errorf("%s: %v (%v), entries %+v", c.name, out, err, te)
		case !c.ok && (out != engine.OutcomePermanent || len(te) != 0 || !strings.Contains(err.Error(), "Member Mapping")):
			t.Errorf("%s: %v (%v), entries %+v", c.name, out, err, te)
		}
	}
}

func TestTimeEntryRefusedByStatus(t *testing.T) {
	t.Parallel()
	h := newHarness(t, connectwisetest.Options{})
	timeEntries(h.set)
	out, err := h.handle(h.job(engine.EventSessionEnd, h.ended(strconv.Itoa(connectwisetest.TicketNoTime)), nil))
	if out != engine.OutcomePermanent || !strings.Contains(err.Error(), "not allowed") {
		t.Errorf("%v (%v)", out, err)
	}
}

func TestRetryAfterLostAnswersWritesOnce(t *testing.T) {
	t.Parallel()
	for _, refuse := range []bool{false, true} {
		h := newHarness(t, connectwisetest.Options{RefuseContains: refuse})
		timeEntries(h.set)
		s := h.ended(openKey)
		h.sim.Inject(connectwisetest.Fault{Method: "POST", Path: "service/tickets", Status: 500, AfterWrite: true})
		h.sim.Inject(connectwisetest.Fault{Method: "POST", Path: "time/entries", Status: 502, AfterWrite: true})
		for attempt := 1; attempt <= 3; attempt++ {
			// Each attempt starts without a checkpoint: a crash lost it.
			out, err := h.handle(h.job(engine.EventSessionEnd, s, nil))
			if attempt == 3 && out != engine.OutcomeDone {
				t.Fatalf("refuse %v: %v (%v)", refuse, out, err)
			}
		}
		if n, e := len(h.sim.Notes(connectwisetest.TicketOpen)), len(h.sim.TimeEntries(connectwisetest.TicketOpen)); n != 1 || e != 1 {
			t.Errorf("refuse contains %v: %d notes, %d time entries", refuse, n, e)
		}
	}
}

func TestThrottled(t *testing.T) {
	t.Parallel()
	h := newHarness(t, connectwisetest.Options{})
	h.sim.Inject(connectwisetest.Fault{Path: "service/tickets", Status: 429, RetryAfter: "12"})
	_, err := h.handle(h.job(engine.EventSessionEnd, h.ended(openKey), nil))
	if out, after := engine.Classify(err); out != engine.OutcomeRetryAfter || after.Seconds() != 12 {
		t.Errorf("%v %v (%v)", out, after, err)
	}
}

func TestSurveysBecomeNotes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, connectwisetest.Options{})
	s := h.ended(openKey).CustomerSurvey(bt.SurveyAnswer{Name: "rating", Label: "How satisfied were you?", Value: "5"}).
		RepSurvey("Alice Tech", bt.SurveyAnswer{Name: "fixed", Label: "Fixed?", Value: "yes"})
	for _, ev := range []string{engine.EventCustomerSurveyDone, engine.EventRepSurveyDone, engine.EventCustomerSurveyDone} {
		if out, err := h.handle(h.job(ev, s, nil)); out != engine.OutcomeDone {
			t.Fatalf("%s: %v (%v)", ev, out, err)
		}
	}
	notes := h.sim.Notes(connectwisetest.TicketOpen)
	if len(notes) != 2 || !strings.Contains(notes[0].Text, ":customer-survey-") || !strings.Contains(notes[1].Text, ":rep-survey-") || !strings.Contains(notes[0].Text, "Rating: 5") {
		t.Errorf("notes = %+v", notes)
	}
}

func TestRepJoinCreatesTicket(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		email   string
		key     string
		contact int64
		company int64
		board   string
	}{
		{"contact found by e-mail", "arnie@acme.com", "", connectwisetest.ContactArnie, connectwisetest.CompanyACME, "Help Desk"},
		{"no match: default contact", "nobody@acme.com", "", connectwisetest.ContactDefault, connectwisetest.CompanyFabrikam, "Help Desk"},
		{"inactive contact: default", "former@acme.com", "", connectwisetest.ContactDefault, connectwisetest.CompanyFabrikam, "Help Desk"},
		{"quote in the value: default", `x"@acme.com`, "", connectwisetest.ContactDefault, connectwisetest.CompanyFabrikam, "Help Desk"},
		{"external key overrides", "", `{"company": "ACME", "summary": "From the key", "contact": 2}`, connectwisetest.ContactArnie, connectwisetest.CompanyACME, "Help Desk"},
	}
	for _, c := range cases {
		h := newHarness(t, connectwisetest.Options{})
		autoTicket(h.set)
		live := h.app.Begin(bttest.SessionSpec{
			ExternalKey: c.key,
			Customer:    &bttest.Customer{Name: "Arnie Bellini", Issue: "Printer offline", Details: "Since Monday."},
			Rep:         bttest.Rep{Username: "alice", DisplayName: "Alice Tech"},
			Custom:      []bt.CustomAttribute{{CodeName: "customer_email", Value: c.email}},
		})
		before := len(h.sim.Tickets())
		job := h.job(engine.EventMemberAdded, live, repJoined)
		out, err := h.handle(job)
		if out != engine.OutcomeDone {
			t.Fatalf("%s: %v (%v)", c.name, out, err)
		}
		if rs := job.Records(); len(rs) != 1 || rs[0].Kind != recordTicket || rs[0].Existing {
			t.Errorf("%s: records %+v", c.name, rs)
		}
		ts := h.sim.Tickets()
		if len(ts) != before+1 {
			t.Fatalf("%s: %d tickets", c.name, len(ts)-before)
		}
		tk := ts[len(ts)-1]
		wantSummary := "Printer offline"
		if c.key != "" {
			wantSummary = "From the key"
		}
		if tk.Summary != wantSummary || tk.InitialDescription != "Since Monday." || tk.Contact.ID != c.contact || tk.Company.ID != c.company ||
			tk.Board.Name != c.board || tk.Status.Name != "New" || tk.Type.Name != "Hardware" || tk.ExternalXRef != "switchboard:"+live.LSID() {
			t.Errorf("%s: ticket = %+v", c.name, tk)
		}
		snap, _ := h.app.Session(live.LSID())
		if snap.ExternalKey != strconv.FormatInt(tk.ID, 10) {
			t.Errorf("%s: external key %q, ticket %d", c.name, snap.ExternalKey, tk.ID)
		}
		// A second representative joining adds nothing.
		if out, _ := h.handle(h.job(engine.EventMemberAdded, live, repJoined)); out != engine.OutcomeSkipped || len(h.sim.Tickets()) != before+1 {
			t.Errorf("%s: second join %v, %d tickets", c.name, out, len(h.sim.Tickets())-before)
		}
	}
}

func TestRepJoinSkips(t *testing.T) {
	t.Parallel()
	h := newHarness(t, connectwisetest.Options{})
	autoTicket(h.set)
	begin := func(key string) *bttest.LiveSession {
		return h.app.Begin(bttest.SessionSpec{ExternalKey: key, Customer: &bttest.Customer{Name: "A"}, Rep: bttest.Rep{Username: "alice"}})
	}
	if out, err := h.handle(h.job(engine.EventMemberAdded, begin(openKey), repJoined)); out != engine.OutcomeSkipped {
		t.Errorf("tied to a ticket: %v (%v)", out, err)
	}
	if out, err := h.handle(h.job(engine.EventMemberAdded, begin(""), map[string][]string{"type": {"customer"}})); out != engine.OutcomeSkipped {
		t.Errorf("customer joined: %v (%v)", out, err)
	}
	h.set.AutoTicketSessionTypes = []string{TypeJump}
	if out, err := h.handle(h.job(engine.EventMemberAdded, begin(""), repJoined)); out != engine.OutcomeSkipped || !strings.Contains(err.Error(), "session type") {
		t.Errorf("session type: %v (%v)", out, err)
	}
	h.set.AutoTicketSessionTypes = SessionTypes
	if out, err := h.handle(h.job(engine.EventMemberAdded, begin(`{"colour": "red"}`), repJoined)); out != engine.OutcomePermanent {
		t.Errorf("bad override: %v (%v)", out, err)
	}
	h.set.Board = "No Such Board"
	if out, err := h.handle(h.job(engine.EventMemberAdded, begin(""), repJoined)); out != engine.OutcomePermanent || !strings.Contains(err.Error(), "board") {
		t.Errorf("unknown board: %v (%v)", out, err)
	}
}
