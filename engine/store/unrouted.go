package store

import (
	"context"

	"gorm.io/gorm"
)

// UnroutedUsage is what the events that route nowhere hold: anyone who can
// reach the intake can add such events, so their storage is capped.
type UnroutedUsage struct {
	Events int64
	Bytes  int64
}

// unroutedRows are the events nothing was ever delivered for: stored as
// unrouted and not replayed to a configuration since.
const unroutedRows = `FROM events e WHERE e.routing = 'unrouted'
	AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id)`

// unroutedSize is the bytes one event holds, as counted against the cap.
func (s *Store) unroutedSize() string {
	if s.pg {
		return `CAST(octet_length(e.fields) + octet_length(e.name) + octet_length(e.lsid) + octet_length(e.appliance_id) AS BIGINT)`
	}
	return `length(CAST(e.fields AS BLOB)) + length(CAST(e.name AS BLOB)) + length(CAST(e.lsid AS BLOB)) + length(CAST(e.appliance_id AS BLOB))`
}

// TrimUnrouted deletes the oldest unrouted events beyond maxEvents or
// beyond maxBytes in all, newest kept first, and reports how many it
// deleted and what remains.
func (s *Store) TrimUnrouted(ctx context.Context, maxEvents, maxBytes int64) (int64, UnroutedUsage, error) {
	var deleted int64
	var usage UnroutedUsage
	err := s.writeTx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`DELETE FROM events WHERE id IN (
			SELECT id FROM (
				SELECT e.id,
					ROW_NUMBER() OVER (ORDER BY e.id DESC) AS n,
					SUM(`+s.unroutedSize()+`) OVER (ORDER BY e.id DESC) AS b
				`+unroutedRows+`
			) AS ranked WHERE n > ? OR b > ?)`, maxEvents, maxBytes)
		if res.Error != nil {
			return res.Error
		}
		deleted = res.RowsAffected
		return tx.Raw(`SELECT COUNT(*), CAST(COALESCE(SUM(`+s.unroutedSize()+`), 0) AS BIGINT) `+unroutedRows).Row().Scan(&usage.Events, &usage.Bytes)
	})
	if err != nil {
		return 0, UnroutedUsage{}, classify("trim unrouted events", err)
	}
	return deleted, usage, nil
}
