package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"testing"
	"time"

	"switchboard/migrations"
)

// Every SQLite migration has its PostgreSQL twin under the same name, and
// no twin lacks its original: a migration added for one dialect only would
// leave the other's schema behind.
func TestEveryMigrationHasItsPostgresTwin(t *testing.T) {
	t.Parallel()
	names := func(f fs.FS) []string {
		out, err := fs.Glob(f, "*.sql")
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(out)
		return out
	}
	lite, pg := names(migrations.FS), names(migrations.Postgres)
	if fmt.Sprint(lite) != fmt.Sprint(pg) {
		t.Fatalf("SQLite migrations %v\nPostgreSQL migrations %v\nwant the same files", lite, pg)
	}
}

// Migrating twice does nothing the second time, on both databases.
func TestMigrateIsIdempotent(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ms, err := st.Migrations(context.Background())
		if err != nil || len(ms) == 0 {
			t.Fatalf("migrations %v %v", ms, err)
		}
		for _, m := range ms {
			if !m.Applied {
				t.Errorf("migration %d not applied", m.Version)
			}
		}
		if n, err := st.Migrate(context.Background()); err != nil || n != 0 {
			t.Fatalf("second migrate ran %d (%v)", n, err)
		}
	})
}

// Configurations: versions, conflicts, secrets, audit, deletion.
func TestConfigurationsAndAudit(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		c := &Config{Plugin: "p", Name: "a", ApplianceID: "Default", Settings: "{}", Secrets: []byte{0, 1, 2, 255}}
		if err := st.CreateConfig(ctx, c, AuditEntry{Actor: "t", Action: "create", Summary: "s"}, nil); err != nil {
			t.Fatal(err)
		}
		sealed := &Config{Plugin: "p", Name: "b", ApplianceID: "Default", Disabled: true}
		if err := st.CreateConfig(ctx, sealed, AuditEntry{Actor: "t", Action: "create", Summary: "s"}, func(id int64) (string, []byte, error) {
			return fmt.Sprintf(`{"id":%d}`, id), []byte("sealed"), nil
		}); err != nil {
			t.Fatal(err)
		}
		got, err := st.GetConfig(ctx, sealed.ID)
		if err != nil || got.Settings != fmt.Sprintf(`{"id":%d}`, sealed.ID) || string(got.Secrets) != "sealed" || !got.Disabled || got.EnabledAt != 0 {
			t.Fatalf("sealed config %+v %v", got, err)
		}
		upd := *c
		upd.Name = "a2"
		if err := st.UpdateConfig(ctx, &upd, AuditEntry{Actor: "t", Action: "update", Summary: "s"}); err != nil || upd.Version != 2 {
			t.Fatalf("update: %v version %d", err, upd.Version)
		}
		stale := *c
		if err := st.UpdateConfig(ctx, &stale, AuditEntry{Actor: "t", Action: "update", Summary: "s"}); !errors.Is(err, ErrConflict) {
			t.Fatalf("stale update: %v, want ErrConflict", err)
		}
		missing := Config{ID: 9999, Version: 1}
		if err := st.UpdateConfig(ctx, &missing, AuditEntry{}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("update of a missing row: %v", err)
		}
		secrets, err := st.SealedSecrets(ctx)
		if err != nil || !bytes.Equal(secrets[c.ID], []byte{0, 1, 2, 255}) || len(secrets) != 2 {
			t.Fatalf("sealed secrets %v %v", secrets, err)
		}
		src := &SourceConfig{Kind: "pmcloud", Name: "s"}
		if err := st.CreateSourceConfig(ctx, src, AuditEntry{Actor: "t", Action: "create", Summary: "s"}, func(int64) (string, []byte, error) {
			return "{}", []byte("sealed source"), nil
		}); err != nil {
			t.Fatal(err)
		}
		if got, err := st.SealedSourceSecrets(ctx); err != nil || len(got) != 1 || string(got[src.ID]) != "sealed source" {
			t.Fatalf("sealed source secrets %v %v", got, err)
		}
		cleared, err := st.ClearSecrets(ctx, Unopenable{Configs: map[int64][]byte{c.ID: {0, 1, 2, 255}, sealed.ID: []byte("changed meanwhile")}, Sources: map[int64][]byte{src.ID: []byte("sealed source")}},
			func(bool, int64) AuditEntry { return AuditEntry{Actor: "t", Action: "clear", Summary: "s"} }, []byte("check"), AuditEntry{Actor: "t", Action: "key", Summary: "s"})
		if err != nil || fmt.Sprint(cleared) != fmt.Sprint(Cleared{Configs: []int64{c.ID}, Sources: []int64{src.ID}}) {
			t.Fatalf("clear secrets: %v %v", cleared, err)
		}
		if got, _ := st.SealedSourceSecrets(ctx); len(got) != 0 {
			t.Fatalf("a cleared source kept its secret: %v", got)
		}
		if kc, err := st.KeyCheck(ctx); err != nil || string(kc) != "check" {
			t.Fatalf("key check %q %v", kc, err)
		}
		if err := st.SetKeyCheck(ctx, []byte("other")); err != nil {
			t.Fatal(err)
		}
		if kc, _ := st.KeyCheck(ctx); string(kc) != "check" {
			t.Fatalf("SetKeyCheck replaced a stored value: %q", kc)
		}
		if cfgs, err := st.ListConfigs(ctx, "p"); err != nil || len(cfgs) != 2 {
			t.Fatalf("list: %d %v", len(cfgs), err)
		}
		if err := st.DeleteConfig(ctx, c.ID, AuditEntry{Actor: "t", Action: "delete", Summary: "s"}); err != nil {
			t.Fatal(err)
		}
		if err := st.DeleteConfig(ctx, c.ID, AuditEntry{}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
		audit, err := st.Audit(ctx, 0)
		if err != nil || len(audit) != 8 || audit[0].Action != "delete" {
			t.Fatalf("audit %+v %v", audit, err)
		}
	})
}

