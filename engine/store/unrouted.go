package store

import (
	"context"
	"database/sql"

	"gorm.io/gorm"
)

// UnroutedUsage is what the events that route nowhere hold: anyone who can
// reach the intake can add such events, so their storage is capped.
type UnroutedUsage struct {
	Events int64
	Bytes  int64
}

// unroutedRows are the events nothing was ever delivered for: stored as
// unrouted and not replayed to a configuration since. The partial index
// events_unrouted holds exactly the rows of the first condition.
const unroutedRows = `FROM events e WHERE e.routing = 'unrouted'
	AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id)`

// unroutedSize is the bytes one event holds, as counted against the cap.
// octet_length (SQLite 3.43 and later, as in PostgreSQL) reads each text's
// size from the row's header, without loading the text.
const unroutedSize = `octet_length(e.fields) + octet_length(e.name) + octet_length(e.lsid) + octet_length(e.appliance_id)`

// TrimUnrouted deletes the oldest unrouted events beyond maxEvents or
// beyond maxBytes in all, newest kept first, and reports how many it
// deleted and what is kept.
//
// It reads on the read pool, in one snapshot: the total, summed inside the
// database through the events_unrouted index (never the whole events
// table), then, only when over a cap, the oldest unrouted events until
// what remains fits. Only the delete takes the writer. An event routed
// since the read (a replay) has deliveries and is not deleted; one stored
// since is newer than every event the read chose, and is not deleted
// either.
func (s *Store) TrimUnrouted(ctx context.Context, maxEvents, maxBytes int64) (int64, UnroutedUsage, error) {
	var usage UnroutedUsage
	var cutoff int64
	err := s.r.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		usage, cutoff, err = s.unroutedCutoff(tx, maxEvents, maxBytes)
		return err
	}, s.snapshot())
	if err != nil {
		return 0, UnroutedUsage{}, classify("read unrouted events", err)
	}
	if cutoff == 0 {
		return 0, usage, nil
	}
	var deleted int64
	err = s.writeTx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`DELETE FROM events WHERE routing = 'unrouted' AND id <= ?
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = events.id)`, cutoff)
		deleted = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return 0, UnroutedUsage{}, classify("trim unrouted events", err)
	}
	return deleted, usage, nil
}

// snapshot makes the read transaction of TrimUnrouted see one state of the
// database throughout. A SQLite read transaction does by itself.
func (s *Store) snapshot() *sql.TxOptions {
	if s.pg {
		return &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	return nil
}

// unroutedCutoff returns what the unrouted events within both caps hold,
// and the id of the newest event that is past a cap (0: all fit).
func (s *Store) unroutedCutoff(tx *gorm.DB, maxEvents, maxBytes int64) (UnroutedUsage, int64, error) {
	var usage UnroutedUsage
	if err := tx.Raw(`SELECT COUNT(*), CAST(COALESCE(SUM(`+unroutedSize+`), 0) AS BIGINT) `+unroutedRows).Row().Scan(&usage.Events, &usage.Bytes); err != nil {
		return usage, 0, err
	}
	if usage.Events <= maxEvents && usage.Bytes <= maxBytes {
		return usage, 0, nil
	}
	rows, err := tx.Raw(`SELECT e.id, ` + unroutedSize + ` ` + unroutedRows + ` ORDER BY e.id`).Rows()
	if err != nil {
		return usage, 0, err
	}
	defer rows.Close()
	var cutoff int64
	for (usage.Events > maxEvents || usage.Bytes > maxBytes) && rows.Next() {
		var size int64
		if err := rows.Scan(&cutoff, &size); err != nil {
			return usage, 0, err
		}
		usage.Events--
		usage.Bytes -= size
	}
	return usage, cutoff, rows.Err()
}
