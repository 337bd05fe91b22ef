package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// SourceCursor is the polling state of one source: a polled stream of
// records (PM Cloud events, say) named by a stable id.
type SourceCursor struct {
	SourceID      string `gorm:"primaryKey"`
	CursorAt      int64
	LastPollAt    int64
	LastSuccessAt int64
	LastError     string
	LastFetched   int64 // records the last successful poll read
	LastNew       int64 // of those, records not stored before
	TotalNew      int64
	LeaseOwner    string
	LeaseUntil    int64
}

// TableName maps SourceCursor to its table.
func (SourceCursor) TableName() string { return "source_cursors" }

// Cursor is where the next poll starts.
func (c *SourceCursor) Cursor() time.Time { return fromMS(c.CursorAt) }

// LastPoll is when the source was last polled.
func (c *SourceCursor) LastPoll() time.Time { return fromMS(c.LastPollAt) }

// StartOr is where a poll of the source starts: its cursor, or for a
// source never polled, firstFetch before it was enabled (before now when
// that is unknown).
func (c *SourceCursor) StartOr(enabled, now time.Time, firstFetch time.Duration) time.Time {
	if start := c.Cursor(); !start.IsZero() {
		return start
	}
	if enabled.IsZero() {
		enabled = now
	}
	return enabled.Add(-firstFetch)
}

// LastSuccess is when a poll of the source last succeeded.
func (c *SourceCursor) LastSuccess() time.Time { return fromMS(c.LastSuccessAt) }

// AcquireSourceLease takes or renews the lease that lets owner poll a
// source until until, creating its cursor row on first use, as
// AcquirePollLease does for a configuration.
func (s *Store) AcquireSourceLease(ctx context.Context, sourceID, owner string, now, until time.Time) (*SourceCursor, bool, error) {
	var row SourceCursor
	acquired, err := s.acquireLease(ctx, "source_cursors", "source_id", sourceID, owner, now, until, &row)
	if err != nil {
		return nil, false, err
	}
	return &row, acquired, nil
}

// ReleaseSourceLease gives up owner's lease of a source.
func (s *Store) ReleaseSourceLease(ctx context.Context, sourceID, owner string) error {
	return s.releaseLease(ctx, "source_cursors", "source_id", sourceID, owner)
}

// RecordSourceError notes a failed poll of a source; its cursor stays.
func (s *Store) RecordSourceError(ctx context.Context, sourceID, owner string, polledAt time.Time, msg string) error {
	return s.writeTx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE source_cursors SET last_poll_at = ?, last_error = ? WHERE source_id = ? AND lease_owner = ?`,
			ms(polledAt), msg, sourceID, owner)
		if res.Error != nil {
			return fmt.Errorf("store: record source error: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrPollLeaseLost
		}
		return nil
	})
}

// SourceResult is what one successful poll of a source commits.
type SourceResult struct {
	SourceID string
	Owner    string
	Records  []*NewEvent
	Cursor   time.Time
	PolledAt time.Time
}

// CommitSource stores a poll's records and moves the source's cursor in one
// transaction, with the counts of what was read and what was new. It fails
// with ErrPollLeaseLost, committing nothing, if owner no longer holds the
// lease.
func (s *Store) CommitSource(ctx context.Context, r SourceResult) ([]Inserted, error) {
	return s.insertEventsThen(ctx, r.Records, func(tx *sql.Tx, out []Inserted) error {
		fresh := NewCount(out)
		res, err := tx.ExecContext(ctx, s.rebind(`UPDATE source_cursors SET cursor_at = ?, last_poll_at = ?, last_success_at = ?, last_error = '',
			last_fetched = ?, last_new = ?, total_new = total_new + ?
			WHERE source_id = ? AND lease_owner = ?`),
			ms(r.Cursor), ms(r.PolledAt), ms(r.PolledAt), len(r.Records), fresh, fresh, r.SourceID, r.Owner)
		if err != nil {
			return classify("move source cursor", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return ErrPollLeaseLost
		}
		return nil
	})
}

// ListSourceCursors returns the polling state of every source polled so far.
func (s *Store) ListSourceCursors(ctx context.Context) ([]SourceCursor, error) {
	var out []SourceCursor
	if err := s.r.WithContext(ctx).Order("source_id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: source cursors: %w", err)
	}
	return out, nil
}
