package autotask

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/plugins/autotask/autotasktest"
)

// noteText is a note as its golden file holds it; the simulated
// appliance's random port is replaced so the text is stable.
func noteText(n autotasktest.Note, app *bttest.Appliance) string {
	text := fmt.Sprintf("title: %s\nnoteType: %d\npublish: %d\n\n%s", n.Title, n.NoteType, n.Publish, n.Description)
	return strings.ReplaceAll(text, app.Host(), "appliance.example")
}

func TestSessionEndNote(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		key      string
		edit     func(s *Settings)
		ticket   int64
		wantPub  int64
		wantType int64
	}{
		{name: "ticket number", key: autotasktest.TicketOpenNumber, ticket: autotasktest.TicketOpen, wantPub: 2, wantType: 1},
		{name: "ticket number lower case", key: strings.ToLower(autotasktest.TicketOtherNumber), ticket: autotasktest.TicketOther, wantPub: 2, wantType: 1},
		{name: "ticket id", key: "7866", ticket: autotasktest.TicketOther, wantPub: 2, wantType: 1},
		{name: "public note, type by label", key: autotasktest.TicketOpenNumber, ticket: autotasktest.TicketOpen,
			edit: func(s *Settings) { s.PublishPublic = true; s.NoteType = "task notes" }, wantPub: 1, wantType: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, autotasktest.Options{})
			if tc.edit != nil {
				tc.edit(h.set)
			}
			s := h.ended(tc.key)
			if out, err := h.handle(h.job(engine.EventSessionEnd, s, nil)); out != engine.OutcomeDone {
				t.Fatalf("outcome %v: %v", out, err)
			}
			notes := h.sim.Notes(tc.ticket)
			if len(notes) != 1 {
				t.Fatalf("%d notes on ticket %d, want 1", len(notes), tc.ticket)
			}
			if n := notes[0]; n.Publish != tc.wantPub || n.NoteType != tc.wantType || !strings.Contains(n.Title, "[bt:"+s.LSID()+":report]") {
				t.Errorf("note = %+v", n)
			}
			if tc.name == "ticket number" {
				golden(t, "session_report_note.golden", noteText(notes[0], h.app))
			}
		})
	}
}

// TestNoDuplicateNote re-runs a delivery whose checkpoint was kept, lost,
// or never written because Autotask failed after storing the note.
func TestNoDuplicateNote(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault *autotasktest.Fault
		ctx   time.Duration // a deadline for the first attempt
		lose  bool          // the second attempt starts with an empty checkpoint
	}{
		{name: "rerun with checkpoint"},
		{name: "rerun with lost checkpoint", lose: true},
		{name: "500 after the note was stored", fault: &autotasktest.Fault{Method: "POST", Endpoint: "TicketNotes", WritesOnly: true, Status: 500, AfterWrite: true}},
		// The attempt's deadline is long enough to reach the note on a loaded
		// machine: a deadline spent before it left the fault to the rerun.
		{name: "timeout after the note was stored", fault: &autotasktest.Fault{Method: "POST", Endpoint: "TicketNotes", WritesOnly: true, Status: 200, Delay: time.Minute, AfterWrite: true}, ctx: 3 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, autotasktest.Options{})
			s := h.ended(autotasktest.TicketOpenNumber)
			if tc.fault != nil {
				h.sim.Inject(*tc.fault)
			}
			job := h.job(engine.EventSessionEnd, s, nil)
			ctx := context.Background()
			if tc.ctx > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.ctx)
				defer cancel()
			}
			err := h.plugin.Handle(ctx, job)
			out, _ := engine.Classify(err)
			want := engine.OutcomeDone
			if tc.fault != nil {
				want = engine.OutcomeRetry
			}
			if out != want {
				t.Fatalf("first attempt: outcome %v (%v), want %v", out, err, want)
			}
			if tc.lose {
				job.Checkpoint = engine.NewCheckpoint(nil, nil)
			}
			job.Attempt++
			for range 2 {
				if out, err := h.handle(job); out != engine.OutcomeDone {
					t.Fatalf("re-run: outcome %v: %v", out, err)
				}
			}
			if n := len(h.sim.Notes(autotasktest.TicketOpen)); n != 1 {
				t.Fatalf("%d notes, want exactly 1", n)
			}
		})
	}
}

