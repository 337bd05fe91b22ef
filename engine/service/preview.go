package service

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"switchboard/engine"
	"switchboard/engine/beyondtrust"
	"switchboard/engine/render"
	"switchboard/engine/store"
)

// PreviewTimeout bounds a delivery preview: the admin waits for it, and it
// reads from the appliance and the remote system as a delivery does. It
// ends before the admin listener's one-minute write timeout, so a slow
// remote gives a "failed" preview, not a dropped connection.
const PreviewTimeout = 45 * time.Second

// maxPreviewText bounds the sample's external key and each custom value,
// as the appliance does (1,024 characters per attribute).
const maxPreviewText = 1024

// PreviewRequest asks what a delivery of Event for a session would write.
// LSID names a real session, read from the appliance; without it the
// built-in sample session is used, with ExternalKey and Custom (custom
// field code name → value), when given, in place of the sample's own.
type PreviewRequest struct {
	Event       string            `json:"event"`
	LSID        string            `json:"lsid,omitempty"`
	ExternalKey *string           `json:"external_key,omitempty"`
	Custom      map[string]string `json:"custom,omitempty"`
}

// Preview outcomes.
const (
	PreviewWrites  = "writes"  // the delivery would write what Writes lists
	PreviewNothing = "nothing" // it would end without writing (all there already)
	PreviewSkipped = "skipped" // it would be skipped, for Reason
	PreviewFailed  = "failed"  // it would fail (or be retried), for Reason
)

// DeliveryPreview is what a delivery would do, found by a dry run that
// read what it needed and wrote nothing.
type DeliveryPreview struct {
	ConfigID   int64  `json:"config_id"`
	Config     string `json:"config"`
	Plugin     string `json:"plugin"`
	Event      string `json:"event"`
	EventLabel string `json:"event_label"`
	LSID       string `json:"lsid"`
	Sample     bool   `json:"sample"`
	// Outcome is one of writes, nothing, skipped, failed.
	Outcome string `json:"outcome"`
	// Reason says why a delivery would be skipped or fail, in plain words.
	Reason string `json:"reason,omitempty"`
	// Detail is the failure's full error chain.
	Detail string `json:"detail,omitempty"`
	// Steps explain the decisions: which ticket, which contact and why.
	Steps []engine.PlanStep `json:"steps"`
	// Writes are what the delivery would send, in order, with their bodies.
	Writes []engine.PlannedWrite `json:"writes"`
	// Records are what it would use or find already written (Existing),
	// and what it would write (no ID yet).
	Records  []engine.Record `json:"records"`
	Duration time.Duration   `json:"duration_ns"`
}

// ErrPreviewRefused is the cause of a preview request that cannot run.
type ErrPreviewRefused struct{ Reason string }

func (e *ErrPreviewRefused) Error() string { return "preview refused: " + e.Reason }

// PreviewEvents lists the events a preview of configuration id can plan:
// those its plugin can dry-run, in the plugin's order.
func (s *Service) PreviewEvents(ctx context.Context, id int64) ([]string, error) {
	l, err := s.Load(ctx, id)
	if err != nil {
		return nil, err
	}
	if pv, ok := l.Plugin.(engine.Previewer); ok {
		return pv.PreviewEvents(), nil
	}
	return nil, nil
}

// PreviewDelivery runs a delivery of req.Event for configuration id as a
// dry run (engine.DryRun): the session is read from the appliance (or is
// the sample), the remote system is read as the delivery would, and
// nothing is written anywhere: not to the remote system, not to the
// appliance, not to Switchboard's links or deliveries. It is audited with
// the hosts it contacted.
func (s *Service) PreviewDelivery(ctx context.Context, actor string, id int64, req PreviewRequest) (*DeliveryPreview, error) {
	l, err := s.Load(ctx, id)
	if err != nil {
		return nil, err
	}
	pv, ok := l.Plugin.(engine.Previewer)
	if !ok {
		return nil, &ErrPreviewRefused{Reason: fmt.Sprintf("the %s plugin cannot preview its deliveries", l.Plugin.Info().Name)}
	}
	if !slices.Contains(pv.PreviewEvents(), req.Event) {
		return nil, &ErrPreviewRefused{Reason: fmt.Sprintf("%q is not an event this plugin can preview; use one of: %s", req.Event, strings.Join(pv.PreviewEvents(), ", "))}
	}
	sample, err := previewSample(req)
	if err != nil {
		return nil, err
	}
	lsid := req.LSID
	if sample != nil {
		lsid = sample.LSID
	}
	job := &engine.Job{
		Attempt: 1, MaxAttempts: 1,
		Event: engine.Event{
			ApplianceID: l.Appliance.ApplianceID, Name: req.Event, Source: engine.SourceOutbound, LSID: lsid,
			Timestamp: time.Now().UTC(), ReceivedAt: time.Now().UTC(), Fields: previewFields(req.Event),
		},
		ConfigID: l.ID, ConfigName: l.Name, Appliance: l.Appliance, Settings: l.Settings,
		Client: l.Client, Templates: l.Templates, Links: s.st,
		Log: s.log.With("preview", true, "config", id, "event", req.Event, "lsid", lsid),
	}
	ctx, cancel := context.WithTimeout(ctx, PreviewTimeout)
	defer cancel()
	trace := &contacts{}
	start := time.Now()
	plan, herr := engine.DryRun(trace.watch(ctx), job, sample, l.Plugin.Handle)
	out := &DeliveryPreview{
		ConfigID: l.ID, Config: l.Name, Plugin: l.Plugin.Info().ID, Event: req.Event, EventLabel: engine.EventLabel(req.Event),
		LSID: lsid, Sample: sample != nil, Steps: plan.Steps(), Writes: plan.Writes(), Records: job.Records(),
		Duration: time.Since(start),
	}
	outcome(out, herr)
	contacted := trace.hosts()
	s.log.Info("delivery previewed", "config", id, "event", req.Event, "lsid", lsid, "outcome", out.Outcome, "writes", len(out.Writes), "contacted", contacted, "actor", actor)
	summary := fmt.Sprintf("previewed a delivery of %s for configuration %s (session %s; %s); nothing written; contacted: %s", engine.EventLabel(req.Event), l.Name, sessionName(out), out.Outcome, orNone(contacted))
	if err := s.st.AddAudit(ctx, store.AuditEntry{Actor: actor, Action: "preview", ConfigID: id, Summary: summary}); err != nil {
		s.log.Error("record a delivery preview in the audit log", "config", id, "err", err)
	}
	return out, nil
}

