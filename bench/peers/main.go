// Command peers serves the outbound-event endpoint the way a user could
// build it instead of running Switchboard, for cmd/switchboard-load's
// comparison: each post is parsed, stored durably in SQLite and answered
// 200 after its commit, by
//
//   - goqite: a goqite queue's Send behind a net/http handler;
//   - river: an insert-only River client with its SQLite driver;
//   - gorm: a plain gorm Create (one INSERT transaction) per request.
//
// All three use the mattn/go-sqlite3 driver Switchboard uses, in WAL mode,
// one connection, synchronous=FULL (-durability power, Switchboard's
// default) or NORMAL (process).
//
//	cd bench && go build -o ../bin/peers ./peers
//	bin/peers -kind goqite -db /tmp/goqite.db
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"

	_ "github.com/mattn/go-sqlite3"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	gormsqlite "gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
	"maragu.dev/goqite"
)

func main() {
	kind := flag.String("kind", "goqite", "goqite, river or gorm")
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	path := flag.String("db", "", "SQLite file (created)")
	durability := flag.String("durability", "power", "power (synchronous=FULL) or process (NORMAL)")
	flag.Parse()
	if err := run(*kind, *addr, *path, *durability); err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(1)
	}
}

// store keeps one posted event; it returns after the commit.
type store func(ctx context.Context, name, lsid, form string) error

func run(kind, addr, path, durability string) error {
	if path == "" {
		return errors.New("-db is required")
	}
	sync := map[string]string{"power": "FULL", "process": "NORMAL"}[durability]
	if sync == "" {
		return fmt.Errorf("-durability %q: want power or process", durability)
	}
	dsn := "file:" + path + "?_journal_mode=WAL&_busy_timeout=5000&_txlock=immediate&_synchronous=" + sync
	var st store
	var err error
	switch kind {
	case "goqite":
		st, err = openGoqite(dsn)
	case "river":
		st, err = openRiver(dsn)
	case "gorm":
		st, err = openGorm(dsn)
	default:
		err = fmt.Errorf("-kind %q: want goqite, river or gorm", kind)
	}
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Println("listening", ln.Addr())
	return http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("event") == "" {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		if err := st(r.Context(), r.PostForm.Get("event"), r.PostForm.Get("lsid"), r.PostForm.Encode()); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "OK\n")
	}))
}

func openDB(dsn string) (*sql.DB, error) {
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, err
	}
	// One writer connection, as River's SQLite driver asks and as
	// Switchboard's store has.
	db.SetMaxOpenConns(1)
	return db, db.Ping()
}

// openGoqite creates goqite's table from the schema file goqite ships
// (the module does not export it), found in the module cache.
func openGoqite(dsn string) (store, error) {
	db, err := openDB(dsn)
	if err != nil {
		return nil, err
	}
	schema, err := goqiteSchema()
	if err != nil {
		return nil, err
	}
	if _, err := db.Exec(schema); err != nil {
		return nil, fmt.Errorf("goqite schema: %w", err)
	}
	q := goqite.New(goqite.NewOpts{DB: db, Name: "events"})
	return func(ctx context.Context, _, _, form string) error {
		return q.Send(ctx, goqite.Message{Body: []byte(form)})
	}, nil
}

func goqiteSchema() (string, error) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "", errors.New("no build information to find goqite's version")
	}
	version := ""
	for _, m := range info.Deps {
		if m.Path == "maragu.dev/goqite" {
			version = m.Version
		}
	}
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMODCACHE: %w", err)
	}
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "maragu.dev", "goqite@"+version, "schema_sqlite.sql"))
	return string(b), err
}

// eventArgs is the River job of one posted event.
type eventArgs struct {
	Name string `json:"name"`
	LSID string `json:"lsid"`
	Form string `json:"form"`
}

func (eventArgs) Kind() string { return "outbound_event" }

func openRiver(dsn string) (store, error) {
	db, err := openDB(dsn)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	m, err := rivermigrate.New(riversqlite.New(db), nil)
	if err != nil {
		return nil, err
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return nil, fmt.Errorf("river migrate: %w", err)
	}
	// Insert only: the comparison is of taking the event, not working it.
	client, err := river.NewClient(riversqlite.New(db), &river.Config{SkipUnknownJobCheck: true})
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, name, lsid, form string) error {
		_, err := client.Insert(ctx, eventArgs{Name: name, LSID: lsid, Form: form}, nil)
		return err
	}, nil
}

// event is the gorm model of one posted event.
type event struct {
	ID   int64
	Name string
	LSID string `gorm:"uniqueIndex"`
	Form string
}

func openGorm(dsn string) (store, error) {
	db, err := gorm.Open(gormsqlite.Open(dsn), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		return nil, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(1)
	if err := db.AutoMigrate(&event{}); err != nil {
		return nil, err
	}
	return func(ctx context.Context, name, lsid, form string) error {
		return db.WithContext(ctx).Create(&event{Name: name, LSID: lsid, Form: form}).Error
	}, nil
}
