package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"switchboard/engine/beyondtrust"
	"switchboard/engine/outbound"
)

// Plan is what a dry run ("Preview delivery") found it would write: every
// write the delivery would have sent, with its body, and the steps that
// led there (which ticket, which contact and why). A Job with a Plan runs
// the plugin's Handle as usual, reads included, but writes nothing:
//
//   - every request of an engine/outbound client that is not a read is
//     handed to the Plan instead of being sent (outbound.WithPlanner, set
//     on the context by DryRun);
//   - the appliance is reached through PlanAppliance, which records
//     SetSessionAttributes instead of sending it;
//   - Links are read, never set, and the Checkpoint is kept in memory.
//
// Once treats a write the Plan took as done, with an empty value, and
// Planning tells a plugin to stop before it reads what only a real write
// would have made (a new ticket's number).
type Plan struct {
	mu     sync.Mutex
	writes []PlannedWrite
	steps  []PlanStep
	key    string
}

// PlannedWrite is one write a dry run would have made.
type PlannedWrite struct {
	// Key is the Once key it was planned under ("note:report"), if any.
	Key string `json:"key,omitempty"`
	// System is the remote it would have gone to: a connector's ID
	// ("autotask") or "beyondtrust".
	System string `json:"system"`
	Method string `json:"method"`
	// Path is the request's path and query, without scheme and host.
	Path string `json:"path"`
	// Body is what would have been sent: JSON when it is JSON, else a
	// JSON string of the text.
	Body json.RawMessage `json:"body,omitempty"`
}

// PlanStep is one decision of a dry run, in the words the admin reads:
// Topic names what was decided ("ticket", "contact", "time entry").
type PlanStep struct {
	Topic string `json:"topic"`
	Text  string `json:"text"`
}

// PlanWrite records a write a client did not send (outbound.Planner).
func (p *Plan) PlanWrite(w outbound.PlannedRequest) {
	p.add(PlannedWrite{System: w.System, Method: w.Method, Path: w.Path, Body: jsonBody(w.Body)})
}

func (p *Plan) add(w PlannedWrite) {
	p.mu.Lock()
	defer p.mu.Unlock()
	w.Key = p.key
	p.writes = append(p.writes, w)
}

// jsonBody keeps a JSON body as it is and makes any other text a JSON
// string, so the plan is always valid JSON.
func jsonBody(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	if json.Valid(b) {
		return json.RawMessage(b)
	}
	s, _ := json.Marshal(string(b))
	return s
}

// Writes returns the planned writes in the order planned.
func (p *Plan) Writes() []PlannedWrite {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]PlannedWrite(nil), p.writes...)
}

// Steps returns the explained decisions in the order made.
func (p *Plan) Steps() []PlanStep {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]PlanStep(nil), p.steps...)
}

// under tags the writes planned until the returned func runs with key.
func (p *Plan) under(key string) func() {
	p.mu.Lock()
	p.key = key
	p.mu.Unlock()
	return func() {
		p.mu.Lock()
		p.key = ""
		p.mu.Unlock()
	}
}

// Planning reports whether the job is a dry run (false on a nil Job: the
// Test button's checks share code with deliveries).
func (j *Job) Planning() bool { return j != nil && j.Plan != nil }

// Explain records a decision of a dry run (which ticket, which contact and
// why) and logs it at debug level otherwise; on a nil Job it does nothing.
func (j *Job) Explain(topic, format string, args ...any) {
	if j == nil {
		return
	}
	text := fmt.Sprintf(format, args...)
	if j.Plan != nil {
		j.Plan.mu.Lock()
		j.Plan.steps = append(j.Plan.steps, PlanStep{Topic: topic, Text: text})
		j.Plan.mu.Unlock()
		return
	}
	if j.Log != nil {
		j.Log.Debug(text, "topic", topic)
	}
}

// PlanAppliance is the appliance of a dry run: it reads through App, or
// answers with Sample for any session when Sample is set, and records
// every write in Plan instead of sending it.
type PlanAppliance struct {
	App    Appliance
	Sample *beyondtrust.Session
	Plan   *Plan
}

var _ Appliance = (*PlanAppliance)(nil)

// Host is the appliance's host.
func (a *PlanAppliance) Host() string {
	if a.App == nil {
		return ""
	}
	return a.App.Host()
}

// Session reads the session report, or returns the sample.
func (a *PlanAppliance) Session(ctx context.Context, lsid string) (*beyondtrust.Session, error) {
	if a.Sample != nil {
		s := *a.Sample
		return &s, nil
	}
	if a.App == nil {
		return nil, Permanent(fmt.Errorf("the configuration has no appliance to read session %s from", lsid))
	}
	return a.App.Session(ctx, lsid)
}

// SetSessionAttributes records the command, with the form fields it
// would post, instead of sending it.
func (a *PlanAppliance) SetSessionAttributes(_ context.Context, lsid string, externalKey *string, custom map[string]string) error {
	form := map[string]string{"action": "set_session_attributes", "lsid": lsid}
	if externalKey != nil {
		form["session.custom.external_key"] = *externalKey
	}
	for code, v := range custom {
		form["session.custom."+code] = v
	}
	b, _ := json.Marshal(form)
	a.Plan.add(PlannedWrite{System: "beyondtrust", Method: "POST", Path: "/api/command", Body: b})
	return nil
}

// planLinks reads a configuration's links and sets none: a dry run must
// not tell a later delivery that a ticket exists.
type planLinks struct{ Links }

func (l planLinks) SetLink(context.Context, int64, string, string, string) error { return nil }

// DryRun runs handle (a plugin's Handle) on job as a dry run and returns
// what it planned, with handle's error (nil, a Skip saying why nothing
// would be written, or the failure the delivery would meet). job gets the
// plan, an in-memory checkpoint, read-only links and no lease; its
// appliance is wrapped in a PlanAppliance (sample, when not nil, stands
// in for every session); and every outbound client under the context
// handle gets plans its writes instead of sending them.
func DryRun(ctx context.Context, job *Job, sample *beyondtrust.Session, handle func(context.Context, *Job) error) (*Plan, error) {
	plan := &Plan{}
	job.Plan = plan
	job.Client = &PlanAppliance{App: job.Client, Sample: sample, Plan: plan}
	job.Checkpoint = NewCheckpoint(nil, nil)
	job.Lease = nil
	if job.Links != nil {
		job.Links = planLinks{job.Links}
	}
	return plan, handle(outbound.WithPlanner(ctx, plan), job)
}
