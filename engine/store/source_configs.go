package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// SourceConfig is a source configured in the admin UI (a PM Cloud tenant,
// an appliance's activity). Settings is JSON without secrets; Secrets is
// the sealed JSON of the secret fields, sealed for the row's id.
type SourceConfig struct {
	ID        int64 `gorm:"primaryKey"`
	Kind      string
	Name      string
	Disabled  bool
	Settings  string
	Secrets   []byte
	Version   int
	EnabledAt int64
	CreatedAt int64 `gorm:"autoCreateTime:false"`
	UpdatedAt int64 `gorm:"autoUpdateTime:false"`
}

// TableName maps SourceConfig to its table.
func (SourceConfig) TableName() string { return "source_configs" }

// Enabled is when the source was last enabled (a first poll starts there).
func (c *SourceConfig) Enabled() time.Time { return fromMS(c.EnabledAt) }

// ErrSourceNameTaken means another stored source has that name.
var ErrSourceNameTaken = errors.New("another source has this name")

// sourceNameFree refuses a name another stored source (not id) has.
func sourceNameFree(tx *gorm.DB, name string, id int64) error {
	var n int64
	if err := tx.Model(&SourceConfig{}).Where("name = ? AND id <> ?", name, id).Count(&n).Error; err != nil {
		return fmt.Errorf("store: source name: %w", err)
	}
	if n > 0 {
		return ErrSourceNameTaken
	}
	return nil
}

// CreateSourceConfig inserts c and its audit entry in one transaction;
// seal fills Settings and Secrets once the id is known, as for a
// configuration.
func (s *Store) CreateSourceConfig(ctx context.Context, c *SourceConfig, audit AuditEntry, seal Seal) error {
	now := ms(time.Now())
	c.CreatedAt, c.UpdatedAt, c.Version, c.Settings = now, now, 1, "{}"
	if !c.Disabled {
		c.EnabledAt = now
	}
	return s.writeTx(ctx, func(tx *gorm.DB) error {
		if err := sourceNameFree(tx, c.Name, 0); err != nil {
			return err
		}
		if err := tx.Create(c).Error; err != nil {
			return fmt.Errorf("store: create source: %w", err)
		}
		var err error
		if c.Settings, c.Secrets, err = seal(c.ID); err != nil {
			return err
		}
		if err := tx.Model(&SourceConfig{}).Where("id = ?", c.ID).
			Updates(map[string]any{"settings": c.Settings, "secrets": c.Secrets}).Error; err != nil {
			return fmt.Errorf("store: create source: %w", err)
		}
		return insertAudit(tx, audit, now)
	})
}

// CursorMove moves a source's cursor row from one id to another (a
// rename: cursor ids hold the source's name).
type CursorMove struct{ From, To string }

// UpdateSourceConfig replaces the stored source c.ID if its version is
// still c.Version (0: any), and bumps the version; in the same transaction
// it moves the cursor rows that moves name (a renamed source goes on where
// it stopped). An audit entry without an Action is not written.
func (s *Store) UpdateSourceConfig(ctx context.Context, c *SourceConfig, moves []CursorMove, audit AuditEntry) error {
	now := ms(time.Now())
	return s.writeTx(ctx, func(tx *gorm.DB) error {
		var old SourceConfig
		if err := s.forUpdate(tx).First(&old, c.ID).Error; err != nil {
			return notFound(err, "source", c.ID)
		}
		if c.Version != 0 && old.Version != c.Version {
			return ErrConflict
		}
		if err := sourceNameFree(tx, c.Name, c.ID); err != nil {
			return err
		}
		enabledAt := old.EnabledAt
		if old.Disabled && !c.Disabled {
			enabledAt = now
		}
		if err := tx.Model(&SourceConfig{}).Where("id = ?", c.ID).Updates(map[string]any{
			"name": c.Name, "disabled": c.Disabled, "settings": c.Settings, "secrets": c.Secrets,
			"version": old.Version + 1, "enabled_at": enabledAt, "updated_at": now,
		}).Error; err != nil {
			return fmt.Errorf("store: update source %d: %w", c.ID, err)
		}
		if err := moveCursors(tx, moves); err != nil {
			return err
		}
		c.Kind, c.Version, c.EnabledAt, c.UpdatedAt, c.CreatedAt = old.Kind, old.Version+1, enabledAt, now, old.CreatedAt
		if audit.Action == "" {
			return nil
		}
		return insertAudit(tx, audit, now)
	})
}

// moveCursors moves each cursor row, lease and counts included. A row
// already under the new id is a deleted source's (names are unique among
// configured sources): it is dropped, since the renamed source must go on
// from its own cursor, or start afresh when it had none, never from
// another source's. A poll of the old id still running then fails to
// commit (its lease is on an id that no longer exists) and stores
// nothing; the next poll under the new id reads it again.
func moveCursors(tx *gorm.DB, moves []CursorMove) error {
	for _, m := range moves {
		if m.From == m.To {
			continue
		}
		if err := tx.Exec(`DELETE FROM source_cursors WHERE source_id = ?`, m.To).Error; err != nil {
			return fmt.Errorf("store: move cursor %s: %w", m.From, err)
		}
		if err := tx.Exec(`UPDATE source_cursors SET source_id = ? WHERE source_id = ?`, m.To, m.From).Error; err != nil {
			return fmt.Errorf("store: move cursor %s: %w", m.From, err)
		}
	}
	return nil
}

// DeleteSourceConfig deletes a stored source. Its cursors stay: a source
// created again under the same name goes on where this one stopped.
func (s *Store) DeleteSourceConfig(ctx context.Context, id int64, audit AuditEntry) error {
	now := ms(time.Now())
	return s.writeTx(ctx, func(tx *gorm.DB) error {
		res := tx.Delete(&SourceConfig{}, id)
		if res.Error != nil {
			return fmt.Errorf("store: delete source %d: %w", id, res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("source %d: %w", id, ErrNotFound)
		}
		return insertAudit(tx, audit, now)
	})
}

// GetSourceConfig returns one stored source.
func (s *Store) GetSourceConfig(ctx context.Context, id int64) (*SourceConfig, error) {
	var c SourceConfig
	if err := s.r.WithContext(ctx).First(&c, id).Error; err != nil {
		return nil, notFound(err, "source", id)
	}
	return &c, nil
}

// ListSourceConfigs returns the stored sources, by name.
func (s *Store) ListSourceConfigs(ctx context.Context) ([]SourceConfig, error) {
	var out []SourceConfig
	if err := s.r.WithContext(ctx).Order("name, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: list sources: %w", err)
	}
	return out, nil
}

// SourceConfigStamp changes whenever a stored source is created, changed
// or deleted (as ConfigStamp does for configurations).
func (s *Store) SourceConfigStamp(ctx context.Context) (string, error) {
	return s.tableStamp(ctx, "source_configs")
}
