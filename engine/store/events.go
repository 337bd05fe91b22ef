package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
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
	// Claimed are the deliveries of this event claimed as they were
	// inserted (InsertEventsClaiming), already running under a lease.
	Claimed []Delivery
}

// NewCount is how many of ins were not stored before.
func NewCount(ins []Inserted) int {
	n := 0
	for _, in := range ins {
		if !in.Duplicate {
			n++
		}
	}
	return n
}

// InsertEvents stores a batch of events and their deliveries in one
// transaction: the intake's group commit, and the poller's events together
// with its cursor (after runs inside the same transaction). An event whose
// dedupe key is already stored is reported as a duplicate and not stored
// again, but a configuration that has no delivery of it yet gets one: the
// session-end a configuration found by polling may already be stored for
// another configuration. Either the whole batch is committed or none of it.
func (s *Store) InsertEvents(ctx context.Context, batch []*NewEvent, after func(tx *sql.Tx) error) ([]Inserted, error) {
	var then func(*sql.Tx, []Inserted) error
	if after != nil {
		then = func(tx *sql.Tx, _ []Inserted) error { return after(tx) }
	}
	return s.insertEventsThen(ctx, batch, then)
}

// InsertEventsClaiming is InsertEvents that also claims, in the same
// transaction, the deliveries it adds for which claim.Take finds a free
// worker (see InsertClaim).
func (s *Store) InsertEventsClaiming(ctx context.Context, batch []*NewEvent, claim *InsertClaim) ([]Inserted, error) {
	s.beforeWrite(ctx)
	out, err := s.insertEvents(ctx, batch, nil, claim)
	s.noteWrite(err)
	return out, err
}

// insertEventsThen is InsertEvents whose after also sees what became of
// each event (a source counts the new records in its cursor row).
func (s *Store) insertEventsThen(ctx context.Context, batch []*NewEvent, after func(tx *sql.Tx, out []Inserted) error) ([]Inserted, error) {
	s.beforeWrite(ctx)
	out, err := s.insertEvents(ctx, batch, after, nil)
	s.noteWrite(err)
	return out, err
}

func (s *Store) insertEvents(ctx context.Context, batch []*NewEvent, after func(tx *sql.Tx, out []Inserted) error, claim *InsertClaim) ([]Inserted, error) {
	sqlDB, err := s.w.DB()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if !s.pg {
		if err := s.gate.enter(ctx, true); err != nil {
			return nil, err
		}
		defer s.gate.leave()
	}
	// Statements are prepared before the transaction takes the one writer
	// connection: preparing through the pool inside it would wait forever.
	stmts, err := s.batchStatements(ctx, sqlDB, batch)
	if err != nil {
		return nil, err
	}
	s.writes.Add(1)
	tx, err := sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: begin: %w", ErrUnavailable, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	// The finishes waiting for a commit ride on this one, written first so
	// that the claims below see their deliveries finished.
	rode := s.board(ctx, tx)
	committed := false
	defer func() { rode.settle(s, committed) }()

	now := ms(time.Now())
	// Multi-row statements: a handful of SQLite calls per batch rather
	// than two per event is most of what group commit buys.
	ids := make(map[string]int64, len(batch))
	for chunk := range slices.Chunk(batch, eventsPerStatement) {
		if err := s.insertEventRows(ctx, tx, stmts.events, chunk, now, ids); err != nil {
			return nil, err
		}
	}
	out := make([]Inserted, len(batch))
	first := make(map[string]bool, len(batch))
	var missing []any
	for i, ne := range batch {
		key := ne.Event.DedupeKey
		id, inserted := ids[key]
		// Only the first of several events with one key in a batch is new.
		out[i] = Inserted{EventID: id, Duplicate: !inserted || first[key]}
		first[key] = true
		if !inserted {
			missing = append(missing, key)
		}
	}
	if len(missing) > 0 {
		if err := s.existingEventIDs(ctx, tx, missing, ids); err != nil {
			return nil, err
		}
	}
	var rows []deliveryRow
	for i, ne := range batch {
		out[i].EventID = ids[ne.Event.DedupeKey]
		ne.Event.ID = out[i].EventID
		for _, d := range ne.Deliveries {
			rows = append(rows, deliveryRow{eventID: out[i].EventID, lsid: ne.Event.LSID, d: d})
		}
	}
	if err := s.lockSessions(ctx, tx, rows); err != nil {
		return nil, err
	}
	added := make(map[int64]int, len(batch))
	var fresh []freshDelivery
	for chunk := range slices.Chunk(rows, deliveriesPerStatement) {
		if err := s.insertDeliveryRows(ctx, tx, stmts.deliveries, chunk, now, added, &fresh); err != nil {
			return nil, err
		}
	}
	claims := claim.begin(len(fresh))
	defer claims.giveBack()
	claimed, err := s.claimInserted(ctx, tx, claims, fresh, now)
	if err != nil {
		return nil, err
	}
	if s.pg && len(fresh) > len(claimed) {
		if _, err := tx.ExecContext(ctx, notifyWorkSQL); err != nil {
			return nil, classify("notify other engines", err)
		}
	}
	counted := make(map[int64]bool, len(batch))
	var rerouted []any
	for i := range out {
		if id := out[i].EventID; !counted[id] {
			counted[id] = true
			out[i].Deliveries = added[id]
			if out[i].Duplicate && added[id] > 0 {
				rerouted = append(rerouted, id)
			}
		}
	}
	// A stored event that gains a delivery now (stored unrouted, then
	// found by a poll, or posted again after a configuration was added) is
	// routed from now on.
	if len(rerouted) > 0 {
		q := `UPDATE events SET routing = ?, reason = '' WHERE routing <> ? AND id IN (?` + strings.Repeat(",?", len(rerouted)-1) + `)`
		if _, err := tx.ExecContext(ctx, s.rebind(q), append([]any{Routed, Routed}, rerouted...)...); err != nil {
			return nil, classify("route stored events", err)
		}
	}
	if after != nil {
		if err := after(tx, out); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("%w: commit: %w", ErrUnavailable, err)
	}
	committed = true
	claims.keep(claimed, out, batch)
	return out, nil
}

