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
