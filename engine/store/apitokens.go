package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// APIToken is a token scripts and SOAR tools present to the JSON API. Only
// a hash of the token is kept; Prefix is its short, non-secret id.
type APIToken struct {
	ID         int64 `gorm:"primaryKey"`
	Name       string
	Prefix     string
	TokenHash  string
	Scope      string
	CreatedBy  string
	CreatedAt  int64 `gorm:"autoCreateTime:false"`
	LastUsedAt int64
	RevokedAt  int64
}

// TableName maps APIToken to its table.
func (APIToken) TableName() string { return "api_tokens" }

// CreateAPIToken adds a token, and audit, in one transaction.
func (s *Store) CreateAPIToken(ctx context.Context, t *APIToken, audit AuditEntry) error {
	now := ms(time.Now())
	return s.writeTx(ctx, func(tx *gorm.DB) error {
		t.CreatedAt = now
		if err := tx.Create(t).Error; err != nil {
			return fmt.Errorf("store: create API token %q: %w", t.Name, err)
		}
		return insertAudit(tx, audit, now)
	})
}

// ListAPITokens returns every token, newest first, revoked ones included.
func (s *Store) ListAPITokens(ctx context.Context) ([]APIToken, error) {
	var out []APIToken
	if err := s.r.WithContext(ctx).Order("id DESC").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: list API tokens: %w", err)
	}
	return out, nil
}

// APITokensByPrefix returns the tokens, revoked or not, whose prefix is
// prefix (the caller compares the hash).
func (s *Store) APITokensByPrefix(ctx context.Context, prefix string) ([]APIToken, error) {
	var out []APIToken
	if err := s.r.WithContext(ctx).Where("prefix = ?", prefix).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: find API token: %w", err)
	}
	return out, nil
}

// RevokeAPIToken revokes the token id, with audit. Revoking a revoked
// token changes nothing and is no error; an unknown id is ErrNotFound.
func (s *Store) RevokeAPIToken(ctx context.Context, id int64, audit AuditEntry) error {
	now := ms(time.Now())
	return s.writeTx(ctx, func(tx *gorm.DB) error {
		var found []APIToken
		if err := tx.Where("id = ?", id).Limit(1).Find(&found).Error; err != nil {
			return fmt.Errorf("store: API token %d: %w", id, err)
		}
		if len(found) == 0 {
			return fmt.Errorf("API token %d: %w", id, ErrNotFound)
		}
		if found[0].RevokedAt != 0 {
			return nil
		}
		if err := tx.Exec(`UPDATE api_tokens SET revoked_at = ? WHERE id = ?`, now, id).Error; err != nil {
			return fmt.Errorf("store: revoke API token %d: %w", id, err)
		}
		return insertAudit(tx, audit, now)
	})
}

// TouchAPIToken records that the token id was used at t.
func (s *Store) TouchAPIToken(ctx context.Context, id int64, t time.Time) error {
	return s.writeTx(ctx, func(tx *gorm.DB) error {
		err := tx.Exec(`UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND last_used_at < ?`, ms(t), id, ms(t)).Error
		if err != nil {
			return fmt.Errorf("store: note the use of API token %d: %w", id, err)
		}
		return nil
	})
}
