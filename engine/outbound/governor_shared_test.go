package outbound

import (
	"context"
	"errors"
	"testing"
	"time"
)

// downLedger is a database that does not answer.
type downLedger struct{ Ledger }

var errDown = errors.New("connection refused")

func (downLedger) TakeBudgetSlot(context.Context, string, int, string, string, time.Time, time.Duration) (int, bool, error) {
	return 0, false, errDown
}

func (downLedger) ReleaseBudgetSlot(context.Context, string, int, string, time.Time) error {
	return errDown
}

func (downLedger) StartInBudgetWindow(context.Context, string, int, time.Duration, time.Time) (time.Duration, bool, error) {
	return 0, false, errDown
}

func (downLedger) BudgetUse(context.Context, []string, time.Time) (map[string]int, map[string]int, error) {
	return nil, nil, errDown
}

// When the database keeping the budgets does not answer, no request is
// sent: the attempt fails as Retry, naming the budget, and the metrics
// report nothing rather than a guess.
func TestSharedBudgetDatabaseDown(t *testing.T) {
	t.Parallel()
	g := NewGovernor()
	defer g.Share(Shared{Ledger: downLedger{}, Holder: "e"})()
	for _, b := range []Budget{{Key: "slots", Limit: 3}, {Key: "hour", PerWindow: 10, Window: time.Hour}} {
		_, err := g.Acquire(context.Background(), b)
		var e *Error
		if !errors.As(err, &e) || e.Verdict.Class != Retry || !errors.Is(err, errDown) || e.Op != "budget "+b.Key {
			t.Errorf("%s: %v, want a Retry error naming the budget", b.Key, err)
		}
	}
	if st := g.States(); len(st) != 0 {
		t.Errorf("states %+v while the database is down, want none", st)
	}
}
