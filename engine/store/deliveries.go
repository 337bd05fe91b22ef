package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Delivery states. pending and retrying are due at run_at; running holds a
// lease; done, failed and skipped are final until an admin retries.
const (
	StatePending  = "pending"
	StateRunning  = "running"
	StateRetrying = "retrying"
	StateDone     = "done"
	StateFailed   = "failed"
	StateSkipped  = "skipped"
)

// Delivery is one event handed to one configuration.
type Delivery struct {
	ID          int64 `gorm:"primaryKey"`
	EventID     int64
	ConfigID    int64
	Plugin      string
	LSID        string `gorm:"column:lsid"`
	State       string
	Attempts    int
	MaxAttempts int
	RunAt       int64
	LeaseOwner  string
	LeaseUntil  int64
	// LeaseToken is the fencing token of the running attempt's claim.
	LeaseToken string
	// Snoozes counts the RetryAfters in a row since the last other outcome.
	Snoozes    int
	Checkpoint string
	LastError  string
	Result     string
	// Records is the JSON array of what the last attempt wrote
	// (engine.Record), empty when it recorded nothing.
	Records    string
	CreatedAt  int64 `gorm:"autoCreateTime:false"`
	UpdatedAt  int64 `gorm:"autoUpdateTime:false"`
	FinishedAt int64
	// Event is set on a delivery claimed at insert whose event that
	// insert stored: the row as GetEvent would read it, so that the
	// worker need not read it back. Nil on every delivery read from the
	// database.
	Event *Event `gorm:"-" json:"-"`
}

// TableName maps Delivery to its table.
func (Delivery) TableName() string { return "deliveries" }

// NextRun is when a pending or retrying delivery is due.
func (d *Delivery) NextRun() time.Time { return fromMS(d.RunAt) }

// Finished is when the delivery reached a final state.
func (d *Delivery) Finished() time.Time { return fromMS(d.FinishedAt) }

// Updated is when the delivery last changed.
func (d *Delivery) Updated() time.Time { return fromMS(d.UpdatedAt) }

// CheckpointValues decodes the checkpoint.
func (d *Delivery) CheckpointValues() map[string]string {
	out := map[string]string{}
	_ = json.Unmarshal([]byte(d.Checkpoint), &out)
	return out
}

// Attempt is one recorded try of a delivery.
type Attempt struct {
	ID         int64 `gorm:"primaryKey"`
	DeliveryID int64
	Number     int
	StartedAt  int64
	DurationMS int64
	Outcome    string
	Error      string
}

// TableName maps Attempt to its table.
func (Attempt) TableName() string { return "delivery_attempts" }

// Started is when the attempt began.
func (a *Attempt) Started() time.Time { return fromMS(a.StartedAt) }

// oneMoreAttempt grants a delivery whose attempts are spent one more (the
// two-argument MAX of SQLite is GREATEST on PostgreSQL; CASE is both).
const oneMoreAttempt = `CASE WHEN max_attempts > attempts THEN max_attempts ELSE attempts + 1 END`

// ErrState means the delivery is in a state that does not allow the action.
var ErrState = errors.New("not possible in its current state")

// RetryNow makes a failed, skipped or waiting delivery due now, granting one
// more attempt if its attempts are spent, and records audit in the same
// transaction.
func (s *Store) RetryNow(ctx context.Context, id int64, audit AuditEntry) error {
	now := ms(time.Now())
	return s.writeTx(ctx, func(tx *gorm.DB) error {
		var d Delivery
		if err := s.forUpdate(tx).First(&d, id).Error; err != nil {
			return notFound(err, "delivery", id)
		}
		if d.State == StateRunning {
			return fmt.Errorf("delivery %d is running now; wait for it to finish: %w", id, ErrState)
		}
		if d.State == StateDone {
			return fmt.Errorf("delivery %d already succeeded; replay its event to run it again: %w", id, ErrState)
		}
		if err := tx.Exec(`UPDATE deliveries SET state = 'pending', run_at = ?, finished_at = 0, updated_at = ?, snoozes = 0,
			max_attempts = `+oneMoreAttempt+` WHERE id = ?`, now, now, id).Error; err != nil {
			return err
		}
		if err := s.notifyWork(tx); err != nil {
			return err
		}
		return insertAudit(tx, audit, now)
	})
}

