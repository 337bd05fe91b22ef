package autotask

import (
	"context"
	"errors"
	"testing"

	"switchboard/engine/outbound"
	"switchboard/plugins/autotask/autotasktest"
)

// TestHourlyBudgetPerDatabase: Autotask allows a database 10,000 requests an
// hour, all its API users together. Two users whose zone lookup names the
// same database (ci) share one allowance; past it nothing is sent and the
// delivery is told to retry later, instead of suspending the tenant.
func TestHourlyBudgetPerDatabase(t *testing.T) {
	t.Parallel()
	// The simulator knows one user; a second one stands for another API
	// user of the same database (its lookup answers the same ci).
	sim := autotasktest.New(autotasktest.Options{})
	t.Cleanup(sim.Close)
	other := autotasktest.New(autotasktest.Options{Username: "second-user@example.com"})
	t.Cleanup(other.Close)
	gov := outbound.NewGovernor()
	client := func(sim *autotasktest.Server, user string) *Client {
		o := simOptions(sim)
		o.Username, o.Governor, o.HourlyRequests = user, gov, 2
		c, err := NewClient(o)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ctx := context.Background()
	a, b := client(sim, autotasktest.DefaultUsername), client(other, "second-user@example.com")
	var v struct{}
	for i := range 2 {
		if err := a.Get(ctx, "Tickets", 1, &v); !errors.Is(err, ErrNotFound) {
			t.Fatalf("request %d within the allowance: %v", i+1, err)
		}
	}
	sent := sim.Stats("Tickets").Requests
	for name, c := range map[string]*Client{"same user": a, "other user, same database": b} {
		err := c.Get(ctx, "Tickets", 1, &v)
		var oe *outbound.Error
		if !errors.As(err, &oe) || oe.Verdict.Class != outbound.RetryLater {
			t.Fatalf("%s past the allowance: %v, want retry later", name, err)
		}
	}
	if got := sim.Stats("Tickets").Requests + other.Stats("Tickets").Requests; got != sent {
		t.Fatalf("%d requests reached Autotask past the allowance", got-sent)
	}
}
