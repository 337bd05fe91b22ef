package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"switchboard/engine"
)

// ErrLeaseLost means a write on behalf of an attempt named a lease token
// the delivery no longer carries: the lease expired and the delivery was
// rescued (and maybe claimed again), or it was handed back at shutdown. It
// is engine.ErrLeaseLost, so plugins can test for it.
var ErrLeaseLost = engine.ErrLeaseLost

// Fence names one running attempt: its delivery and the random lease token
// (fencing token) its claim got. Every write made on behalf of the attempt
// carries it in its WHERE clause, so the writes of an attempt that lost its
// lease never land, even when the attempt that replaced it runs in the same
// process under the same lease owner.
type Fence struct {
	DeliveryID int64
	Token      string
}

// Fence returns the fence of a claimed delivery.
func (d *Delivery) Fence() Fence { return Fence{DeliveryID: d.ID, Token: d.LeaseToken} }

// blockedBySession is true for a delivery d that must wait for another
// delivery of the same (configuration, session): one that is running now,
// whichever way it was scheduled, or an earlier one that is unfinished.
// Claim and NextDue share it, so a blocked delivery is neither claimed nor
// counted as due.
const blockedBySession = `d.lsid != '' AND EXISTS (
	SELECT 1 FROM deliveries e
	WHERE e.config_id = d.config_id AND e.lsid = d.lsid AND e.id != d.id
	AND (e.state = 'running' OR (e.id < d.id AND e.state IN ('pending', 'retrying'))))`

// The fencing token of a new claim: 128 random bits, in hex.
const (
	leaseTokenSQLite   = `lower(hex(randomblob(16)))`
	leaseTokenPostgres = `replace(gen_random_uuid()::text, '-', '')`
)

// Claim leases up to n due deliveries of plugin to owner, counts the
// attempt and gives each a fresh lease token (see Fence). A delivery waits
// while another delivery of the same session for the same configuration
// runs, or an earlier one is unfinished, so a session's events reach a
// plugin one at a time and in order (the ticket is created before the
// session-end note).
func (s *Store) Claim(ctx context.Context, plugin string, n int, owner string, lease time.Duration, now time.Time) ([]Delivery, error) {
	if n <= 0 {
		return nil, nil
	}
	// A read first: a worker loop woken by work for another plugin, or
	// by a finish with nothing left behind it, finds nothing due, and that
	// must not cost a write transaction (the only writer, and a post
	// waiting for it). A delivery that becomes due after this read wakes
	// the loop again.
	var due int64
	if err := s.r.WithContext(ctx).Raw(`SELECT COUNT(*) FROM (SELECT 1 FROM deliveries d
		WHERE d.plugin = ? AND d.state IN ('pending', 'retrying') AND d.run_at <= ?
		AND NOT (`+blockedBySession+`) LIMIT 1) due`, plugin, ms(now)).Scan(&due).Error; err != nil {
		return nil, classify("claim deliveries", err)
	}
	if due == 0 {
		return nil, nil
	}
	var out []Delivery
	err := s.writeTx(ctx, func(tx *gorm.DB) error {
		if s.pg {
			return tx.Raw(claimPostgres, plugin, ms(now), n, owner, ms(now.Add(lease)), ms(now)).Scan(&out).Error
		}
		return tx.Raw(claimSQLite, owner, ms(now.Add(lease)), ms(now), plugin, ms(now), n).Scan(&out).Error
	})
	if err != nil {
		return nil, classify("claim deliveries", err)
	}
	return out, nil
}

// claimSQLite is Claim on SQLite, whose one writer makes the select and
// the update one step.
const claimSQLite = `UPDATE deliveries SET state = 'running', attempts = attempts + 1,
		lease_owner = ?, lease_until = ?, lease_token = ` + leaseTokenSQLite + `, updated_at = ?
	WHERE id IN (
		SELECT d.id FROM deliveries d
		WHERE d.plugin = ? AND d.state IN ('pending', 'retrying') AND d.run_at <= ?
		AND NOT (` + blockedBySession + `)
		ORDER BY d.run_at, d.id LIMIT ?)
	RETURNING *`

