package autotask

import (
	"context"
	"net/http"
	"testing"
	"time"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/plugintest"
	"switchboard/plugins/autotask/autotasktest"
)

// TestConformance runs the whole conformance kit: the settings, the retry
// table with what Autotask adds, the Test button never writing, and the
// idempotence cases against the simulator: every external write the plugin
// makes (the ticket, the report note, the time entry, a survey note) is
// made exactly once however its answers are lost, its process crashes or
// its lease runs out.
func TestConformance(t *testing.T) {
	t.Parallel()
	errorsBody := func(msg string) string { return `{"errors":["` + msg + `"]}` }
	plugintest.Conformance(t, plugintest.Suite{
		Plugin: New(),
		Answers: []plugintest.Answer{
			{Name: "500 validation", Status: 500, Body: errorsBody("Value does not reference an existing entity for queueID . "), Want: engine.OutcomePermanent},
			{Name: "500 unknown username", Status: 500, Body: errorsBody("Unable to find a user with the UserName provided."), Want: engine.OutcomePermanent},
			{Name: "500 bad integration code", Status: 500, Body: errorsBody("IntegrationCode is invalid."), Want: engine.OutcomePermanent},
			{Name: "500 permission", Status: 500, Body: errorsBody("The logged in Resource does not have the adequate permissions"), Want: engine.OutcomePermanent},
			{Name: "500 thread limit", Status: 500, Body: errorsBody(autotasktest.ThreadLimitMessage), Want: engine.OutcomeRetryAfter, WantAfter: defaultRetryAfter},
			{Name: "400 thread limit", Status: 400, Header: http.Header{"Retry-After": {"2"}}, Body: errorsBody(autotasktest.ThreadLimitMessage), Want: engine.OutcomeRetryAfter, WantAfter: 2 * time.Second},
			{Name: "500 web server error", Status: 500, Body: `{"Message":"An error has occurred."}`, Want: engine.OutcomeRetry},
			{Name: "500 server failure in an errors list", Status: 500, Body: errorsBody("Internal Server Error"), Want: engine.OutcomeRetry},
			{Name: "500 missing field", Status: 500, Body: errorsBody("Missing Required Field: title"), Want: engine.OutcomePermanent},
			{Name: "404 route", Status: 404, Body: `{"Message":"No HTTP resource was found"}`, Want: engine.OutcomePermanent},
		},
		Call: func(ctx context.Context, base string) error {
			c, err := NewClient(Options{ServicesURL: base + "/ATServicesRest", Username: "u", Secret: "secret-value", IntegrationCode: "code-value"})
			if err != nil {
				return err
			}
			_, err = c.EntityInfo(ctx, "Tickets")
			return Classify(err)
		},
		Secrets: []string{"secret-value", "code-value"},
		TestButton: func(t *testing.T) (*engine.TestConfig, func() map[string]int) {
			h := newHarness(t, autotasktest.Options{})
			// The suite's plugin knows no simulator: the settings point at it.
			h.set.ServicesURL = h.sim.RESTRoot()
			h.set.UpdateTimeEntry = true
			h.set.TimeEntryDefaults = `{"defaultDomain": "msp.example", "roleName": "Technician", "summaryNotes": "Remote support"}`
			autoTicket(h.set)
			opts := h.app.Options()
			cfg := &engine.TestConfig{
				Appliance: engine.ApplianceSettings{Host: opts.Host, ClientID: opts.ClientID, ClientSecret: engine.NewSecret(opts.ClientSecret), Product: "rs"},
				Settings:  h.set, Client: h.btc, Templates: h.tpl,
			}
			return cfg, func() map[string]int {
				return writes("ticket", len(h.sim.Tickets()), "note", len(h.sim.Notes(autotasktest.TicketOpen)), "time entry", len(h.sim.TimeEntries(0)))
			}
		},
		Idempotence: []plugintest.IdempotenceCase{
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
		},
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
			// The kit loses answers on purpose, and a request whose answer
			// was lost keeps its thread slot for the grace (Autotask may
			// still be working on it). At the default 30 s the cases queue
			// behind one another's held slots for minutes; the hold itself
			// is TestTimedOutRequestsKeepTheThreadLimit's to check.
			p.TimeoutGrace = 10 * time.Millisecond
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
