package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"time"

	"gorm.io/gorm"
)

// Routing results of an event.
const (
	Routed   = "routed"
	Unrouted = "unrouted"
)

// Event is a stored event.
type Event struct {
	ID          int64 `gorm:"primaryKey"`
	DedupeKey   string
	ApplianceID string
	Name        string
	Source      string
	LSID        string `gorm:"column:lsid"`
	ExternalKey string
	OccurredAt  int64
	ReceivedAt  int64
	Fields      string
	Routing     string
	Reason      string
}

// TableName maps Event to its table.
func (Event) TableName() string { return "events" }

// Occurred is when the appliance says the event happened.
func (e *Event) Occurred() time.Time { return fromMS(e.OccurredAt) }

// Received is when Switchboard stored it.
func (e *Event) Received() time.Time { return fromMS(e.ReceivedAt) }

// Values decodes the posted fields. They are kept form-encoded, which
// holds any bytes the appliance sent (JSON would replace invalid UTF-8).
func (e *Event) Values() url.Values {
	v, _ := url.ParseQuery(e.Fields)
	return v
}

// NewEvent is an event to store with the deliveries it routes to.
type NewEvent struct {
	Event      Event
	Deliveries []NewDelivery
}

// NewDelivery is one configuration an event goes to.
type NewDelivery struct {
	ConfigID    int64
	Plugin      string
	MaxAttempts int
}

// Inserted says what became of one NewEvent.
type Inserted struct {
	EventID int64
	// Duplicate means the event was already stored.
	Duplicate bool
	// Deliveries counts the deliveries added.
	Deliveries int
}

