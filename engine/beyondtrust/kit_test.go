package beyondtrust_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/outbound"
)

// planner records what a dry run would have written.
type planner struct {
	mu     sync.Mutex
	writes []outbound.PlannedRequest
}

func (p *planner) PlanWrite(w outbound.PlannedRequest) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.writes = append(p.writes, w)
}

// TestDryRunSendsNoApplianceWrite: the appliance client is built on the
// connector kit, so under a dry run's context (outbound.WithPlanner) it
// still reads (the token, the session report) but hands
// set_session_attributes to the plan instead of sending it, even when a
// plugin calls the client directly rather than through job.Client.
func TestDryRunSendsNoApplianceWrite(t *testing.T) {
	t.Parallel()
	a := newAppliance(t, bttest.WithRefuseWrites(func(op string) { t.Errorf("a dry run sent %s to the appliance", op) }))
	lsid := a.Begin(bttest.SessionSpec{Rep: bttest.Rep{ID: "14", Username: "amorgan", DisplayName: "Alex Morgan"}}).LSID()
	opts := a.Options()
	c := beyondtrust.NewClient(opts, nil)
	p := &planner{}
	ctx := outbound.WithPlanner(context.Background(), p)

	if _, err := c.Session(ctx, lsid); err != nil {
		t.Fatalf("a dry run must still read the session: %v", err)
	}
	key := "T20260302.0042"
	err := c.SetSessionAttributes(ctx, lsid, &key, nil)
	if !errors.Is(err, outbound.ErrNotSent) {
		t.Fatalf("error %v, want one wrapping outbound.ErrNotSent", err)
	}
	var be *beyondtrust.Error
	if !errors.As(err, &be) || !be.PermanentError() || !strings.HasPrefix(err.Error(), "beyondtrust: ") {
		t.Errorf("error %q (%T): want a permanent *beyondtrust.Error", err, err)
	}
	if len(p.writes) != 1 {
		t.Fatalf("planned %d writes, want 1: %+v", len(p.writes), p.writes)
	}
	w := p.writes[0]
	body := string(w.Body)
	if w.System != "beyondtrust" || w.Path != bttest.PathCommand || !strings.Contains(body, "action=set_session_attributes") || !strings.Contains(body, key) {
		t.Errorf("planned %+v (body %s)", w, body)
	}
	if strings.Contains(body, opts.ClientSecret) {
		t.Errorf("the plan holds the client secret: %s", body)
	}
	if s, _ := a.Session(lsid); s.ExternalKey == key {
		t.Error("the external key was set")
	}
}
