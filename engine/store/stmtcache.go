package store

import (
	"container/list"
	"context"
	"database/sql"
	"database/sql/driver"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/mattn/go-sqlite3"
)

// Kept statements. mattn's driver compiles (sqlite3_prepare_v2), runs and
// finalizes every statement on every Exec and Query: a quarter of the
// engine's SQLite time under a routed load went to compiling the same few
// dozen statements again (docs/performance.md, "Prepared statements kept").
// cachingDriver wraps it so that each connection keeps the statements it
// ran, by SQL text, up to stmtCacheSize of them, least recently used
// dropped first, and finalizes them when the connection closes.
//
// What keeps a reused statement right:
//   - A kept statement is reset after each Exec and when its rows close, so
//     it never holds a read snapshot or a write transaction open between
//     calls.
//   - A statement whose rows are still open (a second query of the same
//     text inside one transaction) is not shared: the second call runs
//     uncached, as mattn would.
//   - SQLite recompiles a prepare_v2 statement by itself when the schema
//     changed under it. mattn reads the column count before the step,
//     so the first run after a change reports the old columns; an uncached
//     statement does the same after another connection's change, but not
//     after its own connection's, so a connection drops what it kept when
//     it runs a schema statement (a migration).
//   - Several statements in one text, named arguments and argument counts
//     that do not match go through mattn unchanged.
type cachingDriver struct {
	inner *sqlite3.SQLiteDriver
	size  int
}

// stmtCacheSize is how many statements a connection keeps. The engine
// delivering routed posts keeps about 25 over all its connections
// (TestRoutedPostCompilesNoStatement logs the count); gorm's IN lists make
// a text per list length, which the bound keeps from piling up.
const stmtCacheSize = 64

// stmtStats counts, for one database file, what its connections did with
// statements.
type stmtStats struct {
	// prepares counts statements compiled; runs counts Exec and Query
	// calls (each one compiled its statement before statements were
	// kept); kept is how many statements are kept now, over all
	// connections.
	prepares, runs, kept atomic.Int64
}

// Driver names of the SQLite connections: the writer's turns off automatic
// checkpoints (see writerDriver); readers and the checkpointer use the
// other.
const readerDriver = "sqlite3_switchboard"

var (
	readerSQLite = &cachingDriver{inner: &sqlite3.SQLiteDriver{}, size: stmtCacheSize}
	writerSQLite = &cachingDriver{inner: &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec("PRAGMA wal_autocheckpoint = 0", nil)
		return err
	}}, size: stmtCacheSize}
)

func init() {
	sql.Register(readerDriver, readerSQLite)
	sql.Register(writerDriver, writerSQLite)
}

// statsFor returns the counters of the database file dsn names, shared by
// both drivers.
func statsFor(dsn string) *stmtStats {
	path := strings.TrimPrefix(dsn, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	statsMu.Lock()
	defer statsMu.Unlock()
	st := allStats[path]
	if st == nil {
		st = &stmtStats{}
		allStats[path] = st
	}
	return st
}

var (
	statsMu  sync.Mutex
	allStats = map[string]*stmtStats{}
)

// Open opens a connection that keeps its statements.
func (d *cachingDriver) Open(dsn string) (driver.Conn, error) {
	c, err := d.inner.Open(dsn)
	if err != nil {
		return nil, err
	}
	return &cachingConn{SQLiteConn: c.(*sqlite3.SQLiteConn), size: d.size, stats: statsFor(dsn),
		byText: map[string]*list.Element{}, lru: list.New()}, nil
}

// cachingConn is one SQLite connection and the statements it keeps.
// database/sql never uses a connection from two goroutines at once.
type cachingConn struct {
	*sqlite3.SQLiteConn
	size   int
	stats  *stmtStats
	byText map[string]*list.Element
	lru    *list.List // of *keptStmt, most recently used first
}

// keptStmt is a statement a connection keeps.
type keptStmt struct {
	text   string
	st     *sqlite3.SQLiteStmt
	params int
	// busy is set while the statement's rows are open; dropped means it
	// left the cache meanwhile and is finalized when they close.
	busy, dropped bool
}

var (
	_ driver.ExecerContext  = (*cachingConn)(nil)
	_ driver.QueryerContext = (*cachingConn)(nil)
)

// ExecContext runs query with a kept statement when it can.
func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	k, err := c.take(ctx, query, args)
	if err != nil {
		return nil, err
	}
	if k == nil {
		res, err := c.SQLiteConn.ExecContext(ctx, query, args)
		if changesSchema(query) {
			c.dropAll()
		}
		return res, err
	}
	res, err := k.st.ExecContext(ctx, args)
	// mattn leaves a statement that returned a row (RETURNING, a
	// PRAGMA) active, holding its transaction: reset it.
	if rerr := reset(k); err == nil && rerr != nil {
		err = rerr
	}
	return res, err
}