// claimPostgres is Claim on PostgreSQL, where engines claim at once: the
// due rows are locked as they are chosen and rows another engine is
// claiming are skipped, not waited for (FOR UPDATE SKIP LOCKED). A locked
// row is then re-checked by PostgreSQL against its committed state, so a
// row claimed meanwhile is not claimed twice. Session order holds across
// engines as it does in one: a later delivery of a session is blocked while
// an earlier one is pending in this statement's snapshot, even while
// another engine holds that earlier one's row lock, and after its claim
// commits it is running, which blocks as well.
const claimPostgres = `WITH due AS (
		SELECT d.id FROM deliveries d
		WHERE d.plugin = ? AND d.state IN ('pending', 'retrying') AND d.run_at <= ?
		AND NOT (` + blockedBySession + `)
		ORDER BY d.run_at, d.id LIMIT ?
		FOR UPDATE OF d SKIP LOCKED)
	UPDATE deliveries SET state = 'running', attempts = attempts + 1,
		lease_owner = ?, lease_until = ?, lease_token = ` + leaseTokenPostgres + `, updated_at = ?
	FROM due WHERE deliveries.id = due.id
	RETURNING deliveries.*`

// Heartbeat extends a running attempt's lease to until. It fails with
// ErrLeaseLost when the attempt no longer holds its delivery.
func (s *Store) Heartbeat(ctx context.Context, f Fence, until time.Time) error {
	var n int64
	err := s.writeTx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE deliveries SET lease_until = ? WHERE id = ? AND lease_token = ? AND state = 'running'`,
			ms(until), f.DeliveryID, f.Token)
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return classify(fmt.Sprintf("extend lease of delivery %d", f.DeliveryID), err)
	}
	if n == 0 {
		return fmt.Errorf("store: extend lease of delivery %d: %w", f.DeliveryID, ErrLeaseLost)
	}
	return nil
}

// HoldsLease reads whether the attempt still holds its delivery at now (a
// read, for the check a plugin makes before a remote write).
func (s *Store) HoldsLease(ctx context.Context, f Fence, now time.Time) error {
	var n int64
	err := s.r.WithContext(ctx).Raw(`SELECT COUNT(*) FROM deliveries WHERE id = ? AND lease_token = ? AND state = 'running' AND lease_until > ?`,
		f.DeliveryID, f.Token, ms(now)).Scan(&n).Error
	if err != nil {
		return classify(fmt.Sprintf("check lease of delivery %d", f.DeliveryID), err)
	}
	if n == 0 {
		return fmt.Errorf("store: delivery %d: %w", f.DeliveryID, ErrLeaseLost)
	}
	return nil
}

// Finish is the result of one attempt.
type Finish struct {
	ID int64
	// Token is the lease token of the attempt's claim.
	Token  string
	State  string // retrying, done, failed or skipped
	RunAt  time.Time
	Error  string
	Result string
	// Records is the JSON of what the attempt wrote; empty keeps what an
	// earlier attempt recorded.
	Records string
	Outcome string // what the plugin said: done, retry, retry_after, permanent, skipped, panic, timeout
	// Snooze marks a RetryAfter: the attempt is given back and the
	// delivery's run of consecutive snoozes grows (any other outcome ends
	// the run).
	Snooze   bool
	Started  time.Time
	Duration time.Duration
	// Checkpoint, when not nil, replaces the delivery's checkpoint in the
	// same transaction: the record of the attempt's last remote write,
	// which then needs no transaction of its own.
	Checkpoint map[string]string
}

// FinishAttempt records an attempt and moves the delivery to its next
// state, if the attempt still holds its lease (ErrLeaseLost otherwise).
// Finishes of several workers that arrive together share one transaction
// (see finishGroup).
func (s *Store) FinishAttempt(ctx context.Context, f Finish) error {
	f.Error, f.Result = storableText(f.Error), storableText(f.Result)
	checkpoint := ""
	if f.Checkpoint != nil {
		b, err := json.Marshal(f.Checkpoint)
		if err != nil {
			return err
		}
		checkpoint = string(b)
	}
	return s.finishes.submit(ctx, s, &pendingFinish{f: f, checkpoint: checkpoint, done: make(chan error, 1)})
}

// execer runs a statement in a transaction: a *sql.Tx, or the connection
// of a gorm transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// finishOne writes one finish in tx: ErrLeaseLost, and nothing written,
// when its attempt no longer holds the delivery.
func (s *Store) finishOne(ctx context.Context, tx execer, f *Finish, checkpoint string, now int64) error {
	finished := int64(0)
	if f.State == StateDone || f.State == StateFailed || f.State == StateSkipped {
		finished = now
	}
	refund := 0
	if f.Snooze {
		refund = 1
	}
	res, err := tx.ExecContext(ctx, s.rebind(`UPDATE deliveries SET state = ?, run_at = ?, lease_owner = '', lease_until = 0, lease_token = '',
			last_error = ?, result = ?, records = CASE WHEN CAST(? AS TEXT) = '' THEN records ELSE ? END,
			checkpoint = CASE WHEN CAST(? AS TEXT) = '' THEN checkpoint ELSE ? END,
			updated_at = ?, finished_at = ?, attempts = attempts - ?,
			snoozes = CASE WHEN CAST(? AS INTEGER) = 1 THEN snoozes + 1 ELSE 0 END
		WHERE id = ? AND lease_token = ? AND lease_token != '' AND state = 'running'`),
		f.State, ms(f.RunAt), f.Error, f.Result, f.Records, f.Records, checkpoint, checkpoint, now, finished, refund, refund, f.ID, f.Token)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return ErrLeaseLost
	}
	_, err = tx.ExecContext(ctx, s.rebind(`INSERT INTO delivery_attempts (delivery_id, number, started_at, duration_ms, outcome, error)
		SELECT id, attempts + ?, CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT) FROM deliveries WHERE id = ?`),
		refund, ms(f.Started), f.Duration.Milliseconds(), f.Outcome, f.Error, f.ID)
	return err
}

// SaveCheckpoint persists a running attempt's checkpoint, if the attempt
// still holds its lease (ErrLeaseLost otherwise).
func (s *Store) SaveCheckpoint(ctx context.Context, f Fence, values map[string]string) error {
	b, err := json.Marshal(values)
	if err != nil {
		return err
	}
	var n int64
	err = s.writeTx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE deliveries SET checkpoint = ?, updated_at = ? WHERE id = ? AND lease_token = ? AND state = 'running'`,
			string(b), ms(time.Now()), f.DeliveryID, f.Token)
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return classify(fmt.Sprintf("save checkpoint of delivery %d", f.DeliveryID), err)
	}
	if n == 0 {
		return fmt.Errorf("store: save checkpoint of delivery %d: %w", f.DeliveryID, ErrLeaseLost)
	}
	return nil
}

