package store

import (
	"context"
	"database/sql"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
)

// lockSessions takes, on PostgreSQL, a transaction-scoped advisory lock on
// each (configuration, session) the rows add a delivery to, before they are
// inserted. Two engines storing events of one session at once would each
// claim their own delivery at insert, neither seeing the other's
// uncommitted one, and the session's deliveries would run side by side.
// With the lock the second transaction waits until the first commits, and
// then sees its delivery: running (the later one waits behind it) or
// pending with a lower id (likewise). Every insert of deliveries takes it,
// claiming or not, so that a session's deliveries get their ids in commit
// order. Keys are taken in one sorted pass, so two batches cannot deadlock
// on them. SQLite's one writer already makes inserts one at a time.
func (s *Store) lockSessions(ctx context.Context, tx *sql.Tx, rows []deliveryRow) error {
	if !s.pg {
		return nil
	}
	keys := make([]int64, 0, len(rows))
	for _, r := range rows {
		if r.lsid != "" {
			keys = append(keys, sessionLockKey(r.d.ConfigID, r.lsid))
		}
	}
	if len(keys) == 0 {
		return nil
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	// VALUES is scanned in the order written: the locks are taken in
	// sorted order.
	for chunk := range slices.Chunk(keys, sessionLocksPerStatement) {
		args := make([]any, len(chunk))
		for i, k := range chunk {
			args[i] = k
		}
		q := `SELECT count(pg_advisory_xact_lock(k)) FROM (VALUES (?::bigint)` + strings.Repeat(",(?::bigint)", len(chunk)-1) + `) v(k)`
		if _, err := tx.ExecContext(ctx, s.rebind(q), args...); err != nil {
			return classify("lock sessions", err)
		}
	}
	return nil
}

// sessionLocksPerStatement keeps a statement's parameters well under
// PostgreSQL's limit.
const sessionLocksPerStatement = 1000

// sessionLockKey is the advisory lock key of a (configuration, session).
// Two sessions that share a key only wait for each other's inserts.
func sessionLockKey(configID int64, lsid string) int64 {
	h := fnv.New64a()
	h.Write([]byte("switchboard session\x00" + strconv.FormatInt(configID, 10) + "\x00" + lsid))
	return int64(h.Sum64()) //nolint:gosec // a hash, its sign does not matter
}