func TestSessionEndSkips(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key, want string
	}{
		{key: "", want: "no external key"},
		{key: "T20990101.0001", want: "no Autotask ticket has the number T20990101.0001"},
		{key: "424242", want: "no Autotask ticket has the id 424242"},
		{key: "INC-77", want: `"INC-77" is neither a ticket number`},
	}
	h := newHarness(t, autotasktest.Options{})
	for _, tc := range tests {
		s := h.app.Begin(bttest.SessionSpec{ExternalKey: tc.key, Rep: bttest.Rep{Username: "alice", DisplayName: "Alice Tech"}}).After(time.Minute).End()
		out, err := h.handle(h.job(engine.EventSessionEnd, s, nil))
		if out != engine.OutcomeSkipped || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("key %q: outcome %v (%v), want skipped with %q", tc.key, out, err, tc.want)
		}
	}
	if n := len(h.sim.Notes(0)); n != 0 {
		t.Errorf("%d notes written, want none", n)
	}
}

func TestSessionEndWaitsForTheReport(t *testing.T) {
	t.Parallel()
	h := newHarness(t, autotasktest.Options{})
	live := h.app.Begin(bttest.SessionSpec{ExternalKey: autotasktest.TicketOpenNumber, Rep: bttest.Rep{Username: "alice", DisplayName: "Alice Tech"}})
	out, err := h.handle(h.job(engine.EventSessionEnd, live, nil))
	if out != engine.OutcomeRetry || !strings.Contains(err.Error(), "without an end time") {
		t.Fatalf("outcome %v (%v), want a retry until the report has the end", out, err)
	}
}

func TestTimeEntry(t *testing.T) {
	t.Parallel()
	h := newHarness(t, autotasktest.Options{StrictRoles: false})
	h.set.ReportTimeZone = "America/New_York"
	h.set.UpdateTimeEntry = true
	h.set.TimeEntryDefaults = `{"defaultDomain": "msp.example", "roleName": "Technician", "summaryNotes": "Remote support session", "isNonBillable": true, "internalNotes": "via Switchboard"}`
	s := h.ended(autotasktest.TicketOpenNumber)
	job := h.job(engine.EventSessionEnd, s, nil)
	if out, err := h.handle(job); out != engine.OutcomeDone {
		t.Fatalf("outcome %v: %v", out, err)
	}
	job.Checkpoint = engine.NewCheckpoint(nil, nil) // a lost checkpoint finds the entry by its marker
	if out, err := h.handle(job); out != engine.OutcomeDone {
		t.Fatalf("re-run: outcome %v: %v", out, err)
	}
	entries := h.sim.TimeEntries(autotasktest.TicketOpen)
	if len(entries) != 1 {
		t.Fatalf("%d time entries, want 1", len(entries))
	}
	e := entries[0]
	want := autotasktest.TimeEntry{
		ID: e.ID, TicketID: autotasktest.TicketOpen, ResourceID: autotasktest.ResourceAlice, RoleID: autotasktest.RoleTechnician,
		DateWorked: "2024-03-05T00:00:00", StartDateTime: "2024-03-05T14:00:00Z", EndDateTime: "2024-03-05T14:24:00Z",
		HoursWorked: 0.4, SummaryNotes: "Remote support session", InternalNotes: "via Switchboard\n[bt:" + s.LSID() + ":time]", IsNonBillable: true,
	}
	if e != want {
		t.Errorf("time entry\n got %+v\nwant %+v", e, want)
	}
}

func TestTimeEntryProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, defaults, want string
	}{
		{name: "unknown resource", defaults: `{"defaultDomain": "elsewhere.example", "roleName": "Technician", "summaryNotes": "x"}`, want: "no active Autotask resource has the e-mail alice@elsewhere.example"},
		{name: "unknown role", defaults: `{"defaultDomain": "msp.example", "roleName": "Wizard", "summaryNotes": "x"}`, want: `no active Autotask role named "Wizard"`},
		{name: "role the resource lacks", defaults: `{"defaultDomain": "msp.example", "roleName": "Senior Technician", "summaryNotes": "x"}`, want: "Role does not exist or is invalid: check Time Entry Default Data"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, autotasktest.Options{})
			h.set.UpdateTimeEntry = true
			h.set.TimeEntryDefaults = JSONObject(tc.defaults)
			out, err := h.handle(h.job(engine.EventSessionEnd, h.ended(autotasktest.TicketOpenNumber), nil))
			if out != engine.OutcomePermanent || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("outcome %v (%v), want permanent with %q", out, err, tc.want)
			}
			if n := len(h.sim.Notes(autotasktest.TicketOpen)); n != 1 {
				t.Errorf("%d notes, want the report note kept", n)
			}
		})
	}
}

func TestSurveyNotes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, autotasktest.Options{})
	s := h.ended(autotasktest.TicketOpenNumber).
		CustomerSurvey(bt.SurveyAnswer{Name: "rating", Label: "How satisfied were you?", Value: "5"}, bt.SurveyAnswer{Name: "comments", Label: "Comments", Value: "Quick and friendly."}).
		RepSurvey("Alice Tech", bt.SurveyAnswer{Name: "resolved", Label: "Was the issue resolved?", Value: "Yes"})
	for _, event := range []string{engine.EventCustomerSurveyDone, engine.EventRepSurveyDone, engine.EventCustomerSurveyDone} {
		// The appliance stamps a survey event when the survey is submitted;
		// the session report's surveys carry no time of their own.
		job := h.job(event, s, nil)
		job.Event.Timestamp = h.app.Now()
		if out, err := h.handle(job); out != engine.OutcomeDone {
			t.Fatalf("%s: outcome %v: %v", event, out, err)
		}
	}
	notes := h.sim.Notes(autotasktest.TicketOpen)
	if len(notes) != 2 {
		t.Fatalf("%d notes, want one per survey", len(notes))
	}
	golden(t, "customer_survey_note.golden", noteText(notes[0], h.app))
	golden(t, "rep_survey_note.golden", noteText(notes[1], h.app))
}

func TestSurveyBeforeReport(t *testing.T) {
	t.Parallel()
	h := newHarness(t, autotasktest.Options{})
	s := h.ended(autotasktest.TicketOpenNumber)
	out, err := h.handle(h.job(engine.EventCustomerSurveyDone, s, nil))
	if out != engine.OutcomeRetry || !strings.Contains(err.Error(), "no customer exit survey yet") {
		t.Fatalf("outcome %v (%v), want a retry", out, err)
	}
}

// autoTicket turns automatic ticket creation on with contacts found by the
// customer_email custom field.
func autoTicket(s *Settings) {
	s.AutoTicketOnStart = true
	s.AutoTicketWithoutKey = true
	s.TicketDefaults = `{"companyID": 175, "queueID": 29682969, "status": 1, "priority": 2, "title": "Remote support: {{Issue}}", "description": "{{Details}}", "source": 11, "contactID": "<<emailAddress|customer_email>>", "defaultContactID": 30684002}`
}

var repJoined = url.Values{"type": {"representative"}, "username": {"alice"}, "display_name": {"Alice Tech"}}

