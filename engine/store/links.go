package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Link implements engine.Links: what a configuration created for a session.
func (s *Store) Link(ctx context.Context, configID int64, lsid, kind string) (string, bool, error) {
	var values []string
	err := s.r.WithContext(ctx).Raw(`SELECT value FROM links WHERE config_id = ? AND lsid = ? AND kind = ?`,
		configID, lsid, kind).Scan(&values).Error
	if err != nil {
		return "", false, classify("read link", err)
	}
	if len(values) == 0 {
		return "", false, nil
	}
	return values[0], true, nil
}

// SetLink records (or replaces) a link.
func (s *Store) SetLink(ctx context.Context, configID int64, lsid, kind, value string) error {
	err := s.writeTx(ctx, func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO links (config_id, lsid, kind, value, created_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (config_id, lsid, kind) DO UPDATE SET value = excluded.value`,
			configID, lsid, kind, value, ms(time.Now())).Error
	})
	if err != nil {
		return fmt.Errorf("store: set link: %w", err)
	}
	return nil
}

// AttemptLinks are the links as one running attempt sees them: reads as
// Link, writes only while the attempt holds its lease (ErrLeaseLost
// otherwise), checked in the same transaction as the write.
type AttemptLinks struct {
	s *Store
	f Fence
}

// AttemptLinks returns the links of the attempt fenced by f.
func (s *Store) AttemptLinks(f Fence) *AttemptLinks { return &AttemptLinks{s: s, f: f} }

// Link implements engine.Links.
func (l *AttemptLinks) Link(ctx context.Context, configID int64, lsid, kind string) (string, bool, error) {
	return l.s.Link(ctx, configID, lsid, kind)
}

// SetLink implements engine.Links, fenced by the attempt's lease token.
func (l *AttemptLinks) SetLink(ctx context.Context, configID int64, lsid, kind, value string) error {
	var n int64
	err := l.s.writeTx(ctx, func(tx *gorm.DB) error {
		// On PostgreSQL the delivery row is share-locked by the check, so a
		// rescue cannot take the lease between the check and the insert.
		lock := ""
		if l.s.pg {
			lock = " FOR SHARE"
		}
		res := tx.Exec(`INSERT INTO links (config_id, lsid, kind, value, created_at)
			SELECT CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT) WHERE EXISTS (
				SELECT 1 FROM deliveries WHERE id = ? AND lease_token = ? AND state = 'running'`+lock+`)
			ON CONFLICT (config_id, lsid, kind) DO UPDATE SET value = excluded.value`,
			configID, lsid, kind, value, ms(time.Now()), l.f.DeliveryID, l.f.Token)
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return classify("set link", err)
	}
	if n == 0 {
		return fmt.Errorf("store: set link for delivery %d: %w", l.f.DeliveryID, ErrLeaseLost)
	}
	return nil
}
