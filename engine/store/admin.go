package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// ErrAdminExists is returned by CreateFirstAdmin when an admin account was
// created meanwhile (by another setup link, another process or the
// SWITCHBOARD_ADMIN_PASSWORD bootstrap).
var ErrAdminExists = errors.New("an admin account exists already")

// ErrSetupToken is returned when a setup token is unknown or has expired.
var ErrSetupToken = errors.New("the setup link is not valid or has expired")

// AdminUser is an account that may sign in to the admin UI and JSON API.
type AdminUser struct {
	ID           int64 `gorm:"primaryKey"`
	Username     string
	PasswordHash string
	CreatedAt    int64 `gorm:"autoCreateTime:false"`
	UpdatedAt    int64 `gorm:"autoUpdateTime:false"`
	LastLoginAt  int64
	// DisabledAt is when the account was disabled (0: enabled). A disabled
	// account cannot sign in and has no sessions.
	DisabledAt int64
}

// Disabled reports whether the account is disabled.
func (u *AdminUser) Disabled() bool { return u.DisabledAt != 0 }

// TableName maps AdminUser to its table.
func (AdminUser) TableName() string { return "admin_users" }

// AdminSession is one signed-in browser. Only a hash of its cookie token is
// stored.
type AdminSession struct {
	ID         int64 `gorm:"primaryKey"`
	TokenHash  string
	UserID     int64
	CreatedAt  int64 `gorm:"autoCreateTime:false"`
	LastSeenAt int64
	ExpiresAt  int64
	RemoteAddr string
	UserAgent  string
}

// TableName maps AdminSession to its table.
func (AdminSession) TableName() string { return "admin_sessions" }

// LastSeen is when the session was last used.
func (a *AdminSession) LastSeen() time.Time { return fromMS(a.LastSeenAt) }

type adminSetupToken struct {
	TokenHash string `gorm:"primaryKey"`
	CreatedAt int64  `gorm:"autoCreateTime:false"`
	ExpiresAt int64
}

func (adminSetupToken) TableName() string { return "admin_setup_tokens" }

// CountAdminUsers returns how many admin accounts exist.
func (s *Store) CountAdminUsers(ctx context.Context) (int64, error) {
	var n int64
	if err := s.r.WithContext(ctx).Model(&AdminUser{}).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("store: count admin users: %w", err)
	}
	return n, nil
}

// AdminUserByName returns the account with that username.
func (s *Store) AdminUserByName(ctx context.Context, username string) (*AdminUser, error) {
	var u AdminUser
	err := s.r.WithContext(ctx).Where("username = ?", username).First(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("admin user %q: %w", username, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: get admin user %q: %w", username, err)
	}
	return &u, nil
}

// CreateFirstAdmin creates u only if no admin account exists yet. When
// setupTokenHash is not empty it must name an unexpired setup token, which
// is used up together with every other outstanding one. The check and the
// insert share one immediate transaction, so two setup forms submitted at
// once cannot both succeed.
func (s *Store) CreateFirstAdmin(ctx context.Context, u *AdminUser, setupTokenHash string) error {
	now := time.Now()
	return s.writeTx(ctx, func(tx *gorm.DB) error {
		if err := s.lockTable(tx, "admin_users"); err != nil {
			return fmt.Errorf("store: lock admin users: %w", err)
		}
		if setupTokenHash != "" {
			var t adminSetupToken
			err := tx.Where("token_hash = ? AND expires_at > ?", setupTokenHash, ms(now)).First(&t).Error
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return ErrSetupToken
			}
			if err != nil {
				return fmt.Errorf("store: check setup token: %w", err)
			}
		}
		var n int64
		if err := tx.Model(&AdminUser{}).Count(&n).Error; err != nil {
			return fmt.Errorf("store: count admin users: %w", err)
		}
		if n > 0 {
			return ErrAdminExists
		}
		u.CreatedAt, u.UpdatedAt = ms(now), ms(now)
		if err := tx.Create(u).Error; err != nil {
			return fmt.Errorf("store: create admin user %q: %w", u.Username, err)
		}
		if err := tx.Where("1 = 1").Delete(&adminSetupToken{}).Error; err != nil {
			return fmt.Errorf("store: use up setup tokens: %w", err)
		}
		return nil
	})
}

