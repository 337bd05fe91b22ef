package autotask

import (
	"net/http"
	"testing"
	"time"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/plugintest"
	"switchboard/plugins/autotask/autotasktest"
)

// TestIdempotence runs the conformance kit's idempotence cases against the
// simulator: every external write the plugin makes (the ticket, the report
// note, the time entry, a survey note) is made exactly once however its
// answers are lost, its process crashes or its lease runs out.
func TestIdempotence(t *testing.T) {
	t.Parallel()
	plugintest.RunIdempotence(t, []plugintest.IdempotenceCase{
		{Name: "session end: report note and time entry", New: func(t *testing.T, hc *http.Client) plugintest.Scenario {
			h := conformanceHarness(t)
			h.set.UpdateTimeEntry = true
			h.set.TimeEntryDefaults = `{"defaultDomain": "msp.example", "roleName": "Technician", "summaryNotes": "Remote support session"}`
			s := h.ended(autotasktest.TicketOpenNumber)
			return h.scenario(hc, func() *engine.Job { return h.job(engine.EventSessionEnd, s, nil) }, func() map[string]int {
				return writes("note", len(h.sim.Notes(autotasktest.TicketOpen)), "time entry", len(h.sim.TimeEntries(autotasktest.TicketOpen)))
			})
		}},
		{Name: "customer exit survey: note", New: func(t *testing.T, hc *http.Client) plugintest.Scenario {
			h := conformanceHarness(t)
			s := h.ended(autotasktest.TicketOpenNumber).CustomerSurvey(bt.SurveyAnswer{Name: "rating", Label: "How satisfied were you?", Value: "5"})
			return h.scenario(hc, func() *engine.Job { return h.job(engine.EventCustomerSurveyDone, s, nil) }, func() map[string]int {
				return writes("note", len(h.sim.Notes(autotasktest.TicketOpen)))
			})
		}},
		{Name: "representative joins: ticket", New: func(t *testing.T, hc *http.Client) plugintest.Scenario {
			h := conformanceHarness(t)
			autoTicket(h.set)
			live := h.app.Begin(bttest.SessionSpec{
				Customer: &bttest.Customer{Name: "Jane Doe", Issue: "Printer", Details: "Offline since Monday."},
				Rep:      bttest.Rep{Username: "alice", DisplayName: "Alice Tech"},
				Custom:   []bt.CustomAttribute{{CodeName: "customer_email", Value: "jane.doe@contoso.example"}},
			})
			// The event as posted: the session had no external key yet.
			job := h.job(engine.EventMemberAdded, live, repJoined)
			return h.scenario(hc, func() *engine.Job { j := *job; return &j }, func() map[string]int {
				n := 0
				for _, tk := range h.sim.Tickets() {
					if tk.ExternalID == "bt:"+live.LSID() {
						n++
					}
				}
				return writes("ticket", n)
			})
		}},
	})
}

// conformanceHarness is the plugin's harness with a fixed session clock
// for the kit's many fresh scenarios.
func conformanceHarness(t *testing.T) *harness {
	return newHarness(t, autotasktest.Options{Now: func() time.Time { return sessionStart }})
}

// scenario hands the kit a fresh plugin per attempt, talking to this
// harness's simulator through the kit's client.
func (h *harness) scenario(hc *http.Client, job func() *engine.Job, count func() map[string]int) plugintest.Scenario {
	return plugintest.Scenario{
		NewPlugin: func() engine.Plugin {
			p := New()
			p.ZoneInformationURL = h.sim.ZoneInformationURL()
			p.HTTPClient = hc
			return p
		},
		Job:    job,
		Writes: count,
	}
}

// writes pairs kinds with counts, leaving out none: a kind with no write
// shows as 0.
func writes(kv ...any) map[string]int {
	out := map[string]int{}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1].(int)
	}
	return out
}