// Admin accounts, sessions and the setup token.
func TestAdminAccountsAndSessions(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		if err := st.ReplaceSetupToken(ctx, "old", time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := st.ReplaceSetupToken(ctx, "new", time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if ok, _ := st.SetupTokenValid(ctx, "old"); ok {
			t.Fatal("an earlier setup token still works")
		}
		if err := st.CreateFirstAdmin(ctx, &AdminUser{Username: "x", PasswordHash: "h"}, "old"); !errors.Is(err, ErrSetupToken) {
			t.Fatalf("first admin with a stale token: %v", err)
		}
		u := &AdminUser{Username: "admin", PasswordHash: "h"}
		if err := st.CreateFirstAdmin(ctx, u, "new"); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateFirstAdmin(ctx, &AdminUser{Username: "b", PasswordHash: "h"}, ""); !errors.Is(err, ErrAdminExists) {
			t.Fatalf("second first admin: %v", err)
		}
		sess := &AdminSession{TokenHash: "tok", UserID: u.ID, ExpiresAt: ms(time.Now().Add(time.Hour))}
		if err := st.CreateAdminSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
		if _, got, err := st.AdminSessionByToken(ctx, "tok"); err != nil || got.Username != "admin" {
			t.Fatalf("session: %+v %v", got, err)
		}
		if err := st.TouchAdminSession(ctx, sess.ID, time.Now().Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := st.SetAdminPassword(ctx, u.ID, "h2"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.AdminSessionByToken(ctx, "tok"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a session survived a password change: %v", err)
		}
		if err := st.DeleteAdminSession(ctx, "tok"); err != nil {
			t.Fatal(err)
		}
		if got, err := st.AdminUserByName(ctx, "admin"); err != nil || got.PasswordHash != "h2" {
			t.Fatalf("user %+v %v", got, err)
		}
	})
}

// Poll and source leases: one owner at a time, cursors committed with the
// events, a lost lease commits nothing.
func TestPollAndSourceLeases(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		cfg := newConfig(t, st)
		now := time.Now()
		if _, ok, err := st.AcquirePollLease(ctx, cfg.ID, "a", now, now.Add(time.Minute)); err != nil || !ok {
			t.Fatalf("a: %v %v", ok, err)
		}
		if _, ok, _ := st.AcquirePollLease(ctx, cfg.ID, "b", now, now.Add(time.Minute)); ok {
			t.Fatal("b took a live lease")
		}
		if _, err := st.CommitPoll(ctx, PollResult{ConfigID: cfg.ID, Owner: "b", Events: []*NewEvent{newEvent("lost")}, Cursor: now, PolledAt: now}); !errors.Is(err, ErrPollLeaseLost) {
			t.Fatalf("commit without the lease: %v", err)
		}
		if err := st.RecordPollError(ctx, cfg.ID, "a", now, "boom"); err != nil {
			t.Fatal(err)
		}
		if cur, err := st.GetPollCursor(ctx, cfg.ID); err != nil || cur.LastError != "boom" {
			t.Fatalf("cursor %+v %v", cur, err)
		}
		if _, ok, _ := st.AcquirePollLease(ctx, cfg.ID, "b", now.Add(2*time.Minute), now.Add(3*time.Minute)); !ok {
			t.Fatal("b could not take an expired lease")
		}
		if err := st.ReleasePollLease(ctx, cfg.ID, "b"); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := st.AcquireSourceLease(ctx, "pm", "a", now, now.Add(time.Minute)); !ok {
			t.Fatal("source lease")
		}
		res, err := st.CommitSource(ctx, SourceResult{SourceID: "pm", Owner: "a", Records: []*NewEvent{newEvent("r1"), newEvent("r2")}, Cursor: now, PolledAt: now})
		if err != nil || len(res) != 2 {
			t.Fatalf("commit source %v %v", res, err)
		}
		if _, err := st.CommitSource(ctx, SourceResult{SourceID: "pm", Owner: "a", Records: []*NewEvent{newEvent("r2")}, Cursor: now, PolledAt: now}); err != nil {
			t.Fatal(err)
		}
		curs, err := st.ListSourceCursors(ctx)
		if err != nil || len(curs) != 1 || curs[0].TotalNew != 2 || curs[0].LastNew != 0 || curs[0].LastFetched != 1 {
			t.Fatalf("source cursors %+v %v", curs, err)
		}
		if err := st.RecordSourceError(ctx, "pm", "z", now, "x"); !errors.Is(err, ErrPollLeaseLost) {
			t.Fatalf("source error by a non-owner: %v", err)
		}
	})
}