// LeaseExpiredError is the error recorded on a delivery whose worker died.
const LeaseExpiredError = "the worker running this delivery stopped before it finished (lease expired)"

// Rescue returns deliveries whose lease expired (their worker crashed, hung
// or was paused) to retrying after backoff(attempts), as a failed attempt
// would be, or to failed when their attempts are spent. Their lease tokens
// are cleared, so nothing the old worker still writes lands. It returns how
// many it rescued.
func (s *Store) Rescue(ctx context.Context, now time.Time, backoff func(attempt int) time.Duration) (int, error) {
	// A read first: rescue runs every few seconds and almost always finds
	// nothing, which must not cost a write transaction.
	var expired int64
	if err := s.r.WithContext(ctx).Raw(`SELECT COUNT(*) FROM deliveries WHERE state = 'running' AND lease_until < ?`, ms(now)).Scan(&expired).Error; err != nil {
		return 0, classify("rescue deliveries", err)
	}
	if expired == 0 {
		return 0, nil
	}
	n := 0
	err := s.writeTx(ctx, func(tx *gorm.DB) error {
		n = 0
		var rows []struct {
			ID          int64
			Attempts    int
			MaxAttempts int
			UpdatedAt   int64
		}
		// On PostgreSQL a row being finished or heartbeaten right now is
		// skipped (its worker is alive after all) rather than waited for,
		// and the update below checks the expiry again: a lease renewed
		// since the select is not rescued.
		q := `SELECT id, attempts, max_attempts, updated_at FROM deliveries WHERE state = 'running' AND lease_until < ?`
		if s.pg {
			q += ` FOR UPDATE SKIP LOCKED`
		}
		if err := tx.Raw(q, ms(now)).Scan(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			state, runAt, finished := StateRetrying, now.Add(backoff(r.Attempts)), int64(0)
			if r.Attempts >= r.MaxAttempts {
				state, runAt, finished = StateFailed, time.Time{}, ms(now)
			}
			res := tx.Exec(`UPDATE deliveries SET state = ?, finished_at = ?, run_at = ?, last_error = ?,
					lease_owner = '', lease_until = 0, lease_token = '', snoozes = 0, updated_at = ?
				WHERE id = ? AND state = 'running' AND lease_until < ?`, state, finished, ms(runAt), LeaseExpiredError, ms(now), r.ID, ms(now))
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				continue
			}
			n++
			if err := tx.Exec(`INSERT INTO delivery_attempts (delivery_id, number, started_at, duration_ms, outcome, error)
				VALUES (?, ?, ?, ?, 'lease_expired', ?)`,
				r.ID, r.Attempts, r.UpdatedAt, ms(now)-r.UpdatedAt, LeaseExpiredError).Error; err != nil {
				return err
			}
		}
		if n > 0 {
			return s.notifyWork(tx)
		}
		return nil
	})
	if err != nil {
		return 0, classify("rescue deliveries", err)
	}
	return n, nil
}

