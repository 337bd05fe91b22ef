package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// FailedCounts returns how many deliveries have failed, by configuration;
// configurations without failures are left out.
func (s *Store) FailedCounts(ctx context.Context) (map[int64]int, error) {
	var rows []struct {
		ConfigID int64
		N        int
	}
	if err := s.r.WithContext(ctx).Raw(`SELECT config_id, COUNT(*) AS n FROM deliveries WHERE state = 'failed' GROUP BY config_id`).Scan(&rows).Error; err != nil {
		return nil, classify("count failed deliveries", err)
	}
	out := make(map[int64]int, len(rows))
	for _, r := range rows {
		out[r.ConfigID] = r.N
	}
	return out, nil
}

// RetryFailed makes every failed delivery of a configuration run now, each
// granted one more attempt if its attempts are spent, as RetryNow does for
// one. It records audit, whose summary gets the number retried, in the same
// transaction and returns that number (0 writes no audit entry).
func (s *Store) RetryFailed(ctx context.Context, configID int64, audit AuditEntry) (int, error) {
	now := ms(time.Now())
	n := 0
	err := s.writeTx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE deliveries SET state = 'pending', run_at = ?, finished_at = 0, updated_at = ?, snoozes = 0,
			max_attempts = `+oneMoreAttempt+` WHERE config_id = ? AND state = 'failed'`, now, now, configID)
		if res.Error != nil {
			return res.Error
		}
		n = int(res.RowsAffected)
		if n == 0 {
			return nil
		}
		audit.Summary = fmt.Sprintf(audit.Summary, n)
		if err := s.notifyWork(tx); err != nil {
			return err
		}
		return insertAudit(tx, audit, now)
	})
	if err != nil {
		return 0, classify(fmt.Sprintf("retry the failed deliveries of configuration %d", configID), err)
	}
	return n, nil
}

// FailedDelivery is a delivery that ended failed.
type FailedDelivery struct {
	ID         int64
	ConfigID   int64
	FinishedAt int64 // Unix milliseconds
	LastError  string
}

// Finished is when the delivery ended.
func (f *FailedDelivery) Finished() time.Time { return fromMS(f.FinishedAt) }

// FailedSince returns the deliveries that ended failed at or after since,
// oldest first (alerts count them). A delivery's end time is taken before
// its transaction commits, so a caller reading in windows must let them
// overlap: a row may appear later with a time already read past.
func (s *Store) FailedSince(ctx context.Context, since time.Time) ([]FailedDelivery, error) {
	var rows []FailedDelivery
	// Few rows: failures are rare, and only the window's are read, through
	// the partial index on finished deliveries (finished_at > 0).
	if err := s.r.WithContext(ctx).Raw(`SELECT id, config_id, finished_at, last_error FROM deliveries
		WHERE state = 'failed' AND finished_at > 0 AND finished_at >= ? ORDER BY finished_at, id`, ms(since)).Scan(&rows).Error; err != nil {
		return nil, classify("read failed deliveries", err)
	}
	return rows, nil
}
