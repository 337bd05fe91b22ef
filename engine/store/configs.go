package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Config is a stored configuration. Settings is JSON without secrets;
// Secrets is the sealed JSON of the secret fields (see package secretbox).
type Config struct {
	ID          int64 `gorm:"primaryKey"`
	Plugin      string
	Name        string
	ApplianceID string
	Disabled    bool
	Settings    string
	Secrets     []byte
	Version     int
	EnabledAt   int64
	CreatedAt   int64 `gorm:"autoCreateTime:false"`
	UpdatedAt   int64 `gorm:"autoUpdateTime:false"`
}

// TableName maps Config to its table.
func (Config) TableName() string { return "configurations" }

// Enabled is when the configuration was last enabled (polling starts there).
func (c *Config) Enabled() time.Time { return fromMS(c.EnabledAt) }

// Updated is when the configuration last changed.
func (c *Config) Updated() time.Time { return fromMS(c.UpdatedAt) }

// Created is when the configuration was created.
func (c *Config) Created() time.Time { return fromMS(c.CreatedAt) }

// AuditEntry is one recorded change of a configuration.
type AuditEntry struct {
	ID       int64 `gorm:"primaryKey"`
	At       int64
	Actor    string
	Action   string
	ConfigID int64
	Summary  string
	Changes  string
}

// TableName maps AuditEntry to its table.
func (AuditEntry) TableName() string { return "audit_log" }

// When is the time of the change.
func (a *AuditEntry) When() time.Time { return fromMS(a.At) }

// Seal computes a new configuration's stored settings and sealed secrets
// once its id is known: the secrets are sealed for that id.
type Seal func(id int64) (settings string, secrets []byte, err error)

// CreateConfig inserts c and its audit entry in one transaction. When seal
// is not nil it fills Settings and Secrets for the new id inside the same
// transaction, so a configuration never exists half-written.
func (s *Store) CreateConfig(ctx context.Context, c *Config, audit AuditEntry, seal Seal) error {
	now := ms(time.Now())
	c.CreatedAt, c.UpdatedAt, c.Version = now, now, 1
	if !c.Disabled {
		c.EnabledAt = now
	}
	if seal != nil {
		c.Settings = "{}"
	}
	return s.writeTx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(c).Error; err != nil {
			return fmt.Errorf("store: create configuration: %w", err)
		}
		if seal != nil {
			var err error
			if c.Settings, c.Secrets, err = seal(c.ID); err != nil {
				return err
			}
			if err := tx.Model(&Config{}).Where("id = ?", c.ID).
				Updates(map[string]any{"settings": c.Settings, "secrets": c.Secrets}).Error; err != nil {
				return fmt.Errorf("store: create configuration: %w", err)
			}
		}
		audit.ConfigID = c.ID
		return insertAudit(tx, audit, now)
	})
}

// UpdateConfig replaces the stored configuration c.ID if its version is
// still c.Version (optimistic locking: two admins editing at once must not
// silently overwrite each other), and bumps the version. An audit entry
// without an Action is not written (a save that changed nothing).
func (s *Store) UpdateConfig(ctx context.Context, c *Config, audit AuditEntry) error {
	now := ms(time.Now())
	return s.writeTx(ctx, func(tx *gorm.DB) error {
		var old Config
		if err := s.forUpdate(tx).First(&old, c.ID).Error; err != nil {
			return notFound(err, "configuration", c.ID)
		}
		if c.Version != 0 && old.Version != c.Version {
			return ErrConflict
		}
		enabledAt := old.EnabledAt
		if old.Disabled && !c.Disabled {
			enabledAt = now
		}
		res := tx.Model(&Config{}).Where("id = ?", c.ID).Updates(map[string]any{
			"plugin": c.Plugin, "name": c.Name, "appliance_id": c.ApplianceID,
			"disabled": c.Disabled, "settings": c.Settings, "secrets": c.Secrets,
			"version": old.Version + 1, "enabled_at": enabledAt, "updated_at": now,
		})
		if res.Error != nil {
			return fmt.Errorf("store: update configuration %d: %w", c.ID, res.Error)
		}
		c.Version, c.EnabledAt, c.UpdatedAt, c.CreatedAt = old.Version+1, enabledAt, now, old.CreatedAt
		if audit.Action == "" {
			return nil
		}
		audit.ConfigID = c.ID
		return insertAudit(tx, audit, now)
	})
}

