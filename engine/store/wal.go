package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// DefaultWALLimit is the write-ahead log size past which the checkpointer
// rewinds it. Under a sustained write rate a passive checkpoint never
// catches up with the writer, and SQLite only restarts the log from its
// beginning once every frame has been copied back: without a rewind the log
// grows until the disk is full (929 MB for a 59 MB database after a
// 30-second load run).
const DefaultWALLimit = 32 << 20

// checkpointInterval is how often the WAL is copied back into the database
// when no writer has asked for it sooner.
const checkpointInterval = time.Second

// checkpointBusyTimeout bounds how long a rewinding checkpoint waits for
// the writer and for readers; while it waits it holds new writers back, and
// they must not reach their own busy timeout behind it.
const checkpointBusyTimeout = time.Second

// The checkpointer works on a connection of its own, off the commit path:
//
//   - every second (and when a writer sees the WAL past half the limit) it
//     runs a PASSIVE checkpoint, which copies what it can without blocking
//     anyone;
//   - when the WAL file is past the limit it then runs a TRUNCATE
//     checkpoint, which copies the rest, waits for readers to leave the log
//     and truncates it to zero bytes, so that the log restarts and the disk
//     space comes back. It holds writers back only for the frames the
//     passive pass left.
//
// A writer that finds the WAL past twice the limit (the checkpointer could
// not keep up, or was not scheduled) rewinds it itself before writing, so
// the WAL stays under 2 × limit plus one transaction at any write rate.
func (s *Store) checkpoint() {
	defer close(s.stopped)
	t := time.NewTicker(checkpointInterval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		case <-s.kick:
		}
		s.ckptMu.Lock()
		failing = s.checkpointOnce(failing)
		s.ckptMu.Unlock()
		if s.writeFailure() != nil {
			s.probe()
		}
	}
}

// checkpointOnce runs one pass and says whether it failed.
func (s *Store) checkpointOnce(failing bool) bool {
	var busy, logFrames, done int
	err := s.cp.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &done)
	if err == nil && s.walSize() > s.walLimit {
		if err = s.cp.QueryRow("PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &done); err == nil && busy != 0 {
			s.log.Debug("store: WAL rewind waited too long for readers; trying again", "frames", logFrames, "copied", done)
		}
	}
	// Logged when it starts and stops failing: on a full disk it fails
	// at every pass.
	switch {
	case err != nil && !failing:
		s.log.Warn("store: WAL checkpoint failing", "err", err, "wal_bytes", s.walSize())
	case err == nil && failing:
		s.log.Info("store: WAL checkpoint works again", "wal_bytes", s.walSize())
	}
	return err != nil
}

// beforeWrite runs before each write transaction: it asks the checkpointer
// for an early pass when the WAL is large, and rewinds the WAL itself when
// it is past twice the limit.
func (s *Store) beforeWrite(ctx context.Context) {
	if s.pg {
		return
	}
	size := s.walSize()
	if size <= s.walLimit/2 {
		return
	}
	select {
	case s.kick <- struct{}{}:
	default:
	}
	if size <= 2*s.walLimit {
		return
	}
	// SQLite refuses a second checkpoint while one runs, without waiting:
	// wait here for the checkpointer's pass, which may have rewound it.
	s.ckptMu.Lock()
	defer s.ckptMu.Unlock()
	if size = s.walSize(); size <= 2*s.walLimit {
		return
	}
	sqlDB, err := s.w.DB()
	if err != nil {
		return
	}
	var busy, logFrames, done int
	if err := sqlDB.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &done); err != nil {
		s.log.Warn("store: WAL rewind before a write", "err", err, "wal_bytes", size)
	} else if busy != 0 {
		s.log.Warn("store: WAL rewind before a write waited too long for readers", "wal_bytes", size)
	}
}

// walSize is the size of the WAL file (0 when there is none).
func (s *Store) walSize() int64 {
	if s.pg {
		return 0
	}
	fi, err := os.Stat(s.path + "-wal")
	if err != nil {
		return 0
	}
	return fi.Size()
}

// writeHealth remembers whether the last write reached the disk.
type writeHealth struct {
	mu    sync.Mutex
	err   error // the last write's failure of the database itself; nil once one succeeds
	since time.Time
}

// noteWrite records the outcome of a write transaction. Only failures of
// the database itself (disk full, I/O error, locked past the busy timeout)
// count; a write refused for its data says nothing about the disk.
func (s *Store) noteWrite(err error) {
	failed := errors.Is(err, ErrUnavailable) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
	if err != nil && !failed {
		return
	}
	h := &s.health
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case failed && h.err == nil:
		h.since = time.Now()
		s.log.Error("store: writes are failing; posts are answered 503 until they succeed", "err", err)
	case !failed && h.err != nil:
		s.log.Info("store: writes succeed again", "failing_for", time.Since(h.since).Round(time.Second))
	}
	if failed {
		h.err = err
	} else {
		h.err = nil
	}
}

// writeFailure is the last write's failure, or nil when it succeeded.
func (s *Store) writeFailure() error {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	if s.health.err == nil {
		return nil
	}
	return fmt.Errorf("writes failing since %s: %w", s.health.since.UTC().Format(time.RFC3339), s.health.err)
}

// probe is a write of one page (the header's user_version rewritten with
// its own value), made while writes are failing so that readiness comes
// back by itself once the disk has room, even when nothing else writes.
func (s *Store) probe() {
	sqlDB, err := s.w.DB()
	if err != nil {
		return
	}
	var v int64
	if err := sqlDB.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		s.noteWrite(unavailable(err))
		return
	}
	_, err = sqlDB.Exec(fmt.Sprintf("PRAGMA user_version = %d", v))
	s.noteWrite(unavailable(err))
}

// unavailable wraps a failure of the database itself as ErrUnavailable,
// keeping the cause for errors.Is.
func unavailable(err error) error {
	if err == nil || !isUnavailable(err) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// Ready says whether the database answers and takes writes, for /readyz.
func (s *Store) Ready(ctx context.Context) error {
	if err := s.Ping(ctx); err != nil {
		return err
	}
	if s.pg {
		// No probe runs here: a server that answers again takes writes
		// again (its disk and failover are the server's business).
		s.noteWrite(nil)
	}
	return s.writeFailure()
}
