package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// keyCheck is the one row of the key_check table (see package secretbox).
type keyCheck struct {
	ID        int64 `gorm:"primaryKey"`
	Value     []byte
	CreatedAt int64 `gorm:"autoCreateTime:false"`
}

func (keyCheck) TableName() string { return "key_check" }

// KeyCheck returns the stored key check value, or nil when none is stored
// (a fresh installation, or one from before key checks).
func (s *Store) KeyCheck(ctx context.Context) ([]byte, error) {
	var kc keyCheck
	err := s.r.WithContext(ctx).First(&kc, 1).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, unavailable(fmt.Errorf("store: read key check: %w", err))
	}
	return kc.Value, nil
}

// SetKeyCheck stores value unless a key check value is stored already: of
// two processes starting a fresh installation at once the first wins, and
// each reads back what was kept.
func (s *Store) SetKeyCheck(ctx context.Context, value []byte) error {
	return s.writeTx(ctx, func(tx *gorm.DB) error {
		kc := keyCheck{ID: 1, Value: value, CreatedAt: ms(time.Now())}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&kc).Error; err != nil {
			return fmt.Errorf("store: store key check: %w", err)
		}
		return nil
	})
}

// SealedSecrets returns the sealed secrets of every configuration that has
// any, by configuration id.
func (s *Store) SealedSecrets(ctx context.Context) (map[int64][]byte, error) {
	var rows []Config
	err := s.r.WithContext(ctx).Select("id", "secrets").
		Where("secrets IS NOT NULL AND length(secrets) > 0").Find(&rows).Error
	if err != nil {
		return nil, unavailable(fmt.Errorf("store: list sealed secrets: %w", err))
	}
	out := make(map[int64][]byte, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Secrets
	}
	return out, nil
}

// ClearSecrets removes the sealed secrets of the configurations in sealed
// (id → the sealed value the caller found unopenable), each with the audit
// entry audit gives, and, when keyCheckValue is not nil, stores it as the
// key check value (replacing any) with keyAudit; all in one transaction. A
// configuration whose secrets changed since they were read keeps them:
// someone saved new ones meanwhile. It returns the ids cleared, ascending.
func (s *Store) ClearSecrets(ctx context.Context, sealed map[int64][]byte, audit func(id int64) AuditEntry, keyCheckValue []byte, keyAudit AuditEntry) ([]int64, error) {
	ids := slices.Sorted(maps.Keys(sealed))
	var cleared []int64
	now := ms(time.Now())
	err := s.writeTx(ctx, func(tx *gorm.DB) error {
		cleared = cleared[:0]
		for _, id := range ids {
			res := tx.Model(&Config{}).Where("id = ? AND secrets = ?", id, sealed[id]).Updates(map[string]any{
				"secrets": nil, "version": gorm.Expr("version + 1"), "updated_at": now,
			})
			if res.Error != nil {
				return fmt.Errorf("store: clear secrets of configuration %d: %w", id, res.Error)
			}
			if res.RowsAffected == 0 {
				continue
			}
			a := audit(id)
			a.ConfigID = id
			if err := insertAudit(tx, a, now); err != nil {
				return err
			}
			cleared = append(cleared, id)
		}
		if keyCheckValue == nil {
			return nil
		}
		kc := keyCheck{ID: 1, Value: keyCheckValue, CreatedAt: now}
		if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&kc).Error; err != nil {
			return fmt.Errorf("store: replace key check: %w", err)
		}
		return insertAudit(tx, keyAudit, now)
	})
	return cleared, err
}
