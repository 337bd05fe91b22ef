package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", for countDedupeKeys

	"switchboard/engine/store/pgtest"
)

// pgSchema is the fresh schema one run's engines share on the PostgreSQL
// server of -database, so that runs (and tests) in parallel never see each
// other's rows.
type pgSchema struct {
	name string
	url  string // the server's URL with search_path set to the schema
	drop func() error
}

// newPGSchema creates an empty schema on the server of base.
func newPGSchema(ctx context.Context, base string) (*pgSchema, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		// Not the URL itself: it may hold a password.
		return nil, errors.New("-database must be a postgres://user@host:port/db URL")
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	su, drop, err := pgtest.NewSchema(ctx, base, "chaos_")
	if err != nil {
		return nil, fmt.Errorf("-database: %w", err)
	}
	parsed, _ := url.Parse(su)
	return &pgSchema{name: parsed.Query().Get("search_path"), url: su, drop: drop}, nil
}

// dedupeKeys counts the stored events by the intake's deduplication key.
func (s *pgSchema) dedupeKeys() (map[string]int, error) {
	db, err := sql.Open("pgx", s.url)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return countDedupeKeys(db)
}

// newSecretKey is a SWITCHBOARD_SECRET_KEY for engines sharing one
// database: they must all open the same sealed secrets.
func newSecretKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// balancer is the load balancer in front of the engines' intakes: each
// post goes to the next engine in turn. A post to an engine that is down
// gets 502, as from a load balancer without health checks, and the
// appliance sends it again.
type balancer struct {
	srv     *http.Server
	addr    string
	next    atomic.Uint64
	proxies []*httputil.ReverseProxy
}

func startBalancer(engines []*engineProc) (*balancer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &balancer{addr: ln.Addr().String()}
	for _, e := range engines {
		target, err := url.Parse(e.intakeURL())
		if err != nil {
			ln.Close()
			return nil, err
		}
		p := httputil.NewSingleHostReverseProxy(target)
		p.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, "engine unreachable: "+strings.TrimSpace(err.Error()), http.StatusBadGateway)
		}
		b.proxies = append(b.proxies, p)
	}
	b.srv = &http.Server{Handler: b, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = b.srv.Serve(ln) }()
	return b, nil
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := (b.next.Add(1) - 1) % uint64(len(b.proxies))
	b.proxies[i].ServeHTTP(w, r)
}

func (b *balancer) url() string { return "http://" + b.addr }

func (b *balancer) close() { _ = b.srv.Close() }

// cluster is the engines of one run: one on SQLite in the data directory,
// or several sharing a fresh PostgreSQL schema, each with its own data
// directory (engine-N) and the same secret key and admin password.
type cluster struct {
	engines []*engineProc
	schema  *pgSchema // nil on SQLite
	lb      *balancer // nil with one engine
}

// startCluster starts the engines and waits until each is ready.
func (r *report) startCluster(ctx context.Context, o options, dir string) (*cluster, error) {
	c := &cluster{}
	password := randomHex(12)
	if o.database == "" {
		eng, err := newEngine(o.engine, dir, password)
		if err != nil {
			return nil, err
		}
		c.engines = []*engineProc{eng}
	} else {
		schema, err := newPGSchema(ctx, o.database)
		if err != nil {
			return nil, err
		}
		c.schema, r.schema = schema, schema
		key := newSecretKey()
		for i := range o.engines {
			d := filepath.Join(dir, fmt.Sprintf("engine-%d", i+1))
			if err := os.MkdirAll(d, 0o700); err != nil {
				return c, err
			}
			eng, err := newEngine(o.engine, d, password)
			if err != nil {
				return c, err
			}
			eng.database, eng.secretKey = schema.url, key
			c.engines = append(c.engines, eng)
		}
	}
	// The first engine migrates the database and creates the admin
	// account; the others start (startOthers) once the configuration exists.
	if err := c.engines[0].start(); err != nil {
		return c, err
	}
	return c, c.engines[0].waitReady(ctx, time.Minute)
}

// startOthers starts the engines after the first and waits until each is
// ready.
func (c *cluster) startOthers(ctx context.Context) error {
	for _, eng := range c.engines[1:] {
		if err := eng.start(); err != nil {
			return err
		}
		if err := eng.waitReady(ctx, time.Minute); err != nil {
			return err
		}
	}
	return nil
}

// killAll kills whatever engine is still running (after a failed run).
func (c *cluster) killAll() {
	for _, eng := range c.engines {
		if eng.started() && eng.running() {
			eng.kill()
		}
	}
	if c.lb != nil {
		c.lb.close()
	}
}

// api talks to the first engine: every engine answers from the shared
// database.
func (c *cluster) api() *apiClient {
	return &apiClient{base: c.engines[0].adminURL, password: c.engines[0].password}
}

// intakeURL is where the appliance posts: the engine, or the load
// balancer in front of several.
func (c *cluster) intakeURL() (string, error) {
	if len(c.engines) == 1 {
		return c.engines[0].intakeURL(), nil
	}
	lb, err := startBalancer(c.engines)
	if err != nil {
		return "", err
	}
	c.lb = lb
	return lb.url(), nil
}

// storedEvents counts the events the engines stored, by deduplication key.
func (c *cluster) storedEvents(dir string) (map[string]int, error) {
	if c.schema != nil {
		return c.schema.dedupeKeys()
	}
	return sqliteDedupeKeys(filepath.Join(dir, "switchboard.db"))
}
