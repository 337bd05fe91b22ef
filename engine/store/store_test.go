package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"switchboard/engine/store/pgtest"
)

func open(t *testing.T) *Store {
	t.Helper()
	return openDSN(t, filepath.Join(t.TempDir(), "sb.db"))
}

// openPG opens a store on a fresh PostgreSQL schema (see pgtest).
func openPG(t *testing.T) *Store {
	t.Helper()
	return openDSN(t, pgtest.URL(t))
}

func openDSN(t *testing.T, dsn string) *Store {
	t.Helper()
	st, err := Open(context.Background(), dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// dialects open a fresh store of each database Switchboard supports.
var dialects = []struct {
	name string
	open func(t *testing.T) *Store
}{{"sqlite", open}, {"postgres", openPG}}

// eachDB runs fn against a fresh store of each dialect, in parallel: the
// store's behaviour is the same on both (the conformance suite).
func eachDB(t *testing.T, fn func(t *testing.T, st *Store)) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			fn(t, d.open(t))
		})
	}
}

func TestMigrationsOnEmptyDatabaseAndRerun(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sb.db")
	ctx := context.Background()
	st, err := Open(ctx, path, Options{SkipMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := st.Migrations(ctx)
	if err != nil || len(ms) == 0 || ms[0].Applied {
		t.Fatalf("fresh database: %+v %v", ms, err)
	}
	n, err := st.Migrate(ctx)
	if err != nil || n != len(ms) {
		t.Fatalf("first migrate: %d %v, want %d", n, err, len(ms))
	}
	if n, err := st.Migrate(ctx); err != nil || n != 0 {
		t.Fatalf("second migrate: %d %v, want nothing to do", n, err)
	}
	_ = st.Close()
	// Reopening migrates again (a no-op) and the schema works.
	st, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ms, _ = st.Migrations(ctx)
	for _, m := range ms {
		if !m.Applied {
			t.Fatalf("migration %d not applied", m.Version)
		}
	}
	var journal string
	if err := st.w.Raw("PRAGMA journal_mode").Scan(&journal).Error; err != nil || journal != "wal" {
		t.Fatalf("journal_mode = %q %v, want wal", journal, err)
	}
	var fk int
	if err := st.w.Raw("PRAGMA foreign_keys").Scan(&fk).Error; err != nil || fk != 1 {
		t.Fatalf("foreign_keys = %d %v, want 1", fk, err)
	}
}

func TestOpenRefusesWhatItCannotServe(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{"", ":memory:", "postgres:///no-host", "postgres://%zz", "data.db?_foreign_keys=off"} {
		if _, err := Open(context.Background(), dsn, Options{}); err == nil {
			t.Errorf("Open(%q) succeeded", dsn)
		}
	}
	dir := t.TempDir()
	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o500); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 { // root writes anywhere
		if _, err := Open(context.Background(), filepath.Join(ro, "x.db"), Options{}); err == nil {
			t.Error("Open in a read-only directory succeeded")
		}
	}
}

func newEvent(key string, deliveries ...NewDelivery) *NewEvent {
	return &NewEvent{Event: Event{DedupeKey: key, ApplianceID: "Default", Name: "support_conference_end", Source: "outbound",
		LSID: key, OccurredAt: 1, Fields: "event=support_conference_end", Routing: Routed}, Deliveries: deliveries}
}

// newConfig stores a configuration of plugin "p".
func newConfig(t *testing.T, st *Store) *Config {
	t.Helper()
	cfg := &Config{Plugin: "p", Name: "c", ApplianceID: "Default", Settings: "{}"}
	if err := st.CreateConfig(context.Background(), cfg, AuditEntry{Actor: "t", Action: "create", Summary: "s"}, nil); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestClaimFinishAndPurge(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		cfg := newConfig(t, st)
		res, err := st.InsertEvents(ctx, []*NewEvent{newEvent("a", NewDelivery{ConfigID: cfg.ID, Plugin: "p", MaxAttempts: 2}), newEvent("a")}, nil)
		if err != nil || res[0].Duplicate || !res[1].Duplicate {
			t.Fatalf("insert: %+v %v", res, err)
		}
		now := time.Now()
		ds, err := st.Claim(ctx, "p", 5, "w1", time.Minute, now)
		if err != nil || len(ds) != 1 || ds[0].Attempts != 1 || ds[0].State != StateRunning {
			t.Fatalf("claim: %+v %v", ds, err)
		}
		if again, _ := st.Claim(ctx, "p", 5, "w2", time.Minute, now); len(again) != 0 {
			t.Fatal("a leased delivery was claimed twice")
		}
		if err := st.FinishAttempt(ctx, Finish{ID: ds[0].ID, Token: "forged", State: StateDone}); !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("finish by a non-owner: %v, want ErrLeaseLost", err)
		}
		if err := st.FinishAttempt(ctx, Finish{ID: ds[0].ID, Token: ds[0].LeaseToken, State: StateDone, Outcome: "done", Started: now}); err != nil {
			t.Fatal(err)
		}
		d, _ := st.GetDelivery(ctx, ds[0].ID)
		if d.State != StateDone || d.FinishedAt == 0 || d.LeaseOwner != "" {
			t.Fatalf("after finish: %+v", d)
		}
		// Not yet past retention: nothing purged. Past it: delivery and event go.
		if dn, en, err := st.Purge(ctx, now.Add(-time.Hour)); err != nil || dn+en != 0 {
			t.Fatalf("early purge removed %d/%d (%v)", dn, en, err)
		}
		if dn, en, err := st.Purge(ctx, time.Now().Add(time.Hour)); err != nil || dn != 1 || en != 1 {
			t.Fatalf("purge removed %d deliveries, %d events (%v); want 1, 1", dn, en, err)
		}
	})
}