// QueryContext runs query with a kept statement when it can; the statement
// is reset and free again when the rows close.
func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	k, err := c.take(ctx, query, args)
	if err != nil {
		return nil, err
	}
	if k == nil {
		return c.SQLiteConn.QueryContext(ctx, query, args)
	}
	rows, err := k.st.QueryContext(ctx, args)
	if err != nil {
		_ = reset(k)
		return nil, err
	}
	k.busy = true
	return &keptRows{SQLiteRows: rows.(*sqlite3.SQLiteRows), c: c, k: k}, nil
}

// take returns the kept statement for query, preparing and keeping it if
// needed, or nil when query should run uncached.
func (c *cachingConn) take(ctx context.Context, query string, args []driver.NamedValue) (*keptStmt, error) {
	c.stats.runs.Add(1)
	if c.size == 0 || changesSchema(query) {
		c.stats.prepares.Add(1)
		return nil, nil
	}
	for _, a := range args {
		if a.Name != "" {
			c.stats.prepares.Add(1)
			return nil, nil
		}
	}
	if el, ok := c.byText[query]; ok {
		k := el.Value.(*keptStmt)
		if k.busy || k.params != len(args) {
			c.stats.prepares.Add(1)
			return nil, nil
		}
		c.lru.MoveToFront(el)
		return k, nil
	}
	c.stats.prepares.Add(1)
	s, err := c.SQLiteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	st := s.(*sqlite3.SQLiteStmt)
	k := &keptStmt{text: query, st: st, params: st.NumInput()}
	c.byText[query] = c.lru.PushFront(k)
	c.stats.kept.Add(1)
	for c.lru.Len() > c.size {
		c.drop(c.lru.Back())
	}
	if k.params != len(args) {
		// mattn reports the mismatch (or runs a trailing statement).
		return nil, nil
	}
	return k, nil
}

// drop removes a statement from the cache, finalizing it unless its rows
// are still open.
func (c *cachingConn) drop(el *list.Element) {
	k := c.lru.Remove(el).(*keptStmt)
	delete(c.byText, k.text)
	c.stats.kept.Add(-1)
	if k.busy {
		k.dropped = true
		return
	}
	_ = k.st.Close()
}

func (c *cachingConn) dropAll() {
	for c.lru.Len() > 0 {
		c.drop(c.lru.Back())
	}
}

// PrepareContext prepares a statement database/sql keeps (sql.Stmt), and
// counts it.
func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	c.stats.prepares.Add(1)
	return c.SQLiteConn.PrepareContext(ctx, query)
}

// Close finalizes the kept statements, then closes the connection.
func (c *cachingConn) Close() error {
	c.dropAll()
	return c.SQLiteConn.Close()
}

// keptRows are the rows of a kept statement.
type keptRows struct {
	*sqlite3.SQLiteRows
	c      *cachingConn
	k      *keptStmt
	closed bool
}

// Close resets the statement (mattn does, for a statement it did not
// prepare itself) and frees it for the next call.
func (r *keptRows) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	err := r.SQLiteRows.Close()
	r.k.busy = false
	if r.k.dropped {
		_ = r.k.st.Close()
	} else if r.k.params > 0 {
		// Its run is reset by now; its arguments are let go here.
		if rerr := reset(r.k); err == nil {
			err = rerr
		}
	}
	return err
}

// reset ends a statement's run and lets go of the values it was run
// with: SQLite keeps its own copy of each bound text until the statement
// is bound again, so a kept statement would pin the fields of the last
// posts it inserted (outside the Go heap). mattn resets a statement when
// it binds arguments; binding NULL to each parameter, without a step,
// frees the copies.
func reset(k *keptStmt) error {
	rows, err := k.st.Query(make([]driver.Value, k.params))
	if err != nil {
		return err
	}
	return rows.Close()
}

// oneStatement says whether query is one statement: only those are kept
// (mattn runs a text of several itself, statement by statement). A
// semicolon inside a string literal merely leaves a statement uncached.
func oneStatement(query string) bool {
	q := strings.TrimRight(query, " \t\r\n;")
	return q != "" && strings.IndexByte(q, ';') < 0
}

// changesSchema says whether query may change the schema, and so is run
// uncached: migrations run files of several statements, or single CREATE,
// ALTER or DROP statements.
func changesSchema(query string) bool {
	if !oneStatement(query) {
		return true
	}
	q := strings.TrimLeft(query, " \t\r\n")
	for _, kw := range []string{"CREATE", "ALTER", "DROP"} {
		if len(q) >= len(kw) && strings.EqualFold(q[:len(kw)], kw) {
			return true
		}
	}
	return false
}

// StatementStats counts the SQL statements a SQLite store's connections
// ran and compiled since the process opened its file (all zero on
// PostgreSQL, where pgx keeps its own).
type StatementStats struct {
	// Runs are Exec and Query calls; Prepares the statements compiled for
	// them and for database/sql's own prepared statements; Kept the
	// statements kept now, over all connections.
	Runs, Prepares, Kept int64
}

// StatementStats returns the statement counters, for benchmarks and tests.
func (s *Store) StatementStats() StatementStats {
	if s.pg {
		return StatementStats{}
	}
	st := statsFor("file:" + s.path)
	return StatementStats{Runs: st.runs.Load(), Prepares: st.prepares.Load(), Kept: st.kept.Load()}
}