// Retry of failed deliveries, links, stats, unrouted trimming.
func TestRetryLinksStatsAndTrim(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		cfg := newConfig(t, st)
		if _, err := st.InsertEvents(ctx, []*NewEvent{newEvent("f", NewDelivery{ConfigID: cfg.ID, Plugin: "p", MaxAttempts: 1})}, nil); err != nil {
			t.Fatal(err)
		}
		ds, err := st.Claim(ctx, "p", 1, "w", time.Minute, time.Now())
		if err != nil || len(ds) != 1 {
			t.Fatalf("claim %v %v", ds, err)
		}
		if err := st.AttemptLinks(ds[0].Fence()).SetLink(ctx, cfg.ID, "f", "ticket", "T1"); err != nil {
			t.Fatal(err)
		}
		if err := st.SaveCheckpoint(ctx, ds[0].Fence(), map[string]string{"note": "n1"}); err != nil {
			t.Fatal(err)
		}
		if err := st.FinishAttempt(ctx, Finish{ID: ds[0].ID, Token: ds[0].LeaseToken, State: StateFailed, Outcome: "permanent", Error: "no", Records: `[{"kind":"ticket"}]`, Started: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if v, ok, err := st.Link(ctx, cfg.ID, "f", "ticket"); err != nil || !ok || v != "T1" {
			t.Fatalf("link %q %v %v", v, ok, err)
		}
		if err := st.SetLink(ctx, cfg.ID, "f", "ticket", "T2"); err != nil {
			t.Fatal(err)
		}
		if v, _, _ := st.Link(ctx, cfg.ID, "f", "ticket"); v != "T2" {
			t.Fatalf("link after replace %q", v)
		}
		if counts, err := st.FailedCounts(ctx); err != nil || counts[cfg.ID] != 1 {
			t.Fatalf("failed counts %v %v", counts, err)
		}
		// Alerts read failures by when they ended, in half-open windows.
		if f, err := st.FailedSince(ctx, time.Now().Add(-time.Hour)); err != nil || len(f) != 1 || f[0].ConfigID != cfg.ID || f[0].ID != ds[0].ID || f[0].LastError != "no" {
			t.Fatalf("failed since an hour ago: %+v %v", f, err)
		}
		if f, err := st.FailedSince(ctx, time.Now().Add(time.Second)); err != nil || len(f) != 0 {
			t.Fatalf("failed in a later window: %+v %v", f, err)
		}
		n, err := st.RetryFailed(ctx, cfg.ID, AuditEntry{Actor: "t", Action: "retry", Summary: "retried %d"})
		if err != nil || n != 1 {
			t.Fatalf("retry failed %d %v", n, err)
		}
		d, _ := st.GetDelivery(ctx, ds[0].ID)
		if d.State != StatePending || d.MaxAttempts != 2 || d.CheckpointValues()["note"] != "n1" || d.Records == "" {
			t.Fatalf("after retry %+v", d)
		}
		if err := st.RetryNow(ctx, d.ID, AuditEntry{Actor: "t", Action: "retry", Summary: "s"}); err != nil {
			t.Fatal(err)
		}
		if as, err := st.Attempts(ctx, d.ID); err != nil || len(as) != 1 || as[0].Number != 1 || as[0].Outcome != "permanent" {
			t.Fatalf("attempts %+v %v", as, err)
		}
		stats, err := st.Stats(ctx, time.Now().Add(time.Second))
		if err != nil || stats.ByState[StatePending] != 1 || stats.OldestDue.IsZero() {
			t.Fatalf("stats %+v %v", stats, err)
		}
		var batch []*NewEvent
		for i := range 5 {
			e := newEvent(fmt.Sprint("u", i))
			e.Event.Routing = Unrouted
			batch = append(batch, e)
		}
		if _, err := st.InsertEvents(ctx, batch, nil); err != nil {
			t.Fatal(err)
		}
		deleted, usage, err := st.TrimUnrouted(ctx, 3, 1<<20)
		if err != nil || deleted != 2 || usage.Events != 3 || usage.Bytes == 0 {
			t.Fatalf("trim: %d %+v %v", deleted, usage, err)
		}
		evs, _ := st.ListEvents(ctx, EventFilter{Routing: Unrouted})
		if len(evs) != 3 || evs[0].DedupeKey != "u4" {
			t.Fatalf("kept %d unrouted events, newest %v", len(evs), evs)
		}
		if last, err := st.LastDelivery(ctx, cfg.ID); err != nil || last == nil {
			t.Fatalf("last delivery %v %v", last, err)
		}
		if evs, err := st.ListEvents(ctx, EventFilter{ConfigID: cfg.ID, State: StatePending, LSID: "f", Since: time.Now().Add(-time.Hour)}); err != nil || len(evs) != 1 {
			t.Fatalf("filtered events %d %v", len(evs), err)
		}
	})
}