// Rows per multi-row INSERT, well under SQLite's limit of 32766 bound
// parameters (11 per event, 8 per delivery).
const (
	eventsPerStatement     = 500
	deliveriesPerStatement = 1000
)

// insertEventRows inserts events, skipping stored dedupe keys, and records
// the id of each one inserted.
func (s *Store) insertEventRows(ctx context.Context, tx *sql.Tx, prepared map[int]*sql.Stmt, batch []*NewEvent, now int64, ids map[string]int64) error {
	args := make([]any, 0, len(batch)*11)
	for _, ne := range batch {
		e := &ne.Event
		if e.ReceivedAt == 0 {
			e.ReceivedAt = now
		}
		e.DedupeKey, e.ExternalKey, e.Reason = storableKey(e.DedupeKey), storableText(e.ExternalKey), storableText(e.Reason)
		args = append(args, e.DedupeKey, e.ApplianceID, e.Name, e.Source, e.LSID, e.ExternalKey, e.OccurredAt, e.ReceivedAt, e.Fields, e.Routing, e.Reason)
	}
	rows, err := query(ctx, tx, prepared[len(batch)], s.rebind(insertEventsSQL(len(batch))), args)
	if err != nil {
		return classify("insert events", err)
	}
	return scanKeyIDs(rows, "insert events", ids)
}

func insertEventsSQL(n int) string {
	return `INSERT INTO events (dedupe_key, appliance_id, name, source, lsid, external_key, occurred_at, received_at, fields, routing, reason) VALUES ` +
		strings.Repeat("(?,?,?,?,?,?,?,?,?,?,?),", n-1) + `(?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (dedupe_key) DO NOTHING RETURNING dedupe_key, id`
}

func insertDeliveriesSQL(n int) string {
	return `INSERT INTO deliveries (event_id, config_id, plugin, lsid, state, max_attempts, run_at, created_at, updated_at) VALUES ` +
		strings.Repeat("(?,?,?,?,'pending',?,?,?,?),", n-1) + `(?,?,?,?,'pending',?,?,?,?) ON CONFLICT (event_id, config_id) DO NOTHING RETURNING event_id, id, plugin`
}

// query runs a prepared statement in tx, or q when none was prepared.
func query(ctx context.Context, tx *sql.Tx, stmt *sql.Stmt, q string, args []any) (*sql.Rows, error) {
	if stmt != nil {
		return tx.StmtContext(ctx, stmt).QueryContext(ctx, args...)
	}
	return tx.QueryContext(ctx, q, args...)
}

// preparedRows is how many rows a statement may have to be kept prepared:
// the small batches of a lightly loaded intake, each compiled once. A
// larger batch compiles its statement for itself; its cost is shared by
// many events.
const preparedRows = 32

// batchStatements are the prepared statements one InsertEvents uses.
type batchStatements struct {
	events, deliveries map[int]*sql.Stmt
}

