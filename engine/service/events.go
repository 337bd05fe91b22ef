package service

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"switchboard/engine"
	"switchboard/engine/store"
)

// Event is a stored event as the API shows it.
type Event struct {
	ID          int64     `json:"id"`
	ApplianceID string    `json:"appliance_id"`
	Name        string    `json:"event"`
	Source      string    `json:"source"`
	LSID        string    `json:"lsid"`
	ExternalKey string    `json:"external_key"`
	Timestamp   time.Time `json:"timestamp"`
	ReceivedAt  time.Time `json:"received_at"`
	// Fields are the posted fields; lists leave them out.
	Fields url.Values `json:"fields,omitempty"`
	// Routing is "routed" or "unrouted"; Reason says why an event went
	// nowhere.
	Routing string `json:"routing"`
	Reason  string `json:"reason,omitempty"`
}

// Delivery is one event handed to one configuration, with its history.
type Delivery struct {
	ID          int64     `json:"id"`
	EventID     int64     `json:"event_id"`
	ConfigID    int64     `json:"config_id"`
	ConfigName  string    `json:"config_name"`
	Plugin      string    `json:"plugin"`
	EventName   string    `json:"event"`
	LSID        string    `json:"lsid"`
	State       string    `json:"state"`
	Attempts    int       `json:"attempts"`
	MaxAttempts int       `json:"max_attempts"`
	NextRun     time.Time `json:"next_run,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	Result      string    `json:"result,omitempty"`
	// Written is what the last attempt wrote, as the plugin recorded it;
	// Reports says whether the plugin records that at all.
	Written    []Written         `json:"written,omitempty"`
	Reports    bool              `json:"reports_written"`
	Checkpoint map[string]string `json:"checkpoint,omitempty"`
	UpdatedAt  time.Time         `json:"updated_at"`
	FinishedAt time.Time         `json:"finished_at,omitzero"`
	History    []Attempt         `json:"history,omitempty"`
}

// Written is one object a delivery wrote (or found written earlier), with
// its kind's label ("Ticket").
type Written struct {
	engine.Record
	Label string `json:"label"`
}

// written decodes a delivery's records and labels them with the plugin's
// kinds; reports is whether the plugin declares that it records them.
func (s *Service) written(pluginID, records string) (out []Written, reports bool) {
	var kinds []engine.RecordKind
	if p, ok := s.reg.Get(pluginID); ok {
		if r, ok := p.(engine.Reporter); ok {
			kinds, reports = r.RecordKinds(), true
		}
	}
	var rs []engine.Record
	if records == "" || json.Unmarshal([]byte(records), &rs) != nil {
		return nil, reports
	}
	for _, r := range rs {
		w := Written{Record: r, Label: r.Kind}
		for _, k := range kinds {
			if k.ID == r.Kind {
				w.Label = k.Label
			}
		}
		out = append(out, w)
	}
	return out, reports
}

// Attempt is one try of a delivery.
type Attempt struct {
	Number    int           `json:"number"`
	StartedAt time.Time     `json:"started_at"`
	Duration  time.Duration `json:"duration_ns"`
	Outcome   string        `json:"outcome"`
	Error     string        `json:"error,omitempty"`
}

// EventFilter narrows Events. Zero fields do not filter.
type EventFilter struct {
	ConfigID int64     `query:"config"`
	State    string    `query:"state"`
	Type     string    `query:"type"`
	Routing  string    `query:"routing"`
	LSID     string    `query:"lsid"`
	Since    time.Time `query:"since"`
	Until    time.Time `query:"until"`
	BeforeID int64     `query:"before"`
	Limit    int       `query:"limit"`
}

// DeliveryFilter narrows Deliveries.
type DeliveryFilter = store.DeliveryFilter

func eventView(e *store.Event) Event {
	return Event{
		ID: e.ID, ApplianceID: e.ApplianceID, Name: e.Name, Source: e.Source, LSID: e.LSID,
		ExternalKey: e.ExternalKey, Timestamp: e.Occurred(), ReceivedAt: e.Received(),
		Fields: e.Values(), Routing: e.Routing, Reason: e.Reason,
	}
}

// Events lists events newest first, without their posted fields: what
// anyone posted to the intake must not decide how large a list is.
func (s *Service) Events(ctx context.Context, f EventFilter) ([]Event, error) {
	rows, err := s.st.ListEvents(ctx, store.EventFilter{
		ConfigID: f.ConfigID, State: f.State, Name: f.Type, Routing: f.Routing, LSID: f.LSID,
		Since: f.Since, Until: f.Until, BeforeID: f.BeforeID, Limit: f.Limit, WithoutFields: true,
	})
	if err != nil {
		return nil, err
	}
	out := make([]Event, 0, len(rows))
	for i := range rows {
		out = append(out, eventView(&rows[i]))
	}
	return out, nil
}

// Event returns one event with its deliveries and their histories.
func (s *Service) Event(ctx context.Context, id int64) (Event, []Delivery, error) {
	e, err := s.st.GetEvent(ctx, id)
	if err != nil {
		return Event{}, nil, err
	}
	ds, err := s.Deliveries(ctx, DeliveryFilter{EventID: id, Limit: 1000})
	if err != nil {
		return Event{}, nil, err
	}
	for i := range ds {
		if ds[i].History, err = s.history(ctx, ds[i].ID); err != nil {
			return Event{}, nil, err
		}
	}
	return eventView(e), ds, nil
}

// Deliveries lists deliveries newest first, without histories.
func (s *Service) Deliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error) {
	rows, err := s.st.ListDeliveries(ctx, f)
	if err != nil {
		return nil, err
	}
	return s.deliveryViews(ctx, rows)
}

// DeliveriesByEvent returns the deliveries of the events, without
// histories, by event id: what the events list shows beside each event.
func (s *Service) DeliveriesByEvent(ctx context.Context, eventIDs []int64) (map[int64][]Delivery, error) {
	out := map[int64][]Delivery{}
	if len(eventIDs) == 0 {
		return out, nil
	}
	ds, err := s.Deliveries(ctx, DeliveryFilter{EventIDs: eventIDs, Limit: 1000})
	if err != nil {
		return nil, err
	}
	for i := len(ds) - 1; i >= 0; i-- {
		out[ds[i].EventID] = append(out[ds[i].EventID], ds[i])
	}
	return out, nil
}

// Delivery returns one delivery with its history.
func (s *Service) Delivery(ctx context.Context, id int64) (Delivery, error) {
	row, err := s.st.GetDelivery(ctx, id)
	if err != nil {
		return Delivery{}, err
	}
	ds, err := s.deliveryViews(ctx, []store.Delivery{*row})
	if err != nil {
		return Delivery{}, err
	}
	d := ds[0]
	d.History, err = s.history(ctx, id)
	return d, err
}

func (s *Service) deliveryViews(ctx context.Context, rows []store.Delivery) ([]Delivery, error) {
	ids := make([]int64, 0, len(rows))
	for i := range rows {
		ids = append(ids, rows[i].EventID)
	}
	events, err := s.st.EventsByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	out := make([]Delivery, 0, len(rows))
	for i := range rows {
		r := &rows[i]
		name, ok := names[r.ConfigID]
		if !ok {
			if l, err := s.Load(ctx, r.ConfigID); err == nil {
				name = l.Name
			}
			names[r.ConfigID] = name
		}
		d := Delivery{
			ID: r.ID, EventID: r.EventID, ConfigID: r.ConfigID, ConfigName: name, Plugin: r.Plugin,
			LSID: r.LSID, State: r.State, Attempts: r.Attempts, MaxAttempts: r.MaxAttempts,
			LastError: r.LastError, Result: r.Result, Checkpoint: r.CheckpointValues(),
			UpdatedAt: r.Updated(), FinishedAt: r.Finished(),
		}
		d.Written, d.Reports = s.written(r.Plugin, r.Records)
		if r.State == store.StatePending || r.State == store.StateRetrying {
			d.NextRun = r.NextRun()
		}
		if e := events[r.EventID]; e != nil {
			d.EventName = e.Name
		}
		out = append(out, d)
	}
	return out, nil
}

func (s *Service) history(ctx context.Context, deliveryID int64) ([]Attempt, error) {
	rows, err := s.st.Attempts(ctx, deliveryID)
	if err != nil {
		return nil, err
	}
	out := make([]Attempt, 0, len(rows))
	for i := range rows {
		a := &rows[i]
		out = append(out, Attempt{Number: a.Number, StartedAt: a.Started(), Duration: time.Duration(a.DurationMS) * time.Millisecond, Outcome: a.Outcome, Error: a.Error})
	}
	return out, nil
}

// RetryDelivery makes a failed (or skipped, or waiting) delivery run now.
// It is refused (store.ErrState, with the reason) where the retry could
// only end skipped: the configuration is disabled.
func (s *Service) RetryDelivery(ctx context.Context, actor string, id int64) error {
	d, err := s.st.GetDelivery(ctx, id)
	if err != nil {
		return err
	}
	cfg, err := s.Load(ctx, d.ConfigID)
	if err != nil {
		return err
	}
	if cfg.Appliance.Disabled {
		return fmt.Errorf("delivery %d: configuration %q is disabled, so a retry could only skip it; enable the configuration first: %w",
			id, cfg.Name, store.ErrState)
	}
	audit := store.AuditEntry{Actor: actor, Action: "retry", ConfigID: d.ConfigID, Summary: fmt.Sprintf("retried delivery %d of event %d", id, d.EventID)}
	if err := s.st.RetryNow(ctx, id, audit); err != nil {
		return err
	}
	s.log.Info("delivery retried by admin", "delivery", id, "actor", actor)
	s.wake()
	return nil
}

// FailedCounts returns how many deliveries have failed, by configuration.
func (s *Service) FailedCounts(ctx context.Context) (map[int64]int, error) {
	return s.st.FailedCounts(ctx)
}

// RetryFailed makes every failed delivery of a configuration run now and
// returns how many; one audit entry says how many. It is refused
// (store.ErrState) for a disabled configuration, whose retries could only
// skip.
func (s *Service) RetryFailed(ctx context.Context, actor string, configID int64) (int, error) {
	cfg, err := s.Load(ctx, configID)
	if err != nil {
		return 0, err
	}
	if cfg.Appliance.Disabled {
		return 0, fmt.Errorf("configuration %q is disabled, so a retry could only skip its deliveries; enable it first: %w", cfg.Name, store.ErrState)
	}
	audit := store.AuditEntry{Actor: actor, Action: "retry_failed", ConfigID: configID, Summary: "retried all %d failed deliveries"}
	n, err := s.st.RetryFailed(ctx, configID, audit)
	if err != nil {
		return 0, err
	}
	s.log.Info("failed deliveries retried by admin", "config", configID, "deliveries", n, "actor", actor)
	if n > 0 {
		s.wake()
	}
	return n, nil
}

// Replay actions, per configuration, as ReplayOutcome.Action says them.
const (
	ReplayRerun   = store.ReplayRerun   // its delivery runs again
	ReplayAdded   = store.ReplayAdded   // it had no delivery of the event; it has one now
	ReplayRunning = store.ReplayRunning // its delivery is running now and was left to finish
	ReplayNotRun  = "not_run"           // it does not take the event now; its delivery was left as it was
)

// ReplayOutcome is what a replay did for one configuration.
type ReplayOutcome struct {
	ConfigID   int64  `json:"config_id"`
	ConfigName string `json:"config_name"`
	DeliveryID int64  `json:"delivery_id,omitempty"`
	Action     string `json:"action"`
	Reason     string `json:"reason,omitempty"`
}

// ReplayEvent hands an event again to every enabled configuration that
// takes it now: existing deliveries run again (keeping their checkpoints,
// so nothing already written is written twice) and configurations added
// since get new ones. Deliveries of configurations that do not take the
// event now (disabled, unsubscribed) are left as they were. It says per
// configuration what it did.
func (s *Service) ReplayEvent(ctx context.Context, actor string, id int64) ([]ReplayOutcome, error) {
	e, err := s.st.GetEvent(ctx, id)
	if err != nil {
		return nil, err
	}
	configs, err := s.LoadAll(ctx)
	if err != nil {
		return nil, err
	}
	existing, err := s.st.ListDeliveries(ctx, store.DeliveryFilter{EventID: id, Limit: 1000})
	if err != nil {
		return nil, err
	}
	routes, _ := Route(configs, e.ApplianceID, e.Name, e.Source)
	audit := store.AuditEntry{Actor: actor, Action: "replay", Summary: fmt.Sprintf("replayed event %d (%s %s)", id, e.Name, e.LSID)}
	done, err := s.st.Replay(ctx, id, e.LSID, routes, audit)
	if err != nil {
		return nil, err
	}
	byID := map[int64]*Loaded{}
	for _, c := range configs {
		byID[c.ID] = c
	}
	out := make([]ReplayOutcome, 0, len(done)+len(existing))
	ran := map[int64]bool{}
	for _, r := range done {
		ran[r.ConfigID] = true
		out = append(out, ReplayOutcome{ConfigID: r.ConfigID, ConfigName: byID[r.ConfigID].Name, DeliveryID: r.DeliveryID, Action: r.Action})
	}
	for i := range existing {
		d := &existing[i]
		if ran[d.ConfigID] {
			continue
		}
		o := ReplayOutcome{ConfigID: d.ConfigID, DeliveryID: d.ID, Action: ReplayNotRun,
			Reason: "the configuration does not take this event now; its delivery was left " + d.State}
		if c := byID[d.ConfigID]; c != nil {
			o.ConfigName = c.Name
			if c.Appliance.Disabled {
				o.Reason = "the configuration is disabled; its delivery was left " + d.State
			}
		}
		out = append(out, o)
	}
	s.log.Info("event replayed by admin", "event", id, "actor", actor, "configurations", len(done))
	s.wake()
	return out, nil
}

// Route picks the configurations an event goes to: enabled, same appliance
// id, subscribed to the event from that source. When there are none it
// says why, for the event log's "unrouted" reason.
func Route(configs []*Loaded, applianceID, event, source string) ([]store.NewDelivery, string) {
	var out []store.NewDelivery
	sameAppliance, handles := 0, 0
	for _, c := range configs {
		if c.Appliance.ApplianceID != applianceID {
			continue
		}
		sameAppliance++
		if !c.Plugin.Info().Handles(event) {
			continue
		}
		handles++
		if c.Appliance.Disabled || !c.Appliance.Subscribes(event, source) {
			continue
		}
		out = append(out, store.NewDelivery{ConfigID: c.ID, Plugin: c.Plugin.Info().ID, MaxAttempts: c.Appliance.MaxAttempts(event, source)})
	}
	switch {
	case len(out) > 0:
		return out, ""
	case len(configs) == 0:
		return nil, "no configurations exist yet"
	case sameAppliance == 0:
		return nil, fmt.Sprintf("no configuration has Appliance Id %q", applianceID)
	case handles == 0:
		return nil, fmt.Sprintf("%q is not an event type any plugin configured for this appliance handles", event)
	case source == engine.SourcePoll:
		return nil, "no enabled configuration for this appliance polls for this event type"
	}
	return nil, "no enabled configuration for this appliance subscribes to this event type (Outbound Event Types)"
}

// PollState is the polling status of a configuration.
type PollState struct {
	ConfigID      int64     `json:"config_id"`
	Cursor        time.Time `json:"cursor,omitzero"`
	LastPollAt    time.Time `json:"last_poll_at,omitzero"`
	LastSuccessAt time.Time `json:"last_success_at,omitzero"`
	LastError     string    `json:"last_error,omitempty"`
}

// PollStates returns the polling state of every configuration polled so far.
func (s *Service) PollStates(ctx context.Context) ([]PollState, error) {
	rows, err := s.st.ListPollCursors(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]PollState, 0, len(rows))
	for i := range rows {
		out = append(out, pollState(&rows[i]))
	}
	return out, nil
}

// ConfigStatus is what the home page shows next to a configuration.
type ConfigStatus struct {
	LastDelivery *Delivery  `json:"last_delivery,omitempty"`
	Poll         *PollState `json:"poll,omitempty"`
}

// ConfigStatus returns the last delivery and polling state of a configuration.
func (s *Service) ConfigStatus(ctx context.Context, id int64) (ConfigStatus, error) {
	var st ConfigStatus
	d, err := s.st.LastDelivery(ctx, id)
	if err != nil {
		return st, err
	}
	if d != nil {
		ds, err := s.deliveryViews(ctx, []store.Delivery{*d})
		if err != nil {
			return st, err
		}
		st.LastDelivery = &ds[0]
	}
	pc, err := s.st.GetPollCursor(ctx, id)
	if err != nil {
		return st, err
	}
	if pc != nil {
		ps := pollState(pc)
		st.Poll = &ps
	}
	return st, nil
}

func pollState(r *store.PollCursor) PollState {
	return PollState{ConfigID: r.ConfigID, Cursor: r.Cursor(), LastPollAt: r.LastPoll(), LastSuccessAt: r.LastSuccess(), LastError: r.LastError}
}