// Replay actions, per configuration.
const (
	ReplayRerun   = "rerun"   // its existing delivery runs again
	ReplayAdded   = "added"   // it had no delivery of the event; it has one now
	ReplayRunning = "running" // its delivery is running now and was left to finish
)

// Replayed is what a replay did for one configuration.
type Replayed struct {
	ConfigID   int64
	DeliveryID int64
	Action     string
}

// Replay hands an event again to the configurations of routes, in one
// transaction with audit: a configuration's finished or waiting delivery
// runs again (keeping its checkpoint, so writes it already made are not
// made twice), one that is running is left alone, and a configuration
// without a delivery of the event gets one. Deliveries of configurations
// not in routes are not touched.
func (s *Store) Replay(ctx context.Context, eventID int64, lsid string, routes []NewDelivery, audit AuditEntry) ([]Replayed, error) {
	now := ms(time.Now())
	var out []Replayed
	err := s.writeTx(ctx, func(tx *gorm.DB) error {
		out = out[:0]
		for _, r := range routes {
			var rerun []int64
			if err := tx.Raw(`UPDATE deliveries SET state = 'pending', run_at = ?, finished_at = 0, updated_at = ?, snoozes = 0,
					max_attempts = `+oneMoreAttempt+`
				WHERE event_id = ? AND config_id = ? AND state != 'running' RETURNING id`,
				now, now, eventID, r.ConfigID).Scan(&rerun).Error; err != nil {
				return err
			}
			if len(rerun) == 1 {
				out = append(out, Replayed{ConfigID: r.ConfigID, DeliveryID: rerun[0], Action: ReplayRerun})
				continue
			}
			var added []int64
			if err := tx.Raw(`INSERT INTO deliveries (event_id, config_id, plugin, lsid, state, max_attempts, run_at, created_at, updated_at)
				VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?) ON CONFLICT (event_id, config_id) DO NOTHING RETURNING id`,
				eventID, r.ConfigID, r.Plugin, lsid, r.MaxAttempts, now, now, now).Scan(&added).Error; err != nil {
				return err
			}
			if len(added) == 1 {
				out = append(out, Replayed{ConfigID: r.ConfigID, DeliveryID: added[0], Action: ReplayAdded})
				continue
			}
			var running int64
			if err := tx.Raw(`SELECT id FROM deliveries WHERE event_id = ? AND config_id = ?`, eventID, r.ConfigID).Scan(&running).Error; err != nil {
				return err
			}
			out = append(out, Replayed{ConfigID: r.ConfigID, DeliveryID: running, Action: ReplayRunning})
		}
		if len(routes) > 0 {
			if err := tx.Exec(`UPDATE events SET routing = ?, reason = '' WHERE id = ?`, Routed, eventID).Error; err != nil {
				return err
			}
			if err := s.notifyWork(tx); err != nil {
				return err
			}
		}
		return insertAudit(tx, audit, now)
	})
	if err != nil {
		return nil, classify(fmt.Sprintf("replay event %d", eventID), err)
	}
	return out, nil
}

// DeliveryFilter narrows ListDeliveries. Zero fields do not filter.
type DeliveryFilter struct {
	EventID int64
	// EventIDs, when not empty, keeps the deliveries of these events.
	EventIDs []int64
	ConfigID int64
	State    string
	Limit    int
	BeforeID int64
}

// ListDeliveries returns deliveries newest first.
func (s *Store) ListDeliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error) {
	q := s.r.WithContext(ctx).Order("id DESC").Limit(limit(f.Limit))
	if f.EventID != 0 {
		q = q.Where("event_id = ?", f.EventID)
	}
	if len(f.EventIDs) > 0 {
		q = q.Where("event_id IN ?", f.EventIDs)
	}
	if f.ConfigID != 0 {
		q = q.Where("config_id = ?", f.ConfigID)
	}
	if f.State != "" {
		q = q.Where("state = ?", f.State)
	}
	if f.BeforeID != 0 {
		q = q.Where("id < ?", f.BeforeID)
	}
	var out []Delivery
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: list deliveries: %w", err)
	}
	return out, nil
}