// The poller commits its cursor in the same transaction as the events it
// found: if the cursor cannot be written, the events are not stored either.
func TestAfterFailureRollsBackTheEvents(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		_, err := st.InsertEvents(ctx, []*NewEvent{newEvent("x")}, func(tx *sql.Tx) error {
			_, err := tx.Exec(`UPDATE no_such_table SET x = 1`)
			return err
		})
		if err == nil {
			t.Fatal("InsertEvents succeeded although after failed")
		}
		evs, _ := st.ListEvents(ctx, EventFilter{})
		if len(evs) != 0 {
			t.Fatalf("%d events stored after a failed transaction", len(evs))
		}
	})
}

// A session end stored for one configuration (posted, or polled by it) and
// then polled by another gives the second its own delivery, once.
func TestDuplicateEventGainsMissingDeliveries(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		var ids []int64
		for _, name := range []string{"a", "b"} {
			c := &Config{Plugin: "p", Name: name, ApplianceID: "Default", Settings: "{}"}
			if err := st.CreateConfig(ctx, c, AuditEntry{Actor: "t", Action: "create", Summary: "s"}, nil); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		first, err := st.InsertEvents(ctx, []*NewEvent{newEvent("end", NewDelivery{ConfigID: ids[0], Plugin: "p", MaxAttempts: 1})}, nil)
		if err != nil || first[0].Deliveries != 1 {
			t.Fatalf("first: %+v %v", first, err)
		}
		for range 2 {
			res, err := st.InsertEvents(ctx, []*NewEvent{newEvent("end", NewDelivery{ConfigID: ids[0], Plugin: "p", MaxAttempts: 1}, NewDelivery{ConfigID: ids[1], Plugin: "p", MaxAttempts: 1})}, nil)
			if err != nil || !res[0].Duplicate || res[0].EventID != first[0].EventID {
				t.Fatalf("again: %+v %v", res, err)
			}
		}
		ds, _ := st.ListDeliveries(ctx, DeliveryFilter{EventID: first[0].EventID})
		if len(ds) != 2 {
			t.Fatalf("deliveries = %d, want one per configuration", len(ds))
		}
		evs, _ := st.ListEvents(ctx, EventFilter{})
		if len(evs) != 1 {
			t.Fatalf("events = %d, want 1", len(evs))
		}
	})
}

