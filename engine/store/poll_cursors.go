package store

import (
	"context"
	"fmt"
	"time"
)

// PollCursor is the polling state of one configuration.
type PollCursor struct {
	ConfigID      int64 `gorm:"primaryKey"`
	CursorAt      int64
	LastPollAt    int64
	LastSuccessAt int64
	LastError     string
	LeaseOwner    string
	LeaseUntil    int64
}

// TableName maps PollCursor to its table.
func (PollCursor) TableName() string { return "poll_cursors" }

// Cursor is where the next poll starts.
func (p *PollCursor) Cursor() time.Time { return fromMS(p.CursorAt) }

// LastPoll is when the configuration was last polled.
func (p *PollCursor) LastPoll() time.Time { return fromMS(p.LastPollAt) }

// LastSuccess is when a poll last succeeded.
func (p *PollCursor) LastSuccess() time.Time { return fromMS(p.LastSuccessAt) }

// ListPollCursors returns the polling state of every configuration polled so far.
func (s *Store) ListPollCursors(ctx context.Context) ([]PollCursor, error) {
	var out []PollCursor
	if err := s.r.WithContext(ctx).Order("config_id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: poll cursors: %w", err)
	}
	return out, nil
}

// GetPollCursor returns one configuration's polling state, or nil if it
// has never been polled.
func (s *Store) GetPollCursor(ctx context.Context, configID int64) (*PollCursor, error) {
	var out []PollCursor
	if err := s.r.WithContext(ctx).Where("config_id = ?", configID).Limit(1).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: poll cursor of configuration %d: %w", configID, err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return &out[0], nil
}
