// Package store keeps Switchboard's state: configurations, events and their
// deliveries, links, poll cursors and the audit log. SQLite through gorm is
// the embedded default; PostgreSQL (pgx) lets several engines share one
// database (see postgres.go). Everything dialect-specific stays in this
// package.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pressly/goose/v3"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"switchboard/migrations"
)

// ErrNotFound is returned when a row asked for by id does not exist.
var ErrNotFound = errors.New("not found")

// ErrUnavailable wraps failures of the database itself (disk full, locked
// past the busy timeout, closed): callers answer 503 rather than 4xx.
var ErrUnavailable = errors.New("store unavailable")

// Store is the database. Writes go through one connection, as SQLite allows
// one writer at a time anyway; reads use a small pool of their own so that a
// long listing never waits behind the intake's group commits.
type Store struct {
	w    *gorm.DB
	r    *gorm.DB
	path string
	log  *slog.Logger
	// pg is true on PostgreSQL: w and r are then one pool, and there is no
	// write-ahead log of ours to look after.
	pg  bool
	dsn string // the PostgreSQL URL, password and all: never logged

	stmtMu sync.Mutex
	stmts  map[stmtKey]*sql.Stmt // the intake's prepared inserts

	cp        *sql.DB // the checkpointer's connection; see wal.go
	walLimit  int64
	kick      chan struct{} // a writer asks for a checkpoint now
	ckptMu    sync.Mutex    // one checkpoint at a time: SQLite refuses a second
	health    writeHealth
	stop      chan struct{}
	stopped   chan struct{}
	closeOnce sync.Once
	closeErr  error

	// gate orders the write transactions waiting for SQLite's one writer
	// (see writegate.go); PostgreSQL's pool does not use it.
	gate writeGate

	// finishes groups the finishes of attempts that arrive together and,
	// on SQLite, hands them to the next commit of new events.
	finishes finishGroup

	// writes counts write transactions begun, for tests and benchmarks
	// that check a code path does not take the one writer needlessly.
	writes atomic.Uint64
}

// Options tune Open.
type Options struct {
	Logger *slog.Logger
	// BusyTimeout is how long a connection waits for SQLite's write lock.
	BusyTimeout time.Duration
	// SkipMigrate leaves the schema alone (for `switchboard migrate status`).
	SkipMigrate bool
	// Durability is what a commit survives once it returns (default
	// DurabilityPower).
	Durability Durability
	// WALLimit is the write-ahead log size past which it is checkpointed
	// and truncated (default DefaultWALLimit); see wal.go.
	WALLimit int64
	// FinishWait is how long, on SQLite, the finish of an attempt waits
	// for a commit of new events to carry it before it is written in a
	// transaction of its own (default 5 ms; negative: never waits).
	// PostgreSQL writes finishes at once.
	FinishWait time.Duration
	// MaxConns is the PostgreSQL connection pool's size (default
	// DefaultPostgresConns); SQLite ignores it.
	MaxConns int
}

// Durability is what an acknowledged write survives.
type Durability string

const (
	// DurabilityPower syncs the write-ahead log to the disk in every
	// commit (synchronous=FULL): a committed event survives a power cut or
	// an operating-system crash. The default: the appliance never resends
	// an event it got a 200 for.
	DurabilityPower Durability = "power"
	// DurabilityProcess leaves the sync to checkpoints (synchronous=NORMAL
	// under WAL): a commit survives a crash of Switchboard itself, but a
	// power cut or OS crash may lose the last commits (never consistency).
	// Faster on a disk with slow syncs.
	DurabilityProcess Durability = "process"
)

// ParseDurability reads a --durability value.
func ParseDurability(v string) (Durability, error) {
	switch d := Durability(strings.ToLower(strings.TrimSpace(v))); d {
	case DurabilityPower, DurabilityProcess:
		return d, nil
	case "":
		return DurabilityPower, nil
	}
	return "", fmt.Errorf("durability %q: give power (survives power loss; the default) or process (survives a crash of Switchboard; faster)", v)
}

// synchronous is the writer's PRAGMA synchronous for d.
func (d Durability) synchronous() string {
	if d == DurabilityProcess {
		return "NORMAL"
	}
	return "FULL"
}

// DefaultPath is the SQLite file inside a data directory.
func DefaultPath(dataDir string) string { return filepath.Join(dataDir, "switchboard.db") }