func (s *Store) batchStatements(ctx context.Context, db *sql.DB, batch []*NewEvent) (batchStatements, error) {
	out := batchStatements{events: map[int]*sql.Stmt{}, deliveries: map[int]*sql.Stmt{}}
	if s.pg {
		return out, nil // pgx caches the statements it prepares itself
	}
	deliveries := 0
	for _, ne := range batch {
		deliveries += len(ne.Deliveries)
	}
	want := func(dst map[int]*sql.Stmt, kind string, total, per int, text func(int) string) error {
		for _, n := range []int{min(total, per), total % per} {
			if n == 0 || n > preparedRows {
				continue
			}
			st, err := s.prepared(ctx, db, kind, n, text)
			if err != nil {
				return err
			}
			dst[n] = st
		}
		return nil
	}
	if err := want(out.events, "events", len(batch), eventsPerStatement, insertEventsSQL); err != nil {
		return out, err
	}
	return out, want(out.deliveries, "deliveries", deliveries, deliveriesPerStatement, insertDeliveriesSQL)
}

type stmtKey struct {
	kind string
	rows int
}

// prepared returns the cached statement for kind and rows, preparing it
// on first use.
func (s *Store) prepared(ctx context.Context, db *sql.DB, kind string, rows int, text func(int) string) (*sql.Stmt, error) {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	key := stmtKey{kind, rows}
	if st, ok := s.stmts[key]; ok {
		return st, nil
	}
	st, err := db.PrepareContext(ctx, text(rows))
	if err != nil {
		return nil, classify("prepare "+kind, err)
	}
	if s.stmts == nil {
		s.stmts = map[stmtKey]*sql.Stmt{}
	}
	s.stmts[key] = st
	return st, nil
}

// existingEventIDs looks up the ids of events already stored.
func (s *Store) existingEventIDs(ctx context.Context, tx *sql.Tx, keys []any, ids map[string]int64) error {
	for chunk := range slices.Chunk(keys, eventsPerStatement) {
		q := `SELECT dedupe_key, id FROM events WHERE dedupe_key IN (?` + strings.Repeat(",?", len(chunk)-1) + `)`
		rows, err := tx.QueryContext(ctx, s.rebind(q), chunk...)
		if err != nil {
			return classify("find stored events", err)
		}
		if err := scanKeyIDs(rows, "find stored events", ids); err != nil {
			return err
		}
	}
	return nil
}

func scanKeyIDs(rows *sql.Rows, op string, ids map[string]int64) error {
	defer rows.Close()
	for rows.Next() {
		var key string
		var id int64
		if err := rows.Scan(&key, &id); err != nil {
			return classify(op, err)
		}
		ids[key] = id
	}
	if err := rows.Err(); err != nil {
		return classify(op, err)
	}
	return nil
}

type deliveryRow struct {
	eventID int64
	lsid    string
	d       NewDelivery
}

// insertDeliveryRows inserts deliveries an event does not have yet, counts
// the ones added per event and appends them to fresh.
func (s *Store) insertDeliveryRows(ctx context.Context, tx *sql.Tx, prepared map[int]*sql.Stmt, batch []deliveryRow, now int64, added map[int64]int, fresh *[]freshDelivery) error {
	args := make([]any, 0, len(batch)*8)
	for _, r := range batch {
		args = append(args, r.eventID, r.d.ConfigID, r.d.Plugin, r.lsid, r.d.MaxAttempts, now, now, now)
	}
	rows, err := query(ctx, tx, prepared[len(batch)], s.rebind(insertDeliveriesSQL(len(batch))), args)
	if err != nil {
		return classify("insert deliveries", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f freshDelivery
		if err := rows.Scan(&f.eventID, &f.id, &f.plugin); err != nil {
			return classify("insert deliveries", err)
		}
		added[f.eventID]++
		*fresh = append(*fresh, f)
	}
	if err := rows.Err(); err != nil {
		return classify("insert deliveries", err)
	}
	return nil
}

func classify(op string, err error) error {
	if isUnavailable(err) {
		return fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
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
	// WithoutFields leaves the posted fields unread (lists).
	WithoutFields bool
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
	if f.WithoutFields {
		q = q.Omit("fields")
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

// maxListLimit caps one list query; callers page with BeforeID.
const maxListLimit = 1000

// limit is a list query's row count: 100 when unset, never above
// maxListLimit (a larger request gets the cap, not the default).
func limit(n int) int {
	if n <= 0 {
		return 100
	}
	return min(n, maxListLimit)
}
