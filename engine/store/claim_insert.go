package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// InsertClaim asks InsertEventsClaiming to claim the deliveries it adds for
// workers of this engine, in the transaction that stores them, so that a
// delivery a worker can start at once needs no claim transaction of its
// own. A delivery claimed at insert is exactly what Claim would have made
// of it a moment later: running, its attempt counted, leased to Owner
// until At + Lease under a fresh fencing token, and claimed only if no
// other delivery of its (configuration, session) runs or waits before it.
// If the engine dies before its worker finishes, the lease runs out and
// Rescue hands it back as it would any claimed delivery.
type InsertClaim struct {
	Owner string
	Lease time.Duration
	// At is the claim time: the lease runs until At + Lease, and the
	// worker's own hold is reckoned from it.
	At time.Time
	// Take reserves a free worker slot for a delivery of plugin and says
	// whether it got one. It is called inside the write transaction, so it
	// must not block.
	Take func(plugin string) bool
	// Give returns a slot Take reserved whose delivery was not claimed (it
	// waits behind its session, or the transaction failed).
	Give func(plugin string)
}

// freshDelivery is a delivery row InsertEvents has just added.
type freshDelivery struct {
	eventID, id int64
	plugin      string
}

// insertClaims tracks the worker slots one InsertEventsClaiming reserved.
type insertClaims struct {
	c *InsertClaim
	// reserved are the deliveries a slot was taken for, by id.
	reserved map[int64]string
}

// begin starts the claims of one transaction; a nil claim claims nothing.
func (c *InsertClaim) begin(n int) *insertClaims {
	if c == nil || n == 0 {
		return nil
	}
	return &insertClaims{c: c, reserved: make(map[int64]string, n)}
}

// keep marks the claimed deliveries as handed over, after the commit, and
// attaches each to its event's result, with the event when this batch
// stored it.
func (ic *insertClaims) keep(claimed []Delivery, out []Inserted, batch []*NewEvent) {
	if ic == nil {
		return
	}
	byEvent := make(map[int64][]Delivery, len(claimed))
	for _, d := range claimed {
		delete(ic.reserved, d.ID)
		byEvent[d.EventID] = append(byEvent[d.EventID], d)
	}
	for i := range out {
		// A duplicate in the batch names the same event: only the first
		// result carries its claims, so that each is handed over once.
		if ds, ok := byEvent[out[i].EventID]; ok {
			if !out[i].Duplicate {
				// The row as stored: its id and received time are set
				// by now, and nothing else is changed by the database
				// (TestClaimedAtInsertCarriesTheStoredEvent).
				ev := batch[i].Event
				for j := range ds {
					ds[j].Event = &ev
				}
			}
			out[i].Claimed = ds
			delete(byEvent, out[i].EventID)
		}
	}
}

// giveBack returns the slots of deliveries not claimed: all of them when
// the transaction did not commit.
func (ic *insertClaims) giveBack() {
	if ic == nil {
		return
	}
	for _, plugin := range ic.reserved {
		ic.c.Give(plugin)
	}
	ic.reserved = nil
}

// claimInserted claims the fresh deliveries that get a worker slot, with
// Claim's session-order rule checked in this transaction: the batch's
// own earlier deliveries of a session are visible here, so the later one
// waits behind them as it would behind a committed one.
func (s *Store) claimInserted(ctx context.Context, tx *sql.Tx, ic *insertClaims, fresh []freshDelivery, now int64) ([]Delivery, error) {
	if ic == nil {
		return nil, nil
	}
	args := []any{ic.c.Owner, ms(ic.c.At.Add(ic.c.Lease)), now, now}
	for _, f := range fresh {
		if ic.c.Take(f.plugin) {
			ic.reserved[f.id] = f.plugin
			args = append(args, f.id)
		}
	}
	if len(ic.reserved) == 0 {
		return nil, nil
	}
	token := leaseTokenSQLite
	if s.pg {
		token = leaseTokenPostgres
	}
	// The id list is padded to a power of two with its last id, so that
	// batches of any size make a handful of statement texts, which the
	// connection keeps compiled (stmtcache.go).
	ids := idListLen(len(ic.reserved))
	for len(args) < 4+ids {
		args = append(args, args[len(args)-1])
	}
	q := `UPDATE deliveries SET state = 'running', attempts = attempts + 1,
			lease_owner = ?, lease_until = ?, lease_token = ` + token + `, updated_at = ?
		WHERE id IN (
			SELECT d.id FROM deliveries d
			WHERE d.state = 'pending' AND d.run_at <= ? AND d.id IN (?` + strings.Repeat(",?", ids-1) + `)
			AND NOT (` + blockedBySession + `))
		RETURNING ` + deliveryColumns
	rows, err := tx.QueryContext(ctx, s.rebind(q), args...)
	if err != nil {
		return nil, classify("claim inserted deliveries", err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var d Delivery
		if err := rows.Scan(d.fields()...); err != nil {
			return nil, classify("claim inserted deliveries", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, classify("claim inserted deliveries", err)
	}
	return out, nil
}

// idListLen is the length of an id list padded to the next power of two.
func idListLen(n int) int {
	l := 1
	for l < n {
		l *= 2
	}
	return l
}

// deliveryColumns are the columns fields scans, in its order.
const deliveryColumns = `id, event_id, config_id, plugin, lsid, state, attempts, max_attempts, run_at,
	lease_owner, lease_until, lease_token, snoozes, checkpoint, last_error, result, records,
	created_at, updated_at, finished_at`

// fields are the destinations of deliveryColumns.
func (d *Delivery) fields() []any {
	return []any{&d.ID, &d.EventID, &d.ConfigID, &d.Plugin, &d.LSID, &d.State, &d.Attempts, &d.MaxAttempts, &d.RunAt,
		&d.LeaseOwner, &d.LeaseUntil, &d.LeaseToken, &d.Snoozes, &d.Checkpoint, &d.LastError, &d.Result, &d.Records,
		&d.CreatedAt, &d.UpdatedAt, &d.FinishedAt}
}