// InsertEvents stores a batch of events and their deliveries in one
// transaction: the intake's group commit, and the poller's events together
// with its cursor (after runs inside the same transaction). An event whose
// dedupe key is already stored is reported as a duplicate and not stored
// again, but a configuration that has no delivery of it yet gets one: the
// session-end a configuration found by polling may already be stored for
// another configuration. Either the whole batch is committed or none of it.
func (s *Store) InsertEvents(ctx context.Context, batch []*NewEvent, after func(tx *sql.Tx) error) ([]Inserted, error) {
	sqlDB, err := s.w.DB()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	tx, err := sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: begin: %v", ErrUnavailable, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	insEvent, err := tx.PrepareContext(ctx, `INSERT INTO events
		(dedupe_key, appliance_id, name, source, lsid, external_key, occurred_at, received_at, fields, routing, reason)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`)
	if err != nil {
		return nil, fmt.Errorf("%w: prepare: %v", ErrUnavailable, err)
	}
	defer insEvent.Close()
	insDelivery, err := tx.PrepareContext(ctx, `INSERT INTO deliveries
		(event_id, config_id, plugin, lsid, state, max_attempts, run_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?)
		ON CONFLICT (event_id, config_id) DO NOTHING`)
	if err != nil {
		return nil, fmt.Errorf("%w: prepare: %v", ErrUnavailable, err)
	}
	defer insDelivery.Close()
	existing, err := tx.PrepareContext(ctx, `SELECT id FROM events WHERE dedupe_key = ?`)
	if err != nil {
		return nil, fmt.Errorf("%w: prepare: %v", ErrUnavailable, err)
	}
	defer existing.Close()

	now := ms(time.Now())
	out := make([]Inserted, len(batch))
	for i, ne := range batch {
		e := &ne.Event
		if e.ReceivedAt == 0 {
			e.ReceivedAt = now
		}
		var id int64
		err := insEvent.QueryRowContext(ctx, e.DedupeKey, e.ApplianceID, e.Name, e.Source, e.LSID, e.ExternalKey,
			e.OccurredAt, e.ReceivedAt, e.Fields, e.Routing, e.Reason).Scan(&id)
		duplicate := err == sql.ErrNoRows
		if duplicate {
			err = existing.QueryRowContext(ctx, e.DedupeKey).Scan(&id)
		}
		if err != nil {
			return nil, classify("insert event", err)
		}
		e.ID = id
		out[i] = Inserted{EventID: id, Duplicate: duplicate}
		for _, d := range ne.Deliveries {
			res, err := insDelivery.ExecContext(ctx, id, d.ConfigID, d.Plugin, e.LSID, d.MaxAttempts, now, now, now)
			if err != nil {
				return nil, classify("insert delivery", err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				out[i].Deliveries++
			}
		}
	}
	if after != nil {
		if err := after(tx); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("%w: commit: %v", ErrUnavailable, err)
	}
	return out, nil
}

func classify(op string, err error) error {
	if isUnavailable(err) {
		return fmt.Errorf("%w: %s: %v", ErrUnavailable, op, err)
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// EventFilter narrows ListEvents. Zero fields do not filter.
type EventFilter struct {
	ConfigID int64
	State    string // delivery state
	Name     string
	Routing  string
	LSID     string
	Since    time.Time
	Until    time.Time
	BeforeID int64 // for paging: events older than this id
	Limit    int
}

// ListEvents returns events newest first.
func (s *Store) ListEvents(ctx context.Context, f EventFilter) ([]Event, error) {
	q := s.r.WithContext(ctx).Model(&Event{}).Order("events.id DESC").Limit(limit(f.Limit))
	if f.ConfigID != 0 || f.State != "" {
		sub := s.r.Model(&Delivery{}).Select("event_id")
		if f.ConfigID != 0 {
			sub = sub.Where("config_id = ?", f.ConfigID)
		}
		if f.State != "" {
			sub = sub.Where("state = ?", f.State)
		}
		q = q.Where("events.id IN (?)", sub)
	}
	if f.Name != "" {
		q = q.Where("name = ?", f.Name)
	}
	if f.Routing != "" {
		q = q.Where("routing = ?", f.Routing)
	}
	if f.LSID != "" {
		q = q.Where("lsid = ?", f.LSID)
	}
	if !f.Since.IsZero() {
		q = q.Where("received_at >= ?", ms(f.Since))
	}
	if !f.Until.IsZero() {
		q = q.Where("received_at < ?", ms(f.Until))
	}
	if f.BeforeID != 0 {
		q = q.Where("events.id < ?", f.BeforeID)
	}
	var out []Event
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: list events: %w", err)
	}
	return out, nil
}

// GetEvent returns one event.
func (s *Store) GetEvent(ctx context.Context, id int64) (*Event, error) {
	var e Event
	if err := s.r.WithContext(ctx).First(&e, id).Error; err != nil {
		return nil, notFound(err, "event", id)
	}
	return &e, nil
}

// EventsByIDs loads several events at once.
func (s *Store) EventsByIDs(ctx context.Context, ids []int64) (map[int64]*Event, error) {
	var rows []Event
	if err := s.r.WithContext(ctx).Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: load events: %w", err)
	}
	out := make(map[int64]*Event, len(rows))
	for i := range rows {
		out[rows[i].ID] = &rows[i]
	}
	return out, nil
}

// AddDeliveries routes an existing event to more configurations (a replay
// to a configuration added since). Existing deliveries are left alone.
func (s *Store) AddDeliveries(ctx context.Context, eventID int64, lsid string, ds []NewDelivery) (int, error) {
	now := ms(time.Now())
	added := 0
	err := s.writeTx(ctx, func(tx *gorm.DB) error {
		for _, d := range ds {
			res := tx.Exec(`INSERT INTO deliveries (event_id, config_id, plugin, lsid, state, max_attempts, run_at, created_at, updated_at)
				VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?) ON CONFLICT (event_id, config_id) DO NOTHING`,
				eventID, d.ConfigID, d.Plugin, lsid, d.MaxAttempts, now, now, now)
			if res.Error != nil {
				return fmt.Errorf("store: add delivery: %w", res.Error)
			}
			added += int(res.RowsAffected)
		}
		if added > 0 {
			return tx.Exec(`UPDATE events SET routing = ?, reason = '' WHERE id = ?`, Routed, eventID).Error
		}
		return nil
	})
	return added, err
}

func limit(n int) int {
	if n <= 0 || n > 1000 {
		return 100
	}
	return n
}
