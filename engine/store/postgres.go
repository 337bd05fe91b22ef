package store

import (
	"context"
	"crypto/rand"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// DefaultPostgresConns is the PostgreSQL pool size of one engine: a few
// connections for the intake's group commits, the workers' claims and
// finishes, and the admin UI's reads. With N engines the server needs
// N × this plus the listeners (one each) and headroom for maintenance.
const DefaultPostgresConns = 10

// IsPostgres tells a PostgreSQL URL from a SQLite file path.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// openPostgres opens a PostgreSQL database. Every engine of a cluster opens
// the same one; correctness across them rests on row locks and conditional
// statements (see Claim, Rescue, the lock helpers below), never on a single
// writer.
func openPostgres(ctx context.Context, dsn string, opts Options) (*Store, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		// url.Parse quotes the whole URL, password included.
		return nil, errors.New("store: the PostgreSQL URL does not parse; give postgres://user:password@host:port/database")
	}
	if u.Host == "" {
		return nil, errors.New("store: the PostgreSQL URL names no host; give postgres://user:password@host:port/database")
	}
	conns := opts.MaxConns
	if conns <= 0 {
		conns = DefaultPostgresConns
	}
	db, err := openDialector(postgres.New(postgres.Config{DSN: dsn}), conns)
	if err != nil {
		return nil, errors.New(redact(err.Error(), u))
	}
	s := &Store{
		w: db, r: db, pg: true, dsn: dsn, path: u.Redacted(), log: opts.Logger,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{}),
	}
	close(s.stopped) // no checkpointer
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.Ping(pingCtx); err != nil {
		_ = s.closeAll()
		return nil, fmt.Errorf("store: PostgreSQL at %s does not answer: %s", s.path, redact(err.Error(), u))
	}
	if !opts.SkipMigrate {
		if _, err := s.Migrate(ctx); err != nil {
			_ = s.closeAll()
			return nil, err
		}
	}
	return s, nil
}

// redact removes the URL's password from a driver message.
func redact(msg string, u *url.URL) string {
	if p, ok := u.User.Password(); ok && p != "" {
		msg = strings.ReplaceAll(msg, p, "xxxxx")
	}
	return msg
}

// pgUnavailable tells PostgreSQL failures of the server or the connection
// (the caller answers 503 and the appliance sends again) from errors about
// the data. A serialization failure or deadlock between engines is one of
// them: the whole transaction rolled back, and sending again succeeds.
func pgUnavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case len(pe.Code) < 2:
			return false
		case pe.Code == "25006": // read-only transaction: a standby after failover
			return true
		}
		switch pe.Code[:2] {
		case "08", "40", "53", "57", "58":
			// connection, rollback (serialization, deadlock), resources
			// (disk full, too many connections), shutdown, system
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	if errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) || pgconn.Timeout(err) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"conn closed", "connection refused", "failed to connect", "unexpected EOF", "broken pipe", "connection reset"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// rebind turns the ? placeholders of q into PostgreSQL's $1, $2, … for
// statements run on database/sql directly (gorm rebinds its own). None of
// the store's statements has a ? inside a string literal.
func (s *Store) rebind(q string) string {
	if !s.pg || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// forUpdate makes a read inside a write transaction lock the rows it finds
// on PostgreSQL, so that a read-then-write is not raced by another engine
// under READ COMMITTED. SQLite's writer is alone already.
func (s *Store) forUpdate(tx *gorm.DB) *gorm.DB {
	if s.pg {
		return tx.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return tx
}

// lockTable serializes the write transactions on table across engines for
// the rest of the transaction (readers go on), for a check that spans rows
// not yet written: "no admin exists yet", "only the last setup token".
func (s *Store) lockTable(tx *gorm.DB, table string) error {
	if !s.pg {
		return nil
	}
	return tx.Exec("LOCK TABLE " + table + " IN SHARE ROW EXCLUSIVE MODE").Error
}

// workChannel is the LISTEN/NOTIFY channel on which an engine that queued
// or freed work tells the others' workers to look.
const workChannel = "switchboard_work"

// notifyWorkSQL queues a notification, sent when the transaction commits
// (and not at all if it rolls back). PostgreSQL folds identical
// notifications of one transaction into one.
const notifyWorkSQL = "SELECT pg_notify('" + workChannel + "', '')"

// notifyWork notifies the other engines from inside a gorm transaction.
func (s *Store) notifyWork(tx *gorm.DB) error {
	if !s.pg {
		return nil
	}
	return tx.Exec(notifyWorkSQL).Error
}

// OnWork calls wake whenever an engine sharing the database queued work
// (new deliveries, retries, rescued leases), until the store closes or ctx
// ends. On PostgreSQL one connection LISTENs; when it drops it reconnects
// with backoff, and wakes once on every reconnect for what it may have
// missed. The workers' own idle polling stays as the fallback (a pooler in
// transaction mode does not pass notifications on). On SQLite only one
// process uses the database, and OnWork does nothing.
func (s *Store) OnWork(ctx context.Context, wake func()) {
	if !s.pg {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-s.stop:
		case <-ctx.Done():
		}
		cancel()
	}()
	go func() {
		backoff := time.Second
		for ctx.Err() == nil {
			err := s.listen(ctx, wake, func() { backoff = time.Second })
			if ctx.Err() != nil {
				return
			}
			s.log.Warn("store: listening for other engines' work failed; reconnecting (workers still poll meanwhile)",
				"err", redactDSN(err, s.dsn), "retry_in", backoff)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 30*time.Second)
		}
	}()
}