// Release hands back deliveries owner still holds (at shutdown), without
// counting the attempt, so that they run again at once on the next start.
// Their lease tokens are cleared: an attempt still running in this process
// can no longer write.
func (s *Store) Release(ctx context.Context, owner string) (int, error) {
	var n int64
	now := ms(time.Now())
	err := s.writeTx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE deliveries SET state = 'retrying', attempts = attempts - 1, lease_owner = '',
			lease_until = 0, lease_token = '', run_at = ?, updated_at = ? WHERE state = 'running' AND lease_owner = ?`,
			now, now, owner)
		n = res.RowsAffected
		if res.Error != nil || n == 0 {
			return res.Error
		}
		return s.notifyWork(tx)
	})
	if err != nil {
		return 0, classify("release deliveries", err)
	}
	return int(n), nil
}

// NextDue returns when the earliest pending or retrying delivery of the
// plugins that is not blocked behind its session is due, and false when
// none is waiting. A blocked delivery is not due: the delivery it waits for
// wakes the dispatcher when it finishes, or is itself counted here when it
// waits for a retry.
func (s *Store) NextDue(ctx context.Context, plugins []string) (time.Time, bool, error) {
	var next *int64
	err := s.r.WithContext(ctx).Raw(`SELECT MIN(d.run_at) FROM deliveries d
		WHERE d.state IN ('pending', 'retrying') AND d.plugin IN ? AND NOT (`+blockedBySession+`)`, plugins).Scan(&next).Error
	if err != nil {
		return time.Time{}, false, classify("next due delivery", err)
	}
	if next == nil {
		return time.Time{}, false, nil
	}
	return fromMS(*next), true, nil
}

// WriteTransactions returns how many write transactions the store has
// begun since it opened.
func (s *Store) WriteTransactions() uint64 { return s.writes.Load() }