// Open opens (creating if needed) the database named by dsn and applies the
// migrations. dsn is a SQLite file path, or "sqlite:" / "file:" followed by
// one, or a postgres:// URL.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if IsPostgres(dsn) {
		return openPostgres(ctx, dsn, opts)
	}
	if opts.BusyTimeout == 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	if opts.FinishWait == 0 {
		opts.FinishWait = finishRideWait
	}
	if opts.WALLimit <= 0 {
		opts.WALLimit = DefaultWALLimit
	}
	path, err := sqlitePath(dsn)
	if err != nil {
		return nil, err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("store: create %s: %w", dir, err)
		}
	}
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	if opts.Durability, err = ParseDurability(string(opts.Durability)); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	// WAL lets readers run beside the writer. The writer's synchronous
	// setting is the durability chosen; the other connections never commit
	// data, and NORMAL is what a checkpoint needs. Immediate transactions
	// take the write lock up front, so a read-then-write transaction never
	// fails with SQLITE_BUSY_SNAPSHOT.
	params := url.Values{}
	params.Set("_journal_mode", "WAL")
	params.Set("_synchronous", opts.Durability.synchronous())
	params.Set("_busy_timeout", fmt.Sprint(opts.BusyTimeout.Milliseconds()))
	params.Set("_foreign_keys", "on")
	params.Set("_txlock", "immediate")
	w, err := openGorm(writerDriver, "file:"+path+"?"+params.Encode(), 1)
	if err != nil {
		return nil, err
	}
	params.Set("_synchronous", "NORMAL")
	params.Set("_txlock", "deferred")
	params.Set("_query_only", "true")
	r, err := openGorm(readerDriver, "file:"+path+"?"+params.Encode(), 4)
	if err != nil {
		closeGorm(w)
		return nil, err
	}
	params.Del("_query_only")
	params.Set("_busy_timeout", fmt.Sprint(min(opts.BusyTimeout, checkpointBusyTimeout).Milliseconds()))
	cp, err := sql.Open(readerDriver, "file:"+path+"?"+params.Encode())
	if err != nil {
		closeGorm(w)
		closeGorm(r)
		return nil, fmt.Errorf("store: open: %w", err)
	}
	cp.SetMaxOpenConns(1)
	s := &Store{
		w: w, r: r, cp: cp, path: path, log: opts.Logger, walLimit: opts.WALLimit,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{}),
		finishes: finishGroup{wait: max(opts.FinishWait, 0)},
	}
	if !opts.SkipMigrate {
		if _, err := s.Migrate(ctx); err != nil {
			s.closeAll()
			return nil, err
		}
	}
	go s.checkpoint()
	return s, nil
}

// writerDriver is the SQLite driver of the writer connection: it turns off
// SQLite's automatic WAL checkpoints, which run inside whichever commit
// crosses the threshold and stall it on fsync (hundreds of milliseconds on
// a slow disk, with every post waiting on that commit). Store.checkpoint
// does them in the background instead.
// Both SQLite drivers keep prepared statements (stmtcache.go).
const writerDriver = "sqlite3_switchboard_writer"

func sqlitePath(dsn string) (string, error) {
	switch {
	case dsn == "":
		return "", errors.New("store: no database given")
	case IsPostgres(dsn):
		return "", errors.New("store: a PostgreSQL URL is not a SQLite file path")
	case strings.HasPrefix(dsn, "sqlite:"):
		dsn = strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//")
	case strings.HasPrefix(dsn, "file:"):
		dsn = strings.TrimPrefix(dsn, "file:")
	}
	if i := strings.IndexByte(dsn, '?'); i >= 0 {
		return "", errors.New("store: give the SQLite file path without parameters; Switchboard sets its own")
	}
	if dsn == ":memory:" {
		return "", errors.New("store: an in-memory database would lose every event on restart; give a file path")
	}
	return dsn, nil
}

func openGorm(driver, dsn string, conns int) (*gorm.DB, error) {
	return openDialector(sqlite.New(sqlite.Config{DriverName: driver, DSN: dsn}), conns)
}

func openDialector(d gorm.Dialector, conns int) (*gorm.DB, error) {
	db, err := gorm.Open(d, &gorm.Config{
		SkipDefaultTransaction: true,
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	})
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	sqlDB.SetMaxOpenConns(conns)
	sqlDB.SetMaxIdleConns(conns)
	sqlDB.SetConnMaxLifetime(0)
	return db, nil
}

func closeGorm(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		_ = sqlDB.Close()
	}
}