func TestAutomaticTicket(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		key         string
		email       string
		wantContact int64
		wantCompany int64
		wantTitle   string
		wantPrio    int64
	}{
		{name: "contact found", email: "Jane.Doe@contoso.example", wantContact: autotasktest.ContactJane, wantCompany: autotasktest.CompanyContoso, wantTitle: "Remote support: Printer", wantPrio: 2},
		{name: "no contact matches", email: "stranger@example.com", wantContact: autotasktest.ContactJohn, wantCompany: autotasktest.CompanyFabrikam, wantTitle: "Remote support: Printer", wantPrio: 2},
		{name: "only an inactive contact matches", email: "former.staff@contoso.example", wantContact: autotasktest.ContactJohn, wantCompany: autotasktest.CompanyFabrikam, wantTitle: "Remote support: Printer", wantPrio: 2},
		{name: "no custom field value", email: "", wantContact: autotasktest.ContactJohn, wantCompany: autotasktest.CompanyFabrikam, wantTitle: "Remote support: Printer", wantPrio: 2},
		{name: "external key overrides", key: `{"priority": 1, "title": "VIP: {{Issue}}"}`, email: "jane.doe@contoso.example", wantContact: autotasktest.ContactJane, wantCompany: autotasktest.CompanyContoso, wantTitle: "VIP: Printer", wantPrio: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, autotasktest.Options{})
			autoTicket(h.set)
			live := h.app.Begin(bttest.SessionSpec{
				ExternalKey: tc.key,
				Customer:    &bttest.Customer{Name: "Jane Doe", Issue: "Printer", Details: "Offline since Monday."},
				Rep:         bttest.Rep{Username: "alice", DisplayName: "Alice Tech"},
				Custom:      []bt.CustomAttribute{{CodeName: "customer_email", Value: tc.email}},
			})
			before := len(h.sim.Tickets())
			if out, err := h.handle(h.job(engine.EventMemberAdded, live, repJoined)); out != engine.OutcomeDone {
				t.Fatalf("outcome %v: %v", out, err)
			}
			tickets := h.sim.Tickets()
			if len(tickets) != before+1 {
				t.Fatalf("%d tickets created, want 1", len(tickets)-before)
			}
			tk := tickets[len(tickets)-1]
			if tk.ContactID != tc.wantContact || tk.CompanyID != tc.wantCompany || tk.Title != tc.wantTitle || tk.Priority != tc.wantPrio ||
				tk.Description != "Offline since Monday." || tk.QueueID != autotasktest.QueueLevelOne || tk.ExternalID != "bt:"+live.LSID() {
				t.Errorf("ticket = %+v", tk)
			}
			snap, _ := h.app.Session(live.LSID())
			if snap.ExternalKey != tk.TicketNumber {
				t.Errorf("session external key = %q, want %s", snap.ExternalKey, tk.TicketNumber)
			}
			// A second representative joining creates nothing.
			out, err := h.handle(h.job(engine.EventMemberAdded, live.Join(bttest.Rep{Username: "bob", DisplayName: "Bob Senior"}), repJoined))
			if out != engine.OutcomeSkipped || len(h.sim.Tickets()) != before+1 {
				t.Errorf("second rep: outcome %v (%v), %d tickets", out, err, len(h.sim.Tickets())-before)
			}
			// The session end finds the ticket by its number and by the link.
			live.After(10 * time.Minute).End()
			if out, err := h.handle(h.job(engine.EventSessionEnd, live, nil)); out != engine.OutcomeDone {
				t.Fatalf("session end: outcome %v: %v", out, err)
			}
			if n := len(h.sim.Notes(tk.ID)); n != 1 {
				t.Errorf("%d notes on the new ticket, want 1", n)
			}
		})
	}
}

func TestAutomaticTicketSkips(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		edit   func(s *Settings)
		spec   bttest.SessionSpec
		fields url.Values
		want   string
	}{
		{name: "off", edit: func(s *Settings) { s.AutoTicketOnStart = false }, fields: repJoined, want: "automatic ticket creation is off"},
		{name: "customer joined", fields: url.Values{"type": {"customer"}}, want: "a customer joined"},
		{name: "no key and not wanted", edit: func(s *Settings) { s.AutoTicketWithoutKey = false }, fields: repJoined, want: "is off"},
		{name: "already tied", spec: bttest.SessionSpec{ExternalKey: autotasktest.TicketOpenNumber}, fields: repJoined, want: "already tied to ticket"},
		{name: "session type not selected", edit: func(s *Settings) { s.AutoTicketSessionTypes = []string{TypeJump} }, fields: repJoined, want: "session type is issue_submission"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, autotasktest.Options{})
			autoTicket(h.set)
			if tc.edit != nil {
				tc.edit(h.set)
			}
			spec := tc.spec
			spec.Customer = &bttest.Customer{Name: "Jane Doe", Issue: "Printer"}
			spec.Rep = bttest.Rep{Username: "alice", DisplayName: "Alice Tech"}
			before := len(h.sim.Tickets())
			out, err := h.handle(h.job(engine.EventMemberAdded, h.app.Begin(spec), tc.fields))
			if out != engine.OutcomeSkipped || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("outcome %v (%v), want skipped with %q", out, err, tc.want)
			}
			if len(h.sim.Tickets()) != before {
				t.Error("a ticket was created")
			}
		})
	}
}

