package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// ErrPollLeaseLost means another process holds the poll lease of a
// configuration: the poll's results are not committed.
var ErrPollLeaseLost = errors.New("poll lease held by another process")

// AcquirePollLease takes or renews the lease that lets owner poll a
// configuration until until, creating its cursor row on first use. It
// returns the cursor row and whether the lease is owner's; a lease held by
// another owner and not yet expired at now is left alone.
func (s *Store) AcquirePollLease(ctx context.Context, configID int64, owner string, now, until time.Time) (*PollCursor, bool, error) {
	var row PollCursor
	acquired, err := s.acquireLease(ctx, "poll_cursors", "config_id", configID, owner, now, until, &row)
	if err != nil {
		return nil, false, err
	}
	return &row, acquired, nil
}

// acquireLease takes or renews owner's lease on the row of key in a cursor
// table (poll_cursors, source_cursors), creating the row on first use, and
// reads the row into dst.
func (s *Store) acquireLease(ctx context.Context, table, keyColumn string, key any, owner string, now, until time.Time, dst any) (bool, error) {
	acquired := false
	err := s.writeTx(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO `+table+` (`+keyColumn+`) VALUES (?) ON CONFLICT (`+keyColumn+`) DO NOTHING`, key).Error; err != nil {
			return fmt.Errorf("store: create %s row: %w", table, err)
		}
		res := tx.Exec(`UPDATE `+table+` SET lease_owner = ?, lease_until = ?
			WHERE `+keyColumn+` = ? AND (lease_owner = '' OR lease_owner = ? OR lease_until < ?)`,
			owner, ms(until), key, owner, ms(now))
		if res.Error != nil {
			return fmt.Errorf("store: take %s lease: %w", table, res.Error)
		}
		acquired = res.RowsAffected == 1
		return tx.Where(keyColumn+" = ?", key).Take(dst).Error
	})
	return acquired, err
}

// ReleasePollLease gives up owner's lease, so that another process may
// poll the configuration at once (on shutdown).
func (s *Store) ReleasePollLease(ctx context.Context, configID int64, owner string) error {
	return s.releaseLease(ctx, "poll_cursors", "config_id", configID, owner)
}

func (s *Store) releaseLease(ctx context.Context, table, keyColumn string, key any, owner string) error {
	return s.writeTx(ctx, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE `+table+` SET lease_owner = '', lease_until = 0 WHERE `+keyColumn+` = ? AND lease_owner = ?`,
			key, owner).Error
	})
}

// RecordPollError notes a failed poll: when it ran and why. The cursor
// stays where it was, so the next poll covers the same time again.
func (s *Store) RecordPollError(ctx context.Context, configID int64, owner string, polledAt time.Time, msg string) error {
	return s.writeTx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE poll_cursors SET last_poll_at = ?, last_error = ? WHERE config_id = ? AND lease_owner = ?`,
			ms(polledAt), msg, configID, owner)
		if res.Error != nil {
			return fmt.Errorf("store: record poll error: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrPollLeaseLost
		}
		return nil
	})
}

// PollResult is what one successful poll commits.
type PollResult struct {
	ConfigID int64
	Owner    string
	// Events are the events found, each routed to the polling
	// configuration. One already stored (posted by the appliance, or found
	// by an earlier poll) gains a delivery to this configuration if it had
	// none: a session posted and polled is still delivered once.
	Events   []*NewEvent
	Cursor   time.Time // where the next poll starts
	PolledAt time.Time
}

// CommitPoll stores a poll's events and moves the configuration's cursor in
// one transaction, so that a crash between the two can neither skip nor
// double anything. It fails with ErrPollLeaseLost, committing nothing, if owner
// no longer holds the lease.
func (s *Store) CommitPoll(ctx context.Context, r PollResult) ([]Inserted, error) {
	return s.InsertEvents(ctx, r.Events, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.rebind(`UPDATE poll_cursors SET cursor_at = ?, last_poll_at = ?, last_success_at = ?, last_error = ''
			WHERE config_id = ? AND lease_owner = ?`),
			ms(r.Cursor), ms(r.PolledAt), ms(r.PolledAt), r.ConfigID, r.Owner)
		if err != nil {
			return classify("move poll cursor", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return ErrPollLeaseLost
		}
		return nil
	})
}