// Close stops the checkpointer, checkpoints the WAL fully (when the disk
// lets it) and closes every connection. Closing again does nothing.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.finishes.close(s)
		close(s.stop)
		<-s.stopped
		if s.pg {
			s.closeErr = s.closeAll()
			return
		}
		if _, err := s.cp.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			// Nothing is lost: the WAL is applied at the next start. A
			// full disk must not turn a clean stop into a failure.
			s.log.Warn("store: final checkpoint failed; the WAL is kept and applied at the next start", "err", err)
		}
		s.closeErr = s.closeAll()
	})
	return s.closeErr
}

func (s *Store) closeAll() error {
	var errs []error
	s.stmtMu.Lock()
	for _, st := range s.stmts {
		errs = append(errs, st.Close())
	}
	s.stmts = nil
	s.stmtMu.Unlock()
	dbs := []*gorm.DB{s.r, s.w}
	if s.pg {
		dbs = dbs[1:] // one pool
	}
	for _, db := range dbs {
		sqlDB, err := db.DB()
		if err == nil {
			err = sqlDB.Close()
		}
		errs = append(errs, err)
	}
	if s.cp != nil {
		errs = append(errs, s.cp.Close())
	}
	return errors.Join(errs...)
}

// Path is the database file, or the PostgreSQL URL without its password.
func (s *Store) Path() string { return s.path }

// Dialect names the database: "sqlite" or "postgres".
func (s *Store) Dialect() string {
	if s.pg {
		return "postgres"
	}
	return "sqlite"
}

// Migration is one schema version and whether it is applied.
type Migration struct {
	Version int64
	Source  string
	Applied bool
}

func (s *Store) provider() (*goose.Provider, error) {
	sqlDB, err := s.w.DB()
	if err != nil {
		return nil, err
	}
	if s.pg {
		return goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.Postgres, goose.WithDisableGlobalRegistry(true))
	}
	return goose.NewProvider(goose.DialectSQLite3, sqlDB, migrations.FS, goose.WithDisableGlobalRegistry(true))
}

// Migrate applies every migration not yet applied and returns how many ran.
func (s *Store) Migrate(ctx context.Context) (int, error) {
	p, err := s.provider()
	if err != nil {
		return 0, fmt.Errorf("store: migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("store: migrate: %w", err)
	}
	for _, r := range res {
		s.log.Info("applied migration", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	if len(res) > 0 {
		dropParserBuffers()
	}
	return len(res), nil
}

// dropParserBuffers frees what goose's SQL parser keeps after migrating:
// it scans each migration, up and down at once, with 4 MiB buffers that it
// keeps in a sync.Pool, which holds them through the next collection. Until
// a second collection they count as live heap, so the collector lets the
// heap grow to twice that plus what the engine really holds (a heap goal of
// 37 MiB after a first start, against 4 MiB without them), and the first
// burst of posts fills it with pages that stay resident. Two collections
// empty the pool and its victim cache, and the memory goes back to the
// system; this runs once, and only when migrations were applied.
func dropParserBuffers() {
	runtime.GC()
	debug.FreeOSMemory()
}

// Migrations lists every known migration and whether it is applied.
func (s *Store) Migrations(ctx context.Context) ([]Migration, error) {
	p, err := s.provider()
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migration status: %w", err)
	}
	out := make([]Migration, 0, len(st))
	for _, m := range st {
		out = append(out, Migration{Version: m.Source.Version, Source: m.Source.Path, Applied: m.State == goose.StateApplied})
	}
	return out, nil
}

// Ping checks that the database answers, for /readyz.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.w.DB()
	if err != nil {
		return err
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}

// writeTx runs fn in one immediate transaction on the writer connection.
func (s *Store) writeTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	s.writes.Add(1)
	s.beforeWrite(ctx)
	if !s.pg {
		if err := s.gate.enter(ctx, false); err != nil {
			return err
		}
		defer s.gate.leave()
	}
	err := unavailable(s.w.WithContext(ctx).Transaction(fn))
	s.noteWrite(err)
	return err
}

// isUnavailable tells database-level failures (busy, full, I/O, closed) from
// errors about the data.
func isUnavailable(err error) bool {
	if errors.Is(err, sql.ErrConnDone) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	if pgUnavailable(err) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"database is locked", "disk is full", "disk I/O error", "sql: database is closed", "unable to open database", "readonly database"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// createPrivate creates the database file readable by its owner only
// before SQLite opens it: SQLite gives the -wal and -shm files the mode of
// the database file, so they are 0600 too. An existing file keeps its mode.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	return f.Close()
}