// The writer never checkpoints inside a commit; the background checkpointer
// keeps the WAL from growing, and Close leaves it empty.
func TestCheckpointsRunInTheBackground(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sb.db")
	st, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var auto int
	if err := st.w.Raw("PRAGMA wal_autocheckpoint").Scan(&auto).Error; err != nil || auto != 0 {
		t.Fatalf("writer wal_autocheckpoint = %d %v, want 0", auto, err)
	}
	for i := range 50 {
		if _, err := st.InsertEvents(context.Background(), []*NewEvent{newEvent(fmt.Sprint("k", i))}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	info, err := os.Stat(path + "-wal")
	if err == nil && info.Size() != 0 {
		t.Fatalf("WAL holds %d bytes after Close, want it checkpointed", info.Size())
	}
}

// An acknowledged write survives a power cut by default: the writer syncs
// the WAL in every commit. The faster mode is a choice.
func TestDurabilityChoosesTheWritersSync(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		d    Durability
		want int
	}{{"", 2}, {DurabilityPower, 2}, {DurabilityProcess, 1}} {
		st, err := Open(context.Background(), filepath.Join(t.TempDir(), "sb.db"), Options{Durability: c.d})
		if err != nil {
			t.Fatal(err)
		}
		var got int
		if err := st.w.Raw("PRAGMA synchronous").Scan(&got).Error; err != nil || got != c.want {
			t.Errorf("durability %q: writer synchronous = %d %v, want %d", c.d, got, err, c.want)
		}
		_ = st.Close()
	}
	if _, err := Open(context.Background(), filepath.Join(t.TempDir(), "sb.db"), Options{Durability: "fast"}); err == nil {
		t.Fatal("an unknown durability was accepted")
	}
}

// Under continuous writes, with readers beside them, the WAL never grows
// past twice its limit plus one transaction: it is rewound, not only
// copied back (a passive checkpoint beside continuous commits never lets
// it restart).
func TestWALStaysBounded(t *testing.T) {
	t.Parallel()
	const limit = 256 << 10
	path := filepath.Join(t.TempDir(), "sb.db")
	st, err := Open(context.Background(), path, Options{WALLimit: limit, Durability: DurabilityProcess})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for ctx.Err() == nil {
			if _, err := st.ListEvents(ctx, EventFilter{Limit: 50}); err != nil && ctx.Err() == nil {
				t.Errorf("reader: %v", err)
				return
			}
		}
	}()
	var largest int64
	written := 0
	for i := range 200 {
		batch := make([]*NewEvent, 20)
		for j := range batch {
			batch[j] = newEvent(fmt.Sprintf("wal-%d-%d", i, j))
			batch[j].Event.Fields = strings.Repeat("f", 400)
		}
		if _, err := st.InsertEvents(context.Background(), batch, nil); err != nil {
			t.Fatal(err)
		}
		written += len(batch)
		size := st.walSize()
		largest = max(largest, size)
		if size > 2*limit+limit/2 {
			t.Fatalf("after %d events the WAL holds %d bytes; bound %d", written, size, 2*limit+limit/2)
		}
	}
	cancel()
	<-readerDone
	db, _ := os.Stat(path)
	t.Logf("%d events: database %d bytes, largest WAL %d bytes (limit %d)", written, db.Size(), largest, limit)
}

// A list asked for more than the cap gets the cap, not the default of 100.
func TestListLimitCapsRatherThanResets(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		batch := make([]*NewEvent, maxListLimit+10)
		for i := range batch {
			batch[i] = newEvent(fmt.Sprintf("e%d", i))
		}
		if _, err := st.InsertEvents(ctx, batch, nil); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ asked, want int }{{0, 100}, {250, 250}, {maxListLimit + 5, maxListLimit}} {
			evs, err := st.ListEvents(ctx, EventFilter{Limit: tc.asked, WithoutFields: true})
			if err != nil || len(evs) != tc.want {
				t.Errorf("limit %d listed %d events (%v), want %d", tc.asked, len(evs), err, tc.want)
			}
		}
	})
}

// TestOpenLeavesNoParserBuffersInTheHeap: after the migrations of a fresh
// database the heap goal is set by what the store holds, not by the
// migration parser's 4 MiB scan buffers (with them the goal was 18–35 MiB
// here, without them 4 MiB). Not parallel: the goal is the whole process's.
func TestOpenLeavesNoParserBuffersInTheHeap(t *testing.T) {
	open(t)
	s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}}
	metrics.Read(s)
	if goal := s[0].Value.Uint64(); goal > 8<<20 {
		t.Fatalf("heap goal after opening a fresh database: %.1f MiB, want under 8 MiB", float64(goal)/(1<<20))
	}
}
