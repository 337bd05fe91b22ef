package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// keptDB opens one connection of the statement-keeping driver on a fresh
// file with a table t, and returns it with its file's counters.
func keptDB(t *testing.T, params string) (*sql.DB, string, *stmtStats) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kept.db")
	dsn := "file:" + path + "?_journal_mode=WAL&" + params
	db := openKept(t, dsn)
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)`); err != nil {
		t.Fatal(err)
	}
	return db, dsn, statsFor(dsn)
}

func openKept(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(readerDriver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func values(t *testing.T, q interface {
	Query(string, ...any) (*sql.Rows, error)
}, query string, args ...any) []string {
	t.Helper()
	rows, err := q.Query(query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Many calls of the same two texts compile each once and return what
// uncached statements would.
func TestKeptStatementsAreReused(t *testing.T) {
	t.Parallel()
	db, _, st := keptDB(t, "")
	before := st.prepares.Load()
	const n = 200
	for i := range n {
		if _, err := db.Exec(`INSERT INTO t (v) VALUES (?)`, fmt.Sprint("v", i)); err != nil {
			t.Fatal(err)
		}
		if got := values(t, db, `SELECT v FROM t WHERE id = ?`, i+1); len(got) != 1 || got[0] != fmt.Sprint("v", i) {
			t.Fatalf("row %d: %v", i+1, got)
		}
	}
	if got := st.prepares.Load() - before; got != 2 {
		t.Errorf("%d statements compiled for %d calls of two texts; want 2", got, 2*n)
	}
}

// A kept statement that returned a row from Exec (RETURNING) is reset:
// it does not keep its write transaction open, so another connection can
// write at once, and a reader does not hold its snapshot.
func TestKeptStatementReleasesItsTransaction(t *testing.T) {
	t.Parallel()
	db, dsn, _ := keptDB(t, "_busy_timeout=1")
	other := openKept(t, dsn+"&_busy_timeout=1")
	for i := range 3 {
		if _, err := db.Exec(`INSERT INTO t (v) VALUES (?) RETURNING id`, fmt.Sprint("a", i)); err != nil {
			t.Fatal(err)
		}
		if _, err := other.Exec(`INSERT INTO t (v) VALUES (?)`, fmt.Sprint("b", i)); err != nil {
			t.Fatalf("a second writer after a kept INSERT … RETURNING: %v", err)
		}
	}
	// An unfinished read (the first of several rows) also ends with Close:
	// a truncating checkpoint needs no reader left in the log.
	rows, err := db.Query(`SELECT v FROM t ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	rows.Next()
	_ = rows.Close()
	var busy, logged, done int
	if err := other.QueryRow(`PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logged, &done); err != nil || busy != 0 {
		t.Errorf("checkpoint after a closed read: busy %d, err %v; want 0, nil", busy, err)
	}
}

// After a schema change a kept SELECT * returns the new columns: at once
// on the connection that made it (a migration), and from its second run
// on another connection, as mattn's own statements do.
func TestKeptStatementsAfterSchemaChange(t *testing.T) {
	t.Parallel()
	db, dsn, _ := keptDB(t, "")
	other := openKept(t, dsn)
	if _, err := db.Exec(`INSERT INTO t (v) VALUES ('a')`); err != nil {
		t.Fatal(err)
	}
	cols := func(db *sql.DB) string {
		rows, err := db.Query(`SELECT * FROM t WHERE id = ?`, 1)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		if !rows.Next() {
			t.Fatal("no row")
		}
		c, _ := rows.Columns()
		return strings.Join(c, ",")
	}
	if got := cols(db) + " " + cols(other); got != "id,v id,v" {
		t.Fatalf("columns %s", got)
	}
	if _, err := db.Exec(`ALTER TABLE t ADD COLUMN w TEXT NOT NULL DEFAULT 'x'`); err != nil {
		t.Fatal(err)
	}
	if got := cols(db); got != "id,v,w" {
		t.Errorf("columns after ALTER TABLE on the same connection: %s; want id,v,w", got)
	}
	cols(other)
	if got := cols(other); got != "id,v,w" {
		t.Errorf("columns after ALTER TABLE on another connection: %s; want id,v,w", got)
	}
	// An index made elsewhere does not change what a kept statement
	// returns: SQLite recompiles it.
	if _, err := other.Exec(`CREATE INDEX t_w ON t (w)`); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if got := values(t, db, `SELECT w FROM t WHERE id = ?`, 1); len(got) != 1 || got[0] != "x" {
			t.Errorf("after CREATE INDEX elsewhere: %v", got)
		}
	}
}

// A kept statement that failed (a constraint, the write lock held past the
// busy timeout) works on its next call.
func TestKeptStatementAfterAnError(t *testing.T) {
	t.Parallel()
	db, dsn, _ := keptDB(t, "_busy_timeout=1&_txlock=immediate")
	const ins = `INSERT INTO t (v) VALUES (?)`
	if _, err := db.Exec(ins, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ins, "a"); err == nil || !strings.Contains(err.Error(), "UNIQUE") {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := db.Exec(ins, "b"); err != nil {
		t.Fatalf("after a constraint error: %v", err)
	}
	holder := openKept(t, dsn)
	tx, err := holder.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ins, "c"); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("while another holds the write lock: %v", err)
	}
	_ = tx.Rollback()
	if _, err := db.Exec(ins, "c"); err != nil {
		t.Fatalf("after the lock is released: %v", err)
	}
	if got := values(t, db, `SELECT v FROM t ORDER BY id`); strings.Join(got, ",") != "a,b,c" {
		t.Errorf("rows %v; want a,b,c", got)
	}
}

// A statement interrupted by its context's cancellation, in Exec or while
// stepping rows, answers correctly on its next call.
func TestKeptStatementAfterCancel(t *testing.T) {
	t.Parallel()
	db, _, _ := keptDB(t, "")
	const count = `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) SELECT count(*) FROM c`
	for _, how := range []string{"exec", "query"} {
		// mattn's interrupt is lost when it comes before the step starts,
		// so the run is long but bounded, and cancelled until one run
		// was interrupted.
		var err error
		for range 20 {
			ctx, cancel := context.WithCancel(context.Background())
			stop := time.AfterFunc(5*time.Millisecond, cancel)
			if how == "exec" {
				_, err = db.ExecContext(ctx, count, 20_000_000)
			} else {
				var n int64
				err = db.QueryRowContext(ctx, count, 20_000_000).Scan(&n)
			}
			stop.Stop()
			cancel()
			if err != nil {
				break
			}
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%s cancelled: %v", how, err)
		}
		var n int64
		if err := db.QueryRow(count, 10).Scan(&n); err != nil || n != 10 {
			t.Errorf("after a cancelled %s: %d, %v; want 10", how, n, err)
		}
	}
}

// Inside one transaction the same text may run while its rows are still
// open: the second run gets its own statement; a rolled-back insert leaves
// nothing and its statement works after.
func TestKeptStatementsInTransactions(t *testing.T) {
	t.Parallel()
	db, _, _ := keptDB(t, "")
	const ins, sel = `INSERT INTO t (v) VALUES (?)`, `SELECT v FROM t ORDER BY id`
	for _, v := range []string{"a", "b"} {
		if _, err := db.Exec(ins, v); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	outer, err := tx.Query(sel)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for outer.Next() {
		var v string
		if err := outer.Scan(&v); err != nil {
			t.Fatal(err)
		}
		got = append(got, v+"="+strings.Join(values(t, tx, sel), ""))
	}
	_ = outer.Close()
	if strings.Join(got, " ") != "a=ab b=ab" {
		t.Errorf("nested runs of one text: %v", got)
	}
	if _, err := tx.Exec(ins, "c"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ins, "d"); err != nil {
		t.Fatal(err)
	}
	if got := values(t, db, sel); strings.Join(got, "") != "abd" {
		t.Errorf("after a rolled-back insert: %v; want a b d", got)
	}
}

// However many texts a connection runs, it keeps at most stmtCacheSize,
// and none once it is closed.
func TestKeptStatementsAreBounded(t *testing.T) {
	t.Parallel()
	db, _, st := keptDB(t, "")
	for i := range 3 * stmtCacheSize {
		// An IN list of i+1 values, as gorm writes them: a text per length.
		q := `SELECT v FROM t WHERE id IN (?` + strings.Repeat(",?", i) + `)`
		args := make([]any, i+1)
		for j := range args {
			args[j] = j
		}
		values(t, db, q, args...)
		if k := st.kept.Load(); k > stmtCacheSize {
			t.Fatalf("%d statements kept; want at most %d", k, stmtCacheSize)
		}
	}
	if k := st.kept.Load(); k != stmtCacheSize {
		t.Errorf("%d statements kept; want %d", k, stmtCacheSize)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if k := st.kept.Load(); k != 0 {
		t.Errorf("%d statements kept after Close; want 0", k)
	}
}

// Texts of several statements run as mattn runs them, uncached.
func TestSeveralStatementsInOneText(t *testing.T) {
	t.Parallel()
	db, _, st := keptDB(t, "")
	const two = `INSERT INTO t (v) VALUES (?); INSERT INTO t (v) VALUES (?);`
	for i := range 2 {
		if _, err := db.Exec(two, fmt.Sprint("a", i), fmt.Sprint("b", i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := values(t, db, `SELECT v FROM t ORDER BY id`); strings.Join(got, ",") != "a0,b0,a1,b1" {
		t.Errorf("rows %v", got)
	}
	if k := st.kept.Load(); k != 1 {
		t.Errorf("%d statements kept; want 1 (the SELECT)", k)
	}
}
