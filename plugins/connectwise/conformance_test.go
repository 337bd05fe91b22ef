package connectwise

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/plugintest"
	"switchboard/plugins/connectwise/connectwisetest"
)

// TestConformance runs the whole conformance kit: the settings, the retry
// table with what ConnectWise adds and no private key in any error, the
// Test button never writing, and the idempotence cases: every external
// write (the ticket, the report note, the time entry, a survey note) is
// made exactly once however answers are lost, processes crash or leases
// expire.
func TestConformance(t *testing.T) {
	t.Parallel()
	key := strconv.Itoa(connectwisetest.TicketOpen)
	const secret = "pr1vate-KEY-planted"
	plugintest.Conformance(t, plugintest.Suite{
		Plugin: New(),
		Answers: []plugintest.Answer{
			{Name: "400 InvalidObject", Status: 400, Body: `{"code":"InvalidObject","message":"ticket object is invalid","errors":[{"code":"InvalidField","message":"bad","resource":"ticket","field":"summary"}]}`, Want: engine.OutcomePermanent},
			{Name: "401 UserNotAuthenticated", Status: 401, Body: `{"code":"Unauthorized","message":"UserNotAuthenticated"}`, Want: engine.OutcomePermanent},
			{Name: "404 not found", Status: 404, Body: `{"code":"NotFound","message":"x"}`, Want: engine.OutcomePermanent},
			{Name: "409 conflict", Status: 409, Body: `{}`, Want: engine.OutcomePermanent},
			{Name: "429 with an HTTP date", Status: 429, Header: http.Header{"Retry-After": {time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)}}, Want: engine.OutcomeRetryAfter, WantAfter: 50 * time.Minute, AfterFloor: true},
			{Name: "500 with a timeout message", Status: 500, Body: `{"code":"ConnectWiseApi","message":"Execution Timeout Expired"}`, Want: engine.OutcomeRetry},
		},
		Call: func(ctx context.Context, url string) error {
			c, err := NewClient(Options{Site: url + "/v4_6_release/apis/3.0", Company: "acme", PublicKey: "pub", PrivateKey: secret, ClientID: "cid"})
			if err != nil {
				return err
			}
			return c.Get(ctx, "system/info", &struct{}{})
		},
		Secrets: []string{secret},
		TestButton: func(t *testing.T) (*engine.TestConfig, func() map[string]int) {
			h := newHarness(t, connectwisetest.Options{})
			timeEntries(h.set)
			autoTicket(h.set)
			opts := h.app.Options()
			cfg := &engine.TestConfig{
				Appliance: engine.ApplianceSettings{Host: opts.Host, ClientID: opts.ClientID, ClientSecret: engine.NewSecret(opts.ClientSecret), Product: "rs"},
				Settings:  h.set, Client: h.btc, Templates: h.tpl,
			}
			return cfg, func() map[string]int {
				return map[string]int{"ticket": len(h.sim.Tickets()), "note": len(h.sim.Notes(connectwisetest.TicketOpen)), "time entry": len(h.sim.TimeEntries(connectwisetest.TicketOpen))}
			}
		},
		Idempotence: []plugintest.IdempotenceCase{
			{Name: "session end: report note and time entry", New: func(t *testing.T, hc *http.Client) plugintest.Scenario {
				h := newHarness(t, connectwisetest.Options{})
				timeEntries(h.set)
				s := h.ended(key)
				return h.scenario(hc, func() *engine.Job { return h.job(engine.EventSessionEnd, s, nil) }, func() map[string]int {
					return map[string]int{"note": len(h.sim.Notes(connectwisetest.TicketOpen)), "time entry": len(h.sim.TimeEntries(connectwisetest.TicketOpen))}
				})
			}},
			{Name: "customer exit survey: note (contains refused)", New: func(t *testing.T, hc *http.Client) plugintest.Scenario {
				h := newHarness(t, connectwisetest.Options{RefuseContains: true})
				s := h.ended(key).CustomerSurvey(bt.SurveyAnswer{Name: "rating", Label: "Rating", Value: "5"})
				return h.scenario(hc, func() *engine.Job { return h.job(engine.EventCustomerSurveyDone, s, nil) }, func() map[string]int {
					return map[string]int{"note": len(h.sim.Notes(connectwisetest.TicketOpen))}
				})
			}},
			{Name: "representative joins: ticket", New: func(t *testing.T, hc *http.Client) plugintest.Scenario {
				h := newHarness(t, connectwisetest.Options{})
				autoTicket(h.set)
				live := h.app.Begin(bttest.SessionSpec{
					Customer: &bttest.Customer{Name: "Arnie Bellini", Issue: "Printer", Details: "Offline."},
					Rep:      bttest.Rep{Username: "alice", DisplayName: "Alice Tech"},
					Custom:   []bt.CustomAttribute{{CodeName: "customer_email", Value: "arnie@acme.com"}},
				})
				job := h.job(engine.EventMemberAdded, live, repJoined)
				return h.scenario(hc, func() *engine.Job { j := *job; return &j }, func() map[string]int {
					n := 0
					for _, tk := range h.sim.Tickets() {
						if tk.ExternalXRef == "switchboard:"+live.LSID() {
							n++
						}
					}
					return map[string]int{"ticket": n}
				})
			}},
		},
	})
}

// scenario hands the kit a fresh plugin per attempt, talking to this
// harness's simulator through the kit's client.
func (h *harness) scenario(hc *http.Client, job func() *engine.Job, count func() map[string]int) plugintest.Scenario {
	return plugintest.Scenario{
		NewPlugin: func() engine.Plugin { p := New(); p.HTTPClient = hc; return p },
		Job:       job,
		Writes:    count,
	}
}
