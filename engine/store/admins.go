package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// ErrAdminNameTaken is returned when an account with the username exists.
var ErrAdminNameTaken = errors.New("an admin account with that username exists already")

// ErrLastAdmin is returned when a change would leave no enabled admin
// account: nobody could sign in any more.
var ErrLastAdmin = errors.New("it is the last enabled admin account")

// ListAdminUsers returns every admin account, by username.
func (s *Store) ListAdminUsers(ctx context.Context) ([]AdminUser, error) {
	var out []AdminUser
	if err := s.r.WithContext(ctx).Order("username").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: list admin users: %w", err)
	}
	return out, nil
}

// CreateAdminUser adds an account, and audit, in one transaction.
func (s *Store) CreateAdminUser(ctx context.Context, u *AdminUser, audit AuditEntry) error {
	now := time.Now()
	return s.writeTx(ctx, func(tx *gorm.DB) error {
		// Two creates of one name at once: the second waits, then finds it.
		if err := s.lockTable(tx, "admin_users"); err != nil {
			return fmt.Errorf("store: lock admin users: %w", err)
		}
		var n int64
		if err := tx.Model(&AdminUser{}).Where("username = ?", u.Username).Count(&n).Error; err != nil {
			return fmt.Errorf("store: check admin username: %w", err)
		}
		if n > 0 {
			return ErrAdminNameTaken
		}
		u.CreatedAt, u.UpdatedAt = ms(now), ms(now)
		if err := tx.Create(u).Error; err != nil {
			return fmt.Errorf("store: create admin user %q: %w", u.Username, err)
		}
		return insertAudit(tx, audit, ms(now))
	})
}

// SetAdminDisabled disables (ending its sessions) or enables the account
// id, with audit, unless disabling it would leave no enabled account. The
// check is part of the UPDATE, so two admins disabling each other at once
// cannot both succeed.
func (s *Store) SetAdminDisabled(ctx context.Context, id int64, disabled bool, audit AuditEntry) error {
	now := ms(time.Now())
	return s.writeTx(ctx, func(tx *gorm.DB) error {
		if !disabled {
			res := tx.Exec(`UPDATE admin_users SET disabled_at = 0, updated_at = ? WHERE id = ?`, now, id)
			if res.Error != nil {
				return fmt.Errorf("store: enable admin user %d: %w", id, res.Error)
			}
			if res.RowsAffected == 0 {
				return fmt.Errorf("admin user %d: %w", id, ErrNotFound)
			}
			return insertAudit(tx, audit, now)
		}
		if err := s.lockTable(tx, "admin_users"); err != nil {
			return fmt.Errorf("store: lock admin users: %w", err)
		}
		res := tx.Exec(`UPDATE admin_users SET disabled_at = ?, updated_at = ? WHERE id = ? AND disabled_at = 0
			AND EXISTS (SELECT 1 FROM admin_users o WHERE o.id <> ? AND o.disabled_at = 0)`, now, now, id, id)
		if res.Error != nil {
			return fmt.Errorf("store: disable admin user %d: %w", id, res.Error)
		}
		if res.RowsAffected == 0 {
			return s.whyNotChanged(tx, id, true)
		}
		if err := tx.Where("user_id = ?", id).Delete(&AdminSession{}).Error; err != nil {
			return fmt.Errorf("store: end the sessions of admin user %d: %w", id, err)
		}
		return insertAudit(tx, audit, now)
	})
}

// DeleteAdminUser removes the account id and its sessions, with audit,
// unless it is the last enabled account.
func (s *Store) DeleteAdminUser(ctx context.Context, id int64, audit AuditEntry) error {
	now := ms(time.Now())
	return s.writeTx(ctx, func(tx *gorm.DB) error {
		if err := s.lockTable(tx, "admin_users"); err != nil {
			return fmt.Errorf("store: lock admin users: %w", err)
		}
		if err := tx.Where("user_id = ?", id).Delete(&AdminSession{}).Error; err != nil {
			return fmt.Errorf("store: end the sessions of admin user %d: %w", id, err)
		}
		res := tx.Exec(`DELETE FROM admin_users WHERE id = ?
			AND (disabled_at <> 0 OR EXISTS (SELECT 1 FROM admin_users o WHERE o.id <> ? AND o.disabled_at = 0))`, id, id)
		if res.Error != nil {
			return fmt.Errorf("store: delete admin user %d: %w", id, res.Error)
		}
		if res.RowsAffected == 0 {
			return s.whyNotChanged(tx, id, false)
		}
		return insertAudit(tx, audit, now)
	})
}

// whyNotChanged tells a missing account from the last enabled one (or,
// when disabling, one already disabled: no change, no error).
func (s *Store) whyNotChanged(tx *gorm.DB, id int64, disabling bool) error {
	var u []AdminUser
	if err := tx.Where("id = ?", id).Limit(1).Find(&u).Error; err != nil {
		return fmt.Errorf("store: admin user %d: %w", id, err)
	}
	switch {
	case len(u) == 0:
		return fmt.Errorf("admin user %d: %w", id, ErrNotFound)
	case disabling && u[0].DisabledAt != 0:
		return nil
	}
	return ErrLastAdmin
}