// ReplaceSetupToken stores the hash of a new setup token valid until
// expires and forgets every earlier one: only the link printed last works.
func (s *Store) ReplaceSetupToken(ctx context.Context, tokenHash string, expires time.Time) error {
	return s.writeTx(ctx, func(tx *gorm.DB) error {
		if err := s.lockTable(tx, "admin_setup_tokens"); err != nil {
			return fmt.Errorf("store: lock setup tokens: %w", err)
		}
		if err := tx.Where("1 = 1").Delete(&adminSetupToken{}).Error; err != nil {
			return fmt.Errorf("store: forget setup tokens: %w", err)
		}
		t := adminSetupToken{TokenHash: tokenHash, CreatedAt: ms(time.Now()), ExpiresAt: ms(expires)}
		if err := tx.Create(&t).Error; err != nil {
			return fmt.Errorf("store: save setup token: %w", err)
		}
		return nil
	})
}

// SetupTokenValid reports whether tokenHash names an unexpired setup token.
func (s *Store) SetupTokenValid(ctx context.Context, tokenHash string) (bool, error) {
	var n int64
	err := s.r.WithContext(ctx).Model(&adminSetupToken{}).
		Where("token_hash = ? AND expires_at > ?", tokenHash, ms(time.Now())).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("store: check setup token: %w", err)
	}
	return n > 0, nil
}

// SetAdminPassword replaces a user's password hash and signs out every
// session of that user, so a changed password locks out whoever knew the
// old one.
func (s *Store) SetAdminPassword(ctx context.Context, userID int64, passwordHash string) error {
	return s.writeTx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&AdminUser{}).Where("id = ?", userID).
			Updates(map[string]any{"password_hash": passwordHash, "updated_at": ms(time.Now())})
		if res.Error != nil {
			return fmt.Errorf("store: set password of admin user %d: %w", userID, res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("admin user %d: %w", userID, ErrNotFound)
		}
		if err := tx.Where("user_id = ?", userID).Delete(&AdminSession{}).Error; err != nil {
			return fmt.Errorf("store: sign out admin user %d: %w", userID, err)
		}
		return nil
	})
}

// CreateAdminSession records a new login and the user's login time, and
// drops sessions that have expired.
func (s *Store) CreateAdminSession(ctx context.Context, sess *AdminSession) error {
	now := ms(time.Now())
	return s.writeTx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("expires_at <= ?", now).Delete(&AdminSession{}).Error; err != nil {
			return fmt.Errorf("store: drop expired admin sessions: %w", err)
		}
		sess.CreatedAt, sess.LastSeenAt = now, now
		if err := tx.Create(sess).Error; err != nil {
			return fmt.Errorf("store: create admin session: %w", err)
		}
		if err := tx.Model(&AdminUser{}).Where("id = ?", sess.UserID).Update("last_login_at", now).Error; err != nil {
			return fmt.Errorf("store: record login of admin user %d: %w", sess.UserID, err)
		}
		return nil
	})
}

// AdminSessionByToken returns the unexpired session with that token hash
// and its user.
func (s *Store) AdminSessionByToken(ctx context.Context, tokenHash string) (*AdminSession, *AdminUser, error) {
	var sess AdminSession
	err := s.r.WithContext(ctx).Where("token_hash = ? AND expires_at > ?", tokenHash, ms(time.Now())).First(&sess).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil, fmt.Errorf("admin session: %w", ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("store: get admin session: %w", err)
	}
	var u AdminUser
	if err := s.r.WithContext(ctx).First(&u, sess.UserID).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, nil, fmt.Errorf("admin user %d: %w", sess.UserID, ErrNotFound)
		}
		return nil, nil, fmt.Errorf("store: get admin user %d: %w", sess.UserID, err)
	}
	return &sess, &u, nil
}

// TouchAdminSession moves a session's expiry to expires.
func (s *Store) TouchAdminSession(ctx context.Context, id int64, expires time.Time) error {
	return s.writeTx(ctx, func(tx *gorm.DB) error {
		err := tx.Model(&AdminSession{}).Where("id = ?", id).
			Updates(map[string]any{"last_seen_at": ms(time.Now()), "expires_at": ms(expires)}).Error
		if err != nil {
			return fmt.Errorf("store: touch admin session %d: %w", id, err)
		}
		return nil
	})
}

// DeleteAdminSession signs out the session with that token hash. Deleting
// one that does not exist is not an error: the result is the same.
func (s *Store) DeleteAdminSession(ctx context.Context, tokenHash string) error {
	return s.writeTx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("token_hash = ?", tokenHash).Delete(&AdminSession{}).Error; err != nil {
			return fmt.Errorf("store: delete admin session: %w", err)
		}
		return nil
	})
}