// ErrConflict means the row changed since it was read.
var ErrConflict = errors.New("the configuration was changed by someone else meanwhile; reload it and apply your change again")

// DeleteConfig deletes a configuration with its deliveries, links and cursor.
func (s *Store) DeleteConfig(ctx context.Context, id int64, audit AuditEntry) error {
	now := ms(time.Now())
	return s.writeTx(ctx, func(tx *gorm.DB) error {
		res := tx.Delete(&Config{}, id)
		if res.Error != nil {
			return fmt.Errorf("store: delete configuration %d: %w", id, res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("configuration %d: %w", id, ErrNotFound)
		}
		audit.ConfigID = id
		return insertAudit(tx, audit, now)
	})
}

// GetConfig returns one configuration.
func (s *Store) GetConfig(ctx context.Context, id int64) (*Config, error) {
	var c Config
	if err := s.r.WithContext(ctx).First(&c, id).Error; err != nil {
		return nil, notFound(err, "configuration", id)
	}
	return &c, nil
}

// ListConfigs returns the configurations of a plugin ("" for all), by name.
func (s *Store) ListConfigs(ctx context.Context, plugin string) ([]Config, error) {
	q := s.r.WithContext(ctx).Order("plugin, name, id")
	if plugin != "" {
		q = q.Where("plugin = ?", plugin)
	}
	var out []Config
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: list configurations: %w", err)
	}
	return out, nil
}

// Audit returns the newest audit entries first.
func (s *Store) Audit(ctx context.Context, limit int) ([]AuditEntry, error) {
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	var out []AuditEntry
	if err := s.r.WithContext(ctx).Order("id DESC").Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: audit log: %w", err)
	}
	return out, nil
}

// AddAudit records an action that changed no configuration row (a retry,
// a replay).
func (s *Store) AddAudit(ctx context.Context, a AuditEntry) error {
	return s.writeTx(ctx, func(tx *gorm.DB) error { return insertAudit(tx, a, ms(time.Now())) })
}

func insertAudit(tx *gorm.DB, a AuditEntry, now int64) error {
	a.ID, a.At = 0, now
	if a.Changes == "" {
		a.Changes = "[]"
	}
	if err := tx.Create(&a).Error; err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	return nil
}

func notFound(err error, what string, id int64) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("%s %d: %w", what, id, ErrNotFound)
	}
	return fmt.Errorf("store: get %s %d: %w", what, id, err)
}

// ConfigStamp changes whenever a configuration is created, changed or
// deleted: creating raises the largest id (PostgreSQL never hands an id
// out twice), every change raises a version, deleting lowers the count.
// Engines sharing a database compare it to learn of each other's edits.
func (s *Store) ConfigStamp(ctx context.Context) (string, error) {
	return s.tableStamp(ctx, "configurations")
}

// tableStamp is the count, largest id, sum of versions and latest update
// of a table of versioned rows (configurations, source_configs).
func (s *Store) tableStamp(ctx context.Context, table string) (string, error) {
	var st struct{ N, MaxID, Versions, Updated int64 }
	err := s.r.WithContext(ctx).Raw("SELECT COUNT(*) AS n, COALESCE(MAX(id), 0) AS max_id, " +
		"COALESCE(SUM(version), 0) AS versions, COALESCE(MAX(updated_at), 0) AS updated FROM " + table).Scan(&st).Error
	if err != nil {
		return "", fmt.Errorf("store: %s stamp: %w", table, err)
	}
	return fmt.Sprintf("%d/%d/%d/%d", st.N, st.MaxID, st.Versions, st.Updated), nil
}