func sessionName(p *DeliveryPreview) string {
	if p.Sample {
		return "the sample"
	}
	return p.LSID
}

// outcome reads the dry run's end into the preview.
func outcome(p *DeliveryPreview, err error) {
	if p.Writes == nil {
		p.Writes = []engine.PlannedWrite{}
	}
	if p.Steps == nil {
		p.Steps = []engine.PlanStep{}
	}
	if p.Records == nil {
		p.Records = []engine.Record{}
	}
	switch out, _ := engine.Classify(err); {
	case err == nil && len(p.Writes) > 0:
		p.Outcome = PreviewWrites
	case err == nil:
		p.Outcome = PreviewNothing
	case out == engine.OutcomeSkipped:
		p.Outcome, p.Reason = PreviewSkipped, err.Error()
	default:
		p.Outcome, p.Reason, p.Detail = PreviewFailed, beyondtrust.Explain(err), err.Error()
		if p.Reason == p.Detail {
			p.Detail = ""
		}
	}
}

// previewSample is the sample session with the request's external key and
// custom fields, or nil when the request names a real session.
func previewSample(req PreviewRequest) (*beyondtrust.Session, error) {
	if req.LSID != "" {
		if len(req.LSID) > 64 || strings.TrimLeft(req.LSID, "abcdefABCDEF0123456789-_.:") != "" {
			return nil, &ErrPreviewRefused{Reason: "the session id (lsid) must be up to 64 letters, digits, '_', '.', '-' or ':', as in the appliance's session reports"}
		}
		if req.ExternalKey != nil || len(req.Custom) > 0 {
			return nil, &ErrPreviewRefused{Reason: "an external key or custom fields can be given for the sample session only; a real session's come from the appliance"}
		}
		return nil, nil
	}
	s := render.SampleSession()
	if req.ExternalKey != nil {
		if len([]rune(*req.ExternalKey)) > maxPreviewText {
			return nil, &ErrPreviewRefused{Reason: fmt.Sprintf("the external key is longer than the appliance's %d characters", maxPreviewText)}
		}
		s.ExternalKey = *req.ExternalKey
	}
	for _, code := range engine.SortedKeys(req.Custom) {
		v := req.Custom[code]
		if code == "" || strings.TrimLeft(code, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != "" {
			return nil, &ErrPreviewRefused{Reason: fmt.Sprintf("the custom field code name %q may contain only letters, digits and _", code)}
		}
		if len([]rune(v)) > maxPreviewText {
			return nil, &ErrPreviewRefused{Reason: fmt.Sprintf("the value of custom field %s is longer than the appliance's %d characters", code, maxPreviewText)}
		}
		i := slices.IndexFunc(s.CustomAttributes, func(a beyondtrust.CustomAttribute) bool { return a.CodeName == code })
		if i < 0 {
			s.CustomAttributes = append(s.CustomAttributes, beyondtrust.CustomAttribute{CodeName: code, DisplayName: code, Value: v})
		} else {
			s.CustomAttributes[i].Value = v
		}
	}
	return s, nil
}

// previewFields are the posted fields of the previewed event: a
// representative joining, for the member event.
func previewFields(event string) url.Values {
	if event == engine.EventMemberAdded {
		return url.Values{"type": {beyondtrust.ActorRepresentative}}
	}
	return url.Values{}
}