// Release hands back only the owner's running deliveries, uncounted.
func TestReleaseIsPerOwner(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		cfg := newConfig(t, st)
		if _, err := st.InsertEvents(ctx, []*NewEvent{
			newEvent("a", NewDelivery{ConfigID: cfg.ID, Plugin: "p", MaxAttempts: 3}),
			newEvent("b", NewDelivery{ConfigID: cfg.ID, Plugin: "p", MaxAttempts: 3}),
		}, nil); err != nil {
			t.Fatal(err)
		}
		a, _ := st.Claim(ctx, "p", 1, "engine-a", time.Minute, time.Now())
		b, _ := st.Claim(ctx, "p", 1, "engine-b", time.Minute, time.Now())
		if len(a) != 1 || len(b) != 1 {
			t.Fatalf("claims %v %v", a, b)
		}
		if n, err := st.Release(ctx, "engine-a"); err != nil || n != 1 {
			t.Fatalf("release %d %v", n, err)
		}
		if err := st.HoldsLease(ctx, b[0].Fence(), time.Now()); err != nil {
			t.Fatalf("engine b lost its lease to engine a's release: %v", err)
		}
		d, _ := st.GetDelivery(ctx, a[0].ID)
		if d.State != StateRetrying || d.Attempts != 0 {
			t.Fatalf("released %+v", d)
		}
	})
}

