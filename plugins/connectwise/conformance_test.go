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

func TestSettingsConformance(t *testing.T) {
	t.Parallel()
	plugintest.CheckSettings(t, New())
}

// TestRetryTable: every answer ConnectWise can give maps to the outcome
// the dispatcher must see, and no error text shows the private key.
func TestRetryTable(t *testing.T) {
	t.Parallel()
	answers := append(plugintest.RetryTable(),
		plugintest.Answer{Name: "400 InvalidObject", Status: 400, Body: `{"code":"InvalidObject","message":"ticket object is invalid","errors":[{"code":"InvalidField","message":"bad","resource":"ticket","field":"summary"}]}`, Want: engine.OutcomePermanent},
		plugintest.Answer{Name: "401 UserNotAuthenticated", Status: 401, Body: `{"code":"Unauthorized","message":"UserNotAuthenticated"}`, Want: engine.OutcomePermanent},
		plugintest.Answer{Name: "404 not found", Status: 404, Body: `{"code":"NotFound","message":"x"}`, Want: engine.OutcomePermanent},
		plugintest.Answer{Name: "409 conflict", Status: 409, Body: `{}`, Want: engine.OutcomePermanent},
		plugintest.Answer{Name: "429 with an HTTP date", Status: 429, Header: http.Header{"Retry-After": {time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)}}, Want: engine.OutcomeRetryAfter, WantAfter: 50 * time.Minute, AfterFloor: true},
		plugintest.Answer{Name: "500 with a timeout message", Status: 500, Body: `{"code":"ConnectWiseApi","message":"Execution Timeout Expired"}`, Want: engine.OutcomeRetry},
	)
	const secret = "pr1vate-KEY-planted"
	plugintest.RunRetryTable(t, answers, func(ctx context.Context, url string) error {
		c, err := NewClient(Options{Site: url + "/v4_6_release/apis/3.0", Company: "acme", PublicKey: "pub", PrivateKey: secret, ClientID: "cid"})
		if err != nil {
			return err
		}
		err = c.Get(ctx, "system/info", &struct{}{})
		plugintest.AssertNoSecret(t, err, secret)
		return err
	})
}

// TestIdempotence runs the kit's idempotence cases: every external write
// (the ticket, the report note, the time entry, a survey note) is made
// exactly once however answers are lost, processes crash or leases expire.
func TestIdempotence(t *testing.T) {
	t.Parallel()
	key := strconv.Itoa(connectwisetest.TicketOpen)
	plugintest.RunIdempotence(t, []plugintest.IdempotenceCase{
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
