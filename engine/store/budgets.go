package store

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// The remote budgets of engine/outbound, kept where every engine of a
// cluster counts them (the budget_slots and budget_windows tables). Each
// call is one statement, sent outside a transaction on PostgreSQL so it
// costs one round trip; the times are the engines' clocks, as for every
// other lease of the store.

// stmt runs fn on PostgreSQL as one autocommitted statement, on SQLite in
// the writer's transaction.
func (s *Store) stmt(ctx context.Context, fn func(db *gorm.DB) error) error {
	if s.pg {
		return fn(s.w.WithContext(ctx))
	}
	return s.writeTx(ctx, fn)
}

// takeSlot takes one free slot of a budget: a slot number below the limit
// with no row, or whose row's lease has expired. Two engines choosing the
// same slot meet on its primary key; PostgreSQL re-checks the losing
// upsert's WHERE against the winner's row, which leaves it with no row
// returned, never with two holders.
const takeSlot = `WITH RECURSIVE n(slot) AS (SELECT 0 UNION ALL SELECT slot + 1 FROM n WHERE slot + 1 < ?)
	INSERT INTO budget_slots (budget, slot, holder, lease, lease_until)
	SELECT CAST(? AS TEXT), n.slot, CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT) FROM n
	WHERE NOT EXISTS (SELECT 1 FROM budget_slots b WHERE b.budget = ? AND b.slot = n.slot AND b.lease_until > ?)
	ORDER BY random() LIMIT 1
	ON CONFLICT (budget, slot) DO UPDATE SET holder = excluded.holder, lease = excluded.lease, lease_until = excluded.lease_until
	WHERE budget_slots.lease_until <= ?
	RETURNING slot`

// TakeBudgetSlot takes, for holder (an engine) and lease (one request), a
// slot of budget, which allows limit at once, until now+ttl. It returns
// false when every slot is held by an unexpired lease, or another engine
// took the one chosen at the same moment: the caller waits and asks again.
func (s *Store) TakeBudgetSlot(ctx context.Context, budget string, limit int, holder, lease string, now time.Time, ttl time.Duration) (int, bool, error) {
	if limit <= 0 {
		return 0, false, nil
	}
	var got []int
	err := s.stmt(ctx, func(db *gorm.DB) error {
		return db.Raw(takeSlot, limit, budget, holder, lease, ms(now.Add(ttl)), budget, ms(now), ms(now)).Scan(&got).Error
	})
	if err != nil {
		return 0, false, classify("take a slot of budget "+budget, err)
	}
	if len(got) == 0 {
		return 0, false, nil
	}
	return got[0], true, nil
}

// RenewBudgetSlots extends the slots holder still holds under leases to
// until, never shortening one taken for longer (a request the remote may
// work on beyond the lease); its rows under other leases (takes whose
// answers were lost) are left to expire.
func (s *Store) RenewBudgetSlots(ctx context.Context, holder string, leases []string, until time.Time) error {
	if len(leases) == 0 {
		return nil
	}
	err := s.stmt(ctx, func(db *gorm.DB) error {
		return db.Exec(`UPDATE budget_slots SET lease_until = CASE WHEN lease_until > ? THEN lease_until ELSE ? END
			WHERE holder = ? AND lease IN ?`, ms(until), ms(until), holder, leases).Error
	})
	if err != nil {
		return classify("renew budget slots", err)
	}
	return nil
}

// ReleaseBudgetSlot gives back the slot that lease took. A zero until
// frees it now; a later one keeps it counted, renewed by nobody, until
// then (a timed-out request the remote may still be working on). A slot
// whose lease expired and was taken by another request is left alone.
// A negative slot frees whichever slot lease took, if any: a take whose
// answer was lost.
func (s *Store) ReleaseBudgetSlot(ctx context.Context, budget string, slot int, lease string, until time.Time) error {
	err := s.stmt(ctx, func(db *gorm.DB) error {
		if slot < 0 {
			return db.Exec(`DELETE FROM budget_slots WHERE budget = ? AND lease = ?`, budget, lease).Error
		}
		if until.IsZero() {
			return db.Exec(`DELETE FROM budget_slots WHERE budget = ? AND slot = ? AND lease = ?`, budget, slot, lease).Error
		}
		return db.Exec(`UPDATE budget_slots SET holder = '', lease_until = ? WHERE budget = ? AND slot = ? AND lease = ?`,
			ms(until), budget, slot, lease).Error
	})
	if err != nil {
		return classify("give back a slot of budget "+budget, err)
	}
	return nil
}

// startInWindow counts one request against a budget's window, starting a
// new window when the last one has ended, unless the current window's
// allowance is spent (no row returned then).
const startInWindow = `INSERT INTO budget_windows (budget, window_until, used) VALUES (?, ?, 1)
	ON CONFLICT (budget) DO UPDATE SET
		used = CASE WHEN budget_windows.window_until <= ? THEN 1 ELSE budget_windows.used + 1 END,
		window_until = CASE WHEN budget_windows.window_until <= ? THEN excluded.window_until ELSE budget_windows.window_until END
	WHERE budget_windows.window_until <= ? OR budget_windows.used < ?
	RETURNING used`

// StartInBudgetWindow counts one request against budget, which allows
// perWindow requests in each window, at now. When the window's allowance
// is spent it returns false and how long until the window ends.
func (s *Store) StartInBudgetWindow(ctx context.Context, budget string, perWindow int, window time.Duration, now time.Time) (time.Duration, bool, error) {
	var used []int
	n := ms(now)
	err := s.stmt(ctx, func(db *gorm.DB) error {
		return db.Raw(startInWindow, budget, ms(now.Add(window)), n, n, n, perWindow).Scan(&used).Error
	})
	if err != nil {
		return 0, false, classify("count a request of budget "+budget, err)
	}
	if len(used) == 1 {
		return 0, true, nil
	}
	var until []int64
	if err := s.r.WithContext(ctx).Raw(`SELECT window_until FROM budget_windows WHERE budget = ?`, budget).Scan(&until).Error; err != nil {
		return 0, false, classify("read the window of budget "+budget, err)
	}
	if len(until) == 0 {
		return 0, false, nil
	}
	return time.Duration(until[0]-n) * time.Millisecond, false, nil
}

// BudgetUse reads, for the metrics, what budgets have spent at now: the
// slots held by an unexpired lease (taken) and the requests started in the
// current window (used). A budget missing from taken has no slot held;
// from used, no window running.
func (s *Store) BudgetUse(ctx context.Context, budgets []string, now time.Time) (taken, used map[string]int, err error) {
	taken, used = map[string]int{}, map[string]int{}
	if len(budgets) == 0 {
		return taken, used, nil
	}
	var rows []struct {
		Budget string
		N      int
	}
	db := s.r.WithContext(ctx)
	if err := db.Raw(`SELECT budget, COUNT(*) AS n FROM budget_slots WHERE budget IN ? AND lease_until > ? GROUP BY budget`,
		budgets, ms(now)).Scan(&rows).Error; err != nil {
		return nil, nil, classify("read budget slots", err)
	}
	for _, r := range rows {
		taken[r.Budget] = r.N
	}
	rows = rows[:0]
	if err := db.Raw(`SELECT budget, used AS n FROM budget_windows WHERE budget IN ? AND window_until > ?`,
		budgets, ms(now)).Scan(&rows).Error; err != nil {
		return nil, nil, classify("read budget windows", err)
	}
	for _, r := range rows {
		used[r.Budget] = r.N
	}
	return taken, used, nil
}