// The configuration stamp changes with every create, update and delete,
// and only then, so that engines reload exactly when something changed.
func TestConfigStampFollowsEveryChange(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		seen := map[string]bool{}
		stamp := func(what string, changed bool) {
			t.Helper()
			s, err := st.ConfigStamp(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if seen[s] == changed {
				t.Fatalf("%s: stamp %s (seen before: %v)", what, s, seen[s])
			}
			seen[s] = true
		}
		stamp("empty", true)
		stamp("nothing changed", false)
		a := &Config{Plugin: "p", Name: "a", ApplianceID: "Default", Settings: "{}"}
		b := &Config{Plugin: "p", Name: "b", ApplianceID: "Default", Settings: "{}"}
		for _, c := range []*Config{a, b} {
			if err := st.CreateConfig(ctx, c, AuditEntry{Actor: "t", Action: "create", Summary: "s"}, nil); err != nil {
				t.Fatal(err)
			}
		}
		stamp("created", true)
		upd := *a
		upd.Name = "a2"
		if err := st.UpdateConfig(ctx, &upd, AuditEntry{Actor: "t", Action: "update", Summary: "s"}); err != nil {
			t.Fatal(err)
		}
		stamp("updated", true)
		if err := st.DeleteConfig(ctx, b.ID, AuditEntry{Actor: "t", Action: "delete", Summary: "s"}); err != nil {
			t.Fatal(err)
		}
		stamp("deleted", true)
		stamp("nothing changed after the delete", false)
	})
}

// A finish may carry the attempt's checkpoint: it replaces the stored one
// in the same transaction, a finish without one keeps what is stored, and
// a finish refused for a lost lease leaves the checkpoint untouched too.
func TestFinishCarriesTheCheckpoint(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		cfg := newConfig(t, st)
		if _, err := st.InsertEvents(ctx, []*NewEvent{newEvent("c", NewDelivery{ConfigID: cfg.ID, Plugin: "p", MaxAttempts: 3})}, nil); err != nil {
			t.Fatal(err)
		}
		claim := func() Delivery {
			t.Helper()
			ds, err := st.Claim(ctx, "p", 1, "w", time.Minute, time.Now().Add(time.Hour))
			if err != nil || len(ds) != 1 {
				t.Fatalf("claim %v %v", ds, err)
			}
			return ds[0]
		}
		d := claim()
		if err := st.SaveCheckpoint(ctx, d.Fence(), map[string]string{"note": "n1"}); err != nil {
			t.Fatal(err)
		}
		if err := st.FinishAttempt(ctx, Finish{ID: d.ID, Token: d.LeaseToken, State: StateRetrying, Outcome: "retry",
			Started: time.Now(), Checkpoint: map[string]string{"note": "n1", "time_entry": "t1"}}); err != nil {
			t.Fatal(err)
		}
		got, _ := st.GetDelivery(ctx, d.ID)
		if cp := got.CheckpointValues(); cp["note"] != "n1" || cp["time_entry"] != "t1" {
			t.Fatalf("after a finish with a checkpoint: %v", cp)
		}
		d = claim()
		if err := st.FinishAttempt(ctx, Finish{ID: d.ID, Token: "stale", State: StateDone, Outcome: "done",
			Started: time.Now(), Checkpoint: map[string]string{"note": "zombie"}}); !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("finish with a stale token: %v, want ErrLeaseLost", err)
		}
		if err := st.FinishAttempt(ctx, Finish{ID: d.ID, Token: d.LeaseToken, State: StateDone, Outcome: "done", Started: time.Now()}); err != nil {
			t.Fatal(err)
		}
		got, _ = st.GetDelivery(ctx, d.ID)
		if cp := got.CheckpointValues(); got.State != StateDone || cp["note"] != "n1" || cp["time_entry"] != "t1" {
			t.Fatalf("after a stale finish and a finish without a checkpoint: state %s checkpoint %v", got.State, cp)
		}
	})
}
