package autotask

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/plugintest"
	"switchboard/plugins/autotask/autotasktest"
)

// planHarness is a harness whose simulators fail the test on any write:
// Autotask on a create or update, the appliance on set_session_attributes.
func planHarness(t *testing.T) *harness {
	t.Helper()
	return newHarness(t, autotasktest.Options{RefuseWrites: plugintest.RefuseWrite(t, "Autotask")},
		bttest.WithRefuseWrites(func(op string) { plugintest.RefuseWrite(t, "the appliance")("POST", op) }))
}

// A dry run of a session end plans the note and the time entry the real
// delivery writes, byte for byte, and writes nothing.
func TestDryRunSessionEndPlansWhatTheDeliveryWrites(t *testing.T) {
	t.Parallel()
	var timeDefaults JSONObject = `{"defaultDomain": "msp.example", "roleName": "Technician", "summaryNotes": "Remote support session"}`
	dry := planHarness(t)
	dry.set.UpdateTimeEntry, dry.set.TimeEntryDefaults = true, timeDefaults
	plan, err := dryRun(dry, dry.job(engine.EventSessionEnd, dry.ended(autotasktest.TicketOpenNumber), nil))
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	writes := plan.Writes()
	if len(writes) != 2 || writes[0].Key != "note:report" || writes[1].Key != "time_entry" {
		t.Fatalf("planned writes %+v", writes)
	}
	if n := len(dry.sim.Notes(autotasktest.TicketOpen)); n != 0 {
		t.Fatalf("the dry run left %d notes", n)
	}
	steps := plugintest.PlanSteps(plan)
	for _, want := range []string{`ticket: the session's external key "T20240101.0001" is a ticket number`, `time entry: the primary representative "alice" is Autotask resource`} {
		if !strings.Contains(steps, want) {
			t.Errorf("steps lack %q:\n%s", want, steps)
		}
	}

	real := newHarness(t, autotasktest.Options{})
	real.set.UpdateTimeEntry, real.set.TimeEntryDefaults = true, timeDefaults
	if out, err := real.handle(real.job(engine.EventSessionEnd, real.ended(autotasktest.TicketOpenNumber), nil)); out != engine.OutcomeDone {
		t.Fatalf("real delivery: %v %v", out, err)
	}
	note := real.sim.Notes(autotasktest.TicketOpen)[0]
	planned := plugintest.PlannedBody(t, writes[0])
	// The two appliances differ only in their address, which the report's links hold.
	planned["description"] = strings.ReplaceAll(planned["description"].(string), dry.app.Host(), real.app.Host())
	if planned["description"] != note.Description || planned["title"] != note.Title || writes[0].Method != "POST" || !strings.HasSuffix(writes[0].Path, "/Tickets/"+strconv.FormatInt(autotasktest.TicketOpen, 10)+"/Notes") {
		t.Errorf("planned note %s %s %v\nwritten %+v", writes[0].Method, writes[0].Path, planned, note)
	}
	entry := real.sim.TimeEntries(autotasktest.TicketOpen)[0]
	te := plugintest.PlannedBody(t, writes[1])
	if te["hoursWorked"] != entry.HoursWorked || te["internalNotes"] != entry.InternalNotes || te["startDateTime"] != entry.StartDateTime || te["resourceID"] != float64(entry.ResourceID) {
		t.Errorf("planned time entry %v\nwritten %+v", te, entry)
	}
}

// A dry run of a representative joining plans the ticket, explains the
// contact (expression, value read, match or fallback) and plans writing
// the number into the session, without creating or linking anything.
func TestDryRunTicketExplainsTheContact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		email, want string
		contact     float64
	}{
		{"jane.doe@contoso.example", `<<emailAddress|customer_email>>: the session's customer_email is "jane.doe@contoso.example"; Autotask contact 30684001 (company 174) has emailAddress`, autotasktest.ContactJane},
		{"stranger@example.com", `no active Autotask contact has emailAddress "stranger@example.com", so the default contact 30684002 is used`, autotasktest.ContactJohn},
		{"", "the session's custom field customer_email is empty; using the default contact 30684002", autotasktest.ContactJohn},
	}
	for _, tc := range tests {
		t.Run(tc.email, func(t *testing.T) {
			t.Parallel()
			h := planHarness(t)
			autoTicket(h.set)
			live := h.app.Begin(bttest.SessionSpec{
				Customer: &bttest.Customer{Name: "Jane Doe", Issue: "Printer", Details: "Offline."},
				Rep:      bttest.Rep{Username: "alice", DisplayName: "Alice Tech"},
				Custom:   []bt.CustomAttribute{{CodeName: "customer_email", Value: tc.email}},
			})
			before := len(h.sim.Tickets())
			plan, err := dryRun(h, h.job(engine.EventMemberAdded, live, repJoined))
			if err != nil {
				t.Fatalf("dry run: %v", err)
			}
			if steps := plugintest.PlanSteps(plan); !strings.Contains(steps, "contact: <<emailAddress|customer_email>>: ") || !strings.Contains(steps, tc.want) {
				t.Errorf("steps lack %q:\n%s", tc.want, steps)
			}
			writes := plan.Writes()
			if len(writes) != 2 || writes[0].Key != "ticket" || writes[0].System != "autotask" || writes[1].System != "beyondtrust" {
				t.Fatalf("planned writes %+v", writes)
			}
			if tk := plugintest.PlannedBody(t, writes[0]); tk["contactID"] != tc.contact || tk["title"] != "Remote support: Printer" || tk["externalID"] != "bt:"+live.LSID() {
				t.Errorf("planned ticket %v", tk)
			}
			if key := plugintest.PlannedBody(t, writes[1]); key["session.custom.external_key"] != plannedTicket || key["lsid"] != live.LSID() {
				t.Errorf("planned external key %v", key)
			}
			snap, _ := h.app.Session(live.LSID())
			if len(h.sim.Tickets()) != before || snap.ExternalKey != "" || len(h.links.m) != 0 {
				t.Errorf("the dry run changed something: %d tickets, key %q, links %v", len(h.sim.Tickets())-before, snap.ExternalKey, h.links.m)
			}
		})
	}
}

// A dry run finds what an earlier delivery wrote and plans nothing again.
func TestDryRunAfterTheDeliveryPlansNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, autotasktest.Options{})
	s := h.ended(autotasktest.TicketOpenNumber)
	if out, err := h.handle(h.job(engine.EventSessionEnd, s, nil)); out != engine.OutcomeDone {
		t.Fatalf("delivery: %v %v", out, err)
	}
	plan, err := dryRun(h, h.job(engine.EventSessionEnd, s, nil))
	if err != nil || len(plan.Writes()) != 0 {
		t.Fatalf("dry run after the delivery: %v, %+v", err, plan.Writes())
	}
	if steps := plugintest.PlanSteps(plan); !strings.Contains(steps, "note:report is already there") {
		t.Errorf("steps:\n%s", steps)
	}
}

// dryRun runs job as a dry run through the harness's appliance.
func dryRun(h *harness, job *engine.Job) (*engine.Plan, error) {
	return engine.DryRun(context.Background(), job, nil, h.plugin.Handle)
}
