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
	return s.sealed(ctx, Config{}.TableName())
}

// SealedSourceSecrets returns the sealed secrets of every stored source
// that has any, by source id.
func (s *Store) SealedSourceSecrets(ctx context.Context) (map[int64][]byte, error) {
	return s.sealed(ctx, SourceConfig{}.TableName())
}

// sealed reads the non-empty secrets of a table's rows by id.
func (s *Store) sealed(ctx context.Context, table string) (map[int64][]byte, error) {
	var rows []struct {
		ID      int64
		Secrets []byte
	}
	err := s.r.WithContext(ctx).Table(table).Select("id", "secrets").
		Where("secrets IS NOT NULL AND length(secrets) > 0").Find(&rows).Error
	if err != nil {
		return nil, unavailable(fmt.Errorf("store: list sealed secrets of %s: %w", table, err))
	}
	out := make(map[int64][]byte, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Secrets
	}
	return out, nil
}

// Unopenable are sealed secrets a key cannot open (id → the sealed value
// as read), of configurations and of stored sources.
type Unopenable struct {
	Configs map[int64][]byte
	Sources map[int64][]byte
}

// Cleared are the ids (ascending) whose secrets ClearSecrets cleared.
type Cleared struct {
	Configs []int64
	Sources []int64
}

// ClearSecrets removes the sealed secrets of the configurations and stored
// sources in sealed, each with the audit entry audit gives (source tells
// which kind the id is of), and, when keyCheckValue is not nil, stores it
// as the key check value (replacing any) with keyAudit; all in one
// transaction. A row whose secrets changed since they were read keeps
// them: someone saved new ones meanwhile.
func (s *Store) ClearSecrets(ctx context.Context, sealed Unopenable, audit func(source bool, id int64) AuditEntry, keyCheckValue []byte, keyAudit AuditEntry) (Cleared, error) {
	var cleared Cleared
	now := ms(time.Now())
	err := s.writeTx(ctx, func(tx *gorm.DB) error {
		cleared = Cleared{}
		var err error
		if cleared.Configs, err = clearSealed(tx, Config{}.TableName(), sealed.Configs, now, func(id int64) AuditEntry {
			a := audit(false, id)
			a.ConfigID = id
			return a
		}); err != nil {
			return err
		}
		if cleared.Sources, err = clearSealed(tx, SourceConfig{}.TableName(), sealed.Sources, now, func(id int64) AuditEntry { return audit(true, id) }); err != nil {
			return err
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

// clearSealed clears the secrets of table's rows in sealed that still hold
// the value read, each audited; it returns the ids cleared, ascending.
func clearSealed(tx *gorm.DB, table string, sealed map[int64][]byte, now int64, audit func(id int64) AuditEntry) ([]int64, error) {
	var cleared []int64
	for _, id := range slices.Sorted(maps.Keys(sealed)) {
		res := tx.Table(table).Where("id = ? AND secrets = ?", id, sealed[id]).Updates(map[string]any{
			"secrets": nil, "version": gorm.Expr("version + 1"), "updated_at": now,
		})
		if res.Error != nil {
			return nil, fmt.Errorf("store: clear secrets of %s %d: %w", table, id, res.Error)
		}
		if res.RowsAffected == 0 {
			continue
		}
		if err := insertAudit(tx, audit(id), now); err != nil {
			return nil, err
		}
		cleared = append(cleared, id)
	}
	return cleared, nil
}
