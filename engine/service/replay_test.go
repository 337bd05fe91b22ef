package service

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/store"
)

// replayRig stores one session-end event delivered to two configurations,
// the first delivery finished done and the second in state last, then
// disables the second configuration.
func replayRig(t *testing.T, last string) (svc *Service, st *store.Store, eventID int64, enabled, disabled store.Delivery) {
	t.Helper()
	svc, st = newService(t, nil)
	ctx := context.Background()
	var ids []int64
	for _, name := range []string{"Alpha", "Beta"} {
		app := validApp()
		app["name"] = name
		cfg, err := svc.CreateConfig(ctx, "admin", input(app, map[string]any{"username": "u"}))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, cfg.ID)
	}
	configs, err := svc.LoadAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	routes, reason := Route(configs, "Default", engine.EventSessionEnd, engine.SourceOutbound)
	if len(routes) != 2 {
		t.Fatalf("routes %v: %s", routes, reason)
	}
	res, err := st.InsertEvents(ctx, []*store.NewEvent{{Event: store.Event{DedupeKey: "k", ApplianceID: "Default",
		Name: engine.EventSessionEnd, Source: engine.SourceOutbound, LSID: "s1", OccurredAt: 1, Fields: "x=1", Routing: store.Routed},
		Deliveries: routes}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	eventID = res[0].EventID
	claimed, err := st.Claim(ctx, "sec", 10, "w", time.Minute, time.Now().Add(time.Second))
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	for _, d := range claimed {
		state := store.StateDone
		if d.ConfigID == ids[1] {
			state = last
		}
		if err := st.FinishAttempt(ctx, store.Finish{ID: d.ID, Token: d.LeaseToken, State: state, Outcome: state,
			Result: "note added", Started: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.SetDisabled(ctx, "admin", ids[1], true); err != nil {
		t.Fatal(err)
	}
	ds, err := st.ListDeliveries(ctx, store.DeliveryFilter{EventID: eventID})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.ConfigID == ids[0] {
			enabled = d
		} else {
			disabled = d
		}
	}
	return svc, st, eventID, enabled, disabled
}

// Replay runs the event again for the configurations that take it now and
// leaves the finished delivery of a disabled configuration as it was.
func TestReplayLeavesADisabledConfigurationsDeliveryAlone(t *testing.T) {
	t.Parallel()
	svc, st, eventID, enabled, disabled := replayRig(t, store.StateDone)
	ctx := context.Background()
	outcomes, err := svc.ReplayEvent(ctx, "admin", eventID)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := st.GetDelivery(ctx, disabled.ID)
	if after.State != store.StateDone || after.Attempts != disabled.Attempts || after.MaxAttempts != disabled.MaxAttempts ||
		after.UpdatedAt != disabled.UpdatedAt {
		t.Fatalf("the disabled configuration's delivery changed: %+v, was %+v", after, disabled)
	}
	if again, _ := st.GetDelivery(ctx, enabled.ID); again.State != store.StatePending {
		t.Fatalf("the enabled configuration's delivery is %s, want pending", again.State)
	}
	byConfig := map[int64]ReplayOutcome{}
	for _, o := range outcomes {
		byConfig[o.ConfigID] = o
	}
	if o := byConfig[enabled.ConfigID]; o.Action != ReplayRerun || o.DeliveryID != enabled.ID || o.ConfigName != "Alpha" {
		t.Errorf("enabled configuration: %+v", o)
	}
	if o := byConfig[disabled.ConfigID]; o.Action != ReplayNotRun || !strings.Contains(o.Reason, "disabled") {
		t.Errorf("disabled configuration: %+v", o)
	}
	audit, err := st.Audit(ctx, 1)
	if err != nil || len(audit) != 1 || !strings.Contains(audit[0].Summary, "replayed event") {
		t.Fatalf("audit %+v %v", audit, err)
	}
}

// Retry now of a disabled configuration's delivery could only skip it: it
// is refused with the reason, and the delivery is left as it was.
func TestRetryNowRefusedWhereItCanOnlySkip(t *testing.T) {
	t.Parallel()
	svc, st, _, _, disabled := replayRig(t, store.StateFailed)
	ctx := context.Background()
	before, _ := st.GetDelivery(ctx, disabled.ID)
	err := svc.RetryDelivery(ctx, "admin", disabled.ID)
	if !errors.Is(err, store.ErrState) || !strings.Contains(err.Error(), "disabled") {
		t.Fatalf("retry now: %v, want ErrState saying the configuration is disabled", err)
	}
	if after, _ := st.GetDelivery(ctx, disabled.ID); *after != *before {
		t.Fatalf("the refused retry changed the delivery: %+v", after)
	}
}