func TestAutomaticTicketBadOverrides(t *testing.T) {
	t.Parallel()
	h := newHarness(t, autotasktest.Options{})
	autoTicket(h.set)
	live := h.app.Begin(bttest.SessionSpec{ExternalKey: `{"queue": 3}`, Rep: bttest.Rep{Username: "alice"}})
	out, err := h.handle(h.job(engine.EventMemberAdded, live, repJoined))
	if out != engine.OutcomePermanent || !strings.Contains(err.Error(), `key "queue" is not a Tickets field`) {
		t.Fatalf("outcome %v (%v)", out, err)
	}
}

func TestSessionType(t *testing.T) {
	t.Parallel()
	start := func(by string) []bt.SessionEvent {
		return []bt.SessionEvent{{Type: bt.EventSessionStart, PerformedBy: bt.Actor{Type: by}}}
	}
	withIssue := []bt.Customer{{Primary: true, Info: bt.CustomerInfo{Issue: "Printer"}}}
	tests := []struct {
		name string
		s    bt.Session
		want string
	}{
		{name: "PRA", s: bt.Session{Product: "pra"}, want: TypeJump},
		{name: "jumpoint", s: bt.Session{Jumpoint: bt.Ref{ID: "4"}, Events: start("representative")}, want: TypeJump},
		{name: "rep started", s: bt.Session{Events: start("representative"), Customers: withIssue}, want: TypeRepInitiated},
		{name: "issue submission", s: bt.Session{Events: start("system"), Customers: withIssue}, want: TypeIssueSubmission},
		{name: "session key", s: bt.Session{Events: start("system"), Customers: []bt.Customer{{Primary: true}}}, want: TypeSessionKey},
	}
	for _, tc := range tests {
		if got := SessionType(&tc.s); got != tc.want {
			t.Errorf("%s: SessionType = %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestImpersonation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		resource int64
		want     engine.Outcome
	}{
		{name: "allowed", resource: autotasktest.ResourceAlice, want: engine.OutcomeDone},
		{name: "unknown resource", resource: 12345, want: engine.OutcomePermanent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, autotasktest.Options{})
			h.set.ImpersonationResourceID = tc.resource
			out, err := h.handle(h.job(engine.EventSessionEnd, h.ended(autotasktest.TicketOpenNumber), nil))
			if out != tc.want {
				t.Fatalf("outcome %v (%v), want %v", out, err, tc.want)
			}
			if tc.want == engine.OutcomeDone {
				if n := h.sim.Notes(autotasktest.TicketOpen); len(n) != 1 || n[0].ImpersonatorCreatorResourceID != tc.resource {
					t.Errorf("notes = %+v, want one written as resource %d", n, tc.resource)
				}
			}
		})
	}
}

// TestReadAnswered5xxIsAskedAgainInTheAttempt: a query a flaky tenant
// answers 500 or 502 costs a second, not the attempt and its backoff; a
// create answered 500 is never sent again blindly (Job.Once looks first).
func TestReadAnswered5xxIsAskedAgainInTheAttempt(t *testing.T) {
	t.Parallel()
	h := newHarness(t, autotasktest.Options{})
	s := h.ended(autotasktest.TicketOpenNumber)
	h.sim.Inject(autotasktest.Fault{Method: "POST", Endpoint: "Tickets", Status: 500})
	h.sim.Inject(autotasktest.Fault{Method: "POST", Endpoint: "TicketNotes", Status: 502})
	before := h.sim.Stats("Tickets").Requests
	if out, err := h.handle(h.job(engine.EventSessionEnd, s, nil)); out != engine.OutcomeDone {
		t.Fatalf("outcome %v (%v), want done in the first attempt", out, err)
	}
	if got := h.sim.Stats("Tickets").Requests - before; got < 2 {
		t.Fatalf("ticket query sent %d times, want it asked again after the 500", got)
	}
	if n := len(h.sim.Notes(autotasktest.TicketOpen)); n != 1 {
		t.Fatalf("%d notes on the ticket, want 1", n)
	}
}