// GetDelivery returns one delivery.
func (s *Store) GetDelivery(ctx context.Context, id int64) (*Delivery, error) {
	var d Delivery
	if err := s.r.WithContext(ctx).First(&d, id).Error; err != nil {
		return nil, notFound(err, "delivery", id)
	}
	return &d, nil
}

// Attempts returns a delivery's attempt history, oldest first.
func (s *Store) Attempts(ctx context.Context, deliveryID int64) ([]Attempt, error) {
	var out []Attempt
	if err := s.r.WithContext(ctx).Where("delivery_id = ?", deliveryID).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: attempts of delivery %d: %w", deliveryID, err)
	}
	return out, nil
}

// LastDelivery returns the most recently updated finished delivery of a
// configuration, for its status badge.
func (s *Store) LastDelivery(ctx context.Context, configID int64) (*Delivery, error) {
	var d Delivery
	err := s.r.WithContext(ctx).Where("config_id = ?", configID).Order("updated_at DESC, id DESC").Limit(1).Find(&d).Error
	if err != nil {
		return nil, fmt.Errorf("store: last delivery of configuration %d: %w", configID, err)
	}
	if d.ID == 0 {
		return nil, nil
	}
	return &d, nil
}

// QueueStats is what /metrics reports about the queue.
type QueueStats struct {
	ByState map[string]int
	// OldestDue is the run time of the oldest due pending or retrying
	// delivery (zero when none is due).
	OldestDue time.Time
}

// Stats counts deliveries by state.
func (s *Store) Stats(ctx context.Context, now time.Time) (QueueStats, error) {
	var rows []struct {
		State string
		N     int
	}
	if err := s.r.WithContext(ctx).Raw(`SELECT state, COUNT(*) AS n FROM deliveries GROUP BY state`).Scan(&rows).Error; err != nil {
		return QueueStats{}, classify("queue stats", err)
	}
	st := QueueStats{ByState: map[string]int{}}
	for _, r := range rows {
		st.ByState[r.State] = r.N
	}
	var oldest *int64
	if err := s.r.WithContext(ctx).Raw(`SELECT MIN(run_at) FROM deliveries WHERE state IN ('pending', 'retrying') AND run_at <= ?`, ms(now)).Scan(&oldest).Error; err != nil {
		return QueueStats{}, classify("queue stats", err)
	}
	if oldest != nil {
		st.OldestDue = fromMS(*oldest)
	}
	return st, nil
}

// Purge deletes deliveries that finished before cutoff, and events received
// before cutoff that have no deliveries left. It works in bounded batches so
// that the writer is never held for long.
func (s *Store) Purge(ctx context.Context, cutoff time.Time) (deliveries, events int, err error) {
	c := ms(cutoff)
	for {
		var n int64
		err = s.writeTx(ctx, func(tx *gorm.DB) error {
			res := tx.Exec(`DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries
				WHERE state IN ('done', 'failed', 'skipped') AND finished_at > 0 AND finished_at < ? LIMIT 500)`, c)
			n = res.RowsAffected
			return res.Error
		})
		if err != nil {
			return deliveries, events, classify("purge deliveries", err)
		}
		deliveries += int(n)
		if n < 500 {
			break
		}
	}
	for {
		var n int64
		err = s.writeTx(ctx, func(tx *gorm.DB) error {
			res := tx.Exec(`DELETE FROM events WHERE id IN (SELECT ev.id FROM events ev
				WHERE ev.received_at < ? AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = ev.id) LIMIT 500)`, c)
			n = res.RowsAffected
			return res.Error
		})
		if err != nil {
			return deliveries, events, classify("purge events", err)
		}
		events += int(n)
		if n < 500 {
			break
		}
	}
	return deliveries, events, nil
}
