package store

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// LoginFailures is the failed admin logins counted against one throttle
// key, and when the last one happened.
type LoginFailures struct {
	Failures int
	Last     time.Time
}

// LoginFailures reads the failures counted against keys; a key with none
// is missing from the map. Every engine of a cluster reads the same rows,
// so a guesser spreading attempts over engines is slowed down as one.
func (s *Store) LoginFailures(ctx context.Context, keys []string) (map[string]LoginFailures, error) {
	var rows []struct {
		ThrottleKey string
		Failures    int
		LastAt      int64
	}
	if err := s.r.WithContext(ctx).Raw(`SELECT throttle_key, failures, last_at FROM login_failures WHERE throttle_key IN ?`, keys).
		Scan(&rows).Error; err != nil {
		return nil, classify("read login failures", err)
	}
	out := make(map[string]LoginFailures, len(rows))
	for _, r := range rows {
		out[r.ThrottleKey] = LoginFailures{Failures: r.Failures, Last: fromMS(r.LastAt)}
	}
	return out, nil
}

// AddLoginFailure counts one failed login at now against each key. It
// adds in the statement, so failures on several engines at once all count.
func (s *Store) AddLoginFailure(ctx context.Context, keys []string, now time.Time) error {
	err := s.writeTx(ctx, func(tx *gorm.DB) error {
		for _, k := range keys {
			if err := tx.Exec(`INSERT INTO login_failures (throttle_key, failures, last_at) VALUES (?, 1, ?)
				ON CONFLICT (throttle_key) DO UPDATE SET failures = login_failures.failures + 1, last_at = excluded.last_at`,
				k, ms(now)).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return classify("count a failed login", err)
	}
	return nil
}

// ClearLoginFailures forgets the failures of keys (a login went through).
func (s *Store) ClearLoginFailures(ctx context.Context, keys []string) error {
	err := s.writeTx(ctx, func(tx *gorm.DB) error {
		return tx.Exec(`DELETE FROM login_failures WHERE throttle_key IN ?`, keys).Error
	})
	if err != nil {
		return classify("clear login failures", err)
	}
	return nil
}

// ForgetLoginFailures drops the keys whose last failure is before before,
// so a scan with random usernames cannot grow the table without bound.
func (s *Store) ForgetLoginFailures(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.writeTx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`DELETE FROM login_failures WHERE last_at < ?`, ms(before))
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return 0, classify("forget old login failures", err)
	}
	return n, nil
}