func (s *Store) listen(ctx context.Context, wake func(), connected func()) error {
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+workChannel); err != nil {
		return err
	}
	connected()
	wake()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		wake()
	}
}

func redactDSN(err error, dsn string) string {
	u, perr := url.Parse(dsn)
	if perr != nil {
		return "(error hidden: the URL holds a password)"
	}
	return redact(err.Error(), u)
}

// Leader takes or renews, for owner, the lease that makes one engine of a
// cluster run the job called name (see the leader_leases table) until
// now+ttl. It returns true while owner holds it; a lease another owner
// holds and has not let expire is left alone. One conditional upsert, so
// two engines asking at once cannot both win.
//
// A SQLite database belongs to one engine, which is always the leader
// (and pays no write for it). On PostgreSQL a read comes first: a lease
// held with more than half its time left, by owner or by another, costs
// no write.
func (s *Store) Leader(ctx context.Context, name, owner string, now time.Time, ttl time.Duration) (bool, error) {
	if !s.pg {
		return true, nil
	}
	var held []struct {
		Owner      string
		LeaseUntil int64
	}
	if err := s.r.WithContext(ctx).Raw(`SELECT owner, lease_until FROM leader_leases WHERE name = ?`, name).Scan(&held).Error; err != nil {
		return false, classify("read leader lease "+name, err)
	}
	if len(held) == 1 {
		h := held[0]
		switch {
		case h.Owner == owner && h.LeaseUntil-ms(now) > ttl.Milliseconds()/2:
			return true, nil
		case h.Owner != owner && h.LeaseUntil >= ms(now):
			return false, nil
		}
	}
	var got []string
	err := s.writeTx(ctx, func(tx *gorm.DB) error {
		return tx.Raw(`INSERT INTO leader_leases (name, owner, lease_until) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
			WHERE leader_leases.owner = excluded.owner OR leader_leases.lease_until < ?
			RETURNING owner`, name, owner, ms(now.Add(ttl)), ms(now)).Scan(&got).Error
	})
	if err != nil {
		return false, classify("take leader lease "+name, err)
	}
	return len(got) == 1, nil
}

// Resign gives up owner's lease on name (at shutdown), so that another
// engine takes the job over at once instead of after the lease runs out.
func (s *Store) Resign(ctx context.Context, name, owner string) error {
	err := s.writeTx(ctx, func(tx *gorm.DB) error {
		return tx.Exec(`DELETE FROM leader_leases WHERE name = ? AND owner = ?`, name, owner).Error
	})
	if err != nil {
		return classify("give up leader lease "+name, err)
	}
	return nil
}

// NewOwner names one engine process in leases: host, pid and a random
// part, so that two engines never share a name even when their hosts and
// pids agree (containers all run as pid 1 under the same image host name).
func NewOwner() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}
