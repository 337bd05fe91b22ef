package connectwise

import (
	"context"
	"strings"
	"testing"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/plugintest"
	"switchboard/plugins/connectwise/connectwisetest"
)

// planHarness is a harness whose simulators fail the test on any write:
// ConnectWise on every request but a GET, the appliance on
// set_session_attributes.
func planHarness(t *testing.T) *harness {
	t.Helper()
	return newHarness(t, connectwisetest.Options{RefuseWrites: plugintest.RefuseWrite(t, "ConnectWise")},
		bttest.WithRefuseWrites(func(op string) { plugintest.RefuseWrite(t, "the appliance")("POST", op) }))
}

// A dry run of a session end plans the note and time entry the real
// delivery writes, and writes nothing.
func TestDryRunSessionEndPlansWhatTheDeliveryWrites(t *testing.T) {
	t.Parallel()
	dry := planHarness(t)
	timeEntries(dry.set)
	drySession := dry.ended(openKey)
	plan, err := dryRun(dry, dry.job(engine.EventSessionEnd, drySession, nil))
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	writes := plan.Writes()
	if len(writes) != 2 || writes[0].Key != "note:report" || writes[1].Key != "time_entry" || writes[0].System != "connectwise" {
		t.Fatalf("planned writes %+v", writes)
	}
	if n := len(dry.sim.Notes(connectwisetest.TicketOpen)); n != 0 {
		t.Fatalf("the dry run left %d notes", n)
	}
	steps := plugintest.PlanSteps(plan)
	for _, want := range []string{`ticket: the session's external key "` + openKey + `" names ConnectWise ticket #` + openKey, `time entry: the primary representative "alice" is ConnectWise member jdoe`} {
		if !strings.Contains(steps, want) {
			t.Errorf("steps lack %q:\n%s", want, steps)
		}
	}

	real := newHarness(t, connectwisetest.Options{})
	timeEntries(real.set)
	realSession := real.ended(openKey)
	if out, err := real.handle(real.job(engine.EventSessionEnd, realSession, nil)); out != engine.OutcomeDone {
		t.Fatalf("real delivery: %v %v", out, err)
	}
	note := real.sim.Notes(connectwisetest.TicketOpen)[0]
	n := plugintest.PlannedBody(t, writes[0])
	// The two appliances differ in their address and the session's id.
	same := strings.NewReplacer(dry.app.Host(), real.app.Host(), drySession.LSID(), realSession.LSID())
	text := same.Replace(n["text"].(string))
	if text != note.Text || n["internalAnalysisFlag"] != note.InternalAnalysisFlag || writes[0].Method != "POST" || !strings.HasSuffix(writes[0].Path, "/service/tickets/"+openKey+"/notes") {
		t.Errorf("planned note %s %s %v\nwritten %+v", writes[0].Method, writes[0].Path, n, note)
	}
	entry := real.sim.TimeEntries(connectwisetest.TicketOpen)[0]
	te := plugintest.PlannedBody(t, writes[1])
	if te["timeStart"] != entry.TimeStart || te["timeEnd"] != entry.TimeEnd || same.Replace(te["internalNotes"].(string)) != entry.InternalNotes {
		t.Errorf("planned time entry %v\nwritten %+v", te, entry)
	}
}

// A dry run of a representative joining plans the ticket and the external
// key, explains the contact, and creates, links and changes nothing.
func TestDryRunTicketExplainsTheContact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		email, want string
		contact     float64
	}{
		{"arnie@acme.com", `<<email|customer_email>>: the session's customer_email is "arnie@acme.com"; ConnectWise contact 2 (company ACME) has email`, connectwisetest.ContactArnie},
		{"nobody@acme.com", `no active ConnectWise contact has email "nobody@acme.com", so the default contact`, connectwisetest.ContactDefault},
		{`x"@acme.com`, `which holds a quote and cannot be searched; using the default contact`, connectwisetest.ContactDefault},
	}
	for _, tc := range tests {
		t.Run(tc.email, func(t *testing.T) {
			t.Parallel()
			h := planHarness(t)
			autoTicket(h.set)
			live := h.app.Begin(bttest.SessionSpec{
				Customer: &bttest.Customer{Name: "Arnie Bellini", Issue: "Printer offline", Details: "Since Monday."},
				Rep:      bttest.Rep{Username: "alice", DisplayName: "Alice Tech"},
				Custom:   []bt.CustomAttribute{{CodeName: "customer_email", Value: tc.email}},
			})
			before := len(h.sim.Tickets())
			plan, err := dryRun(h, h.job(engine.EventMemberAdded, live, repJoined))
			if err != nil {
				t.Fatalf("dry run: %v", err)
			}
			if steps := plugintest.PlanSteps(plan); !strings.Contains(steps, "contact: <<email|customer_email>>: ") || !strings.Contains(steps, tc.want) {
				t.Errorf("steps lack %q:\n%s", tc.want, steps)
			}
			writes := plan.Writes()
			if len(writes) != 2 || writes[0].Key != "ticket" || writes[1].System != "beyondtrust" || writes[1].Key != "external_key" {
				t.Fatalf("planned writes %+v", writes)
			}
			tk := plugintest.PlannedBody(t, writes[0])
			if c, _ := tk["contact"].(map[string]any); c["id"] != tc.contact || tk["summary"] != "Printer offline" || tk["externalXRef"] != "switchboard:"+live.LSID() {
				t.Errorf("planned ticket %v", tk)
			}
			if key := plugintest.PlannedBody(t, writes[1]); key["session.custom.external_key"] != plannedTicket {
				t.Errorf("planned external key %v", key)
			}
			snap, _ := h.app.Session(live.LSID())
			if len(h.sim.Tickets()) != before || snap.ExternalKey != "" || len(h.links.m) != 0 {
				t.Errorf("the dry run changed something: %d tickets, key %q, links %v", len(h.sim.Tickets())-before, snap.ExternalKey, h.links.m)
			}
		})
	}
}

// dryRun runs job as a dry run through the harness's appliance.
func dryRun(h *harness, job *engine.Job) (*engine.Plan, error) {
	return engine.DryRun(context.Background(), job, nil, h.plugin.Handle)
}
