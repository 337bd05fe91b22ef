package main

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"switchboard/engine/server"
	"switchboard/engine/store"
	"switchboard/engine/store/pgtest"
	"switchboard/plugins"
	"switchboard/plugins/autotask"
)

// withPassword puts a password into a test server URL: trust
// authentication ignores it, and it must show nowhere.
func withPassword(t *testing.T, dsn, password string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), password)
	return u.String()
}

// An installation on SQLite moves into an empty PostgreSQL database:
// every row arrives, secrets still sealed and openable with the same key,
// new rows get fresh ids; a second copy into it is refused and changes
// nothing.
func TestMigrateStore(t *testing.T) {
	dir := t.TempDir()
	installWithSecrets(t, dir)
	ctx := context.Background()
	src, err := store.Open(ctx, store.DefaultPath(dir), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfgs, err := src.ListConfigs(ctx, "")
	if err != nil || len(cfgs) != 1 {
		t.Fatalf("configurations: %v %v", cfgs, err)
	}
	var batch []*store.NewEvent
	for i := range 700 { // more than one INSERT batch
		batch = append(batch, &store.NewEvent{
			Event:      store.Event{DedupeKey: fmt.Sprint("k", i), ApplianceID: "Default", Name: "support_conference_end", LSID: fmt.Sprint("L", i), Fields: "event=support_conference_end&x=%FF"},
			Deliveries: []store.NewDelivery{{ConfigID: cfgs[0].ID, Plugin: "autotask", MaxAttempts: 5}},
		})
	}
	if _, err := src.InsertEvents(ctx, batch, nil); err != nil {
		t.Fatal(err)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}

	const password = "hunter2-never-shown"
	dsn := withPassword(t, pgtest.URL(t), password)
	out, errOut, err := runCLI(t, "migrate-store", "--data-dir", dir, "--to", dsn)
	if err != nil {
		t.Fatalf("migrate-store: %v\n%s%s", err, out, errOut)
	}
	if !strings.Contains(out, "verified") || !strings.Contains(out, "events") || strings.Contains(out+errOut, password) {
		t.Fatalf("migrate-store said:\n%s%s", out, errOut)
	}

	dst, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	got, err := dst.ListConfigs(ctx, "")
	if err != nil || len(got) != 1 {
		t.Fatalf("copied configurations: %v %v", got, err)
	}
	if !bytes.Equal(got[0].Secrets, cfgs[0].Secrets) || len(got[0].Secrets) == 0 || bytes.Contains(got[0].Secrets, []byte("pw-in-file")) {
		t.Fatal("the secrets did not arrive sealed as they were stored")
	}
	if got[0].Disabled != cfgs[0].Disabled || got[0].Version != cfgs[0].Version || got[0].Settings != cfgs[0].Settings {
		t.Fatalf("configuration changed on the way: %+v, was %+v", got[0], cfgs[0])
	}
	evs, err := dst.ListEvents(ctx, store.EventFilter{LSID: "L5"})
	if err != nil || len(evs) != 1 || evs[0].Values().Get("x") != "\xff" {
		t.Fatalf("copied event: %+v %v", evs, err)
	}
	// The next event gets an id after the copied ones.
	ins, err := dst.InsertEvents(ctx, []*store.NewEvent{{Event: store.Event{DedupeKey: "new", ApplianceID: "Default", Name: "x", LSID: "N"}}}, nil)
	if err != nil || ins[0].EventID <= 700 {
		t.Fatalf("new event after the copy: %+v %v", ins, err)
	}

	// An engine with the installation's key opens the copied secrets; the
	// key check came along.
	key, err := os.ReadFile(filepath.Join(dir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(ctx, server.Options{DataDir: t.TempDir(), Database: dsn, SecretKey: string(key), Plugins: plugins.All()})
	if err != nil {
		t.Fatalf("an engine with the installation's key: %v", err)
	}
	l, err := srv.Service.Load(ctx, got[0].ID)
	if err != nil {
		t.Fatalf("the copied secrets do not open: %v", err)
	}
	if s, ok := l.Settings.(*autotask.Settings); !ok || s.Password.Reveal() != "pw-in-file" {
		t.Fatalf("the copied secret opens to something else: %T", l.Settings)
	}
	_ = srv.Store.Close()
	if _, err := server.New(ctx, server.Options{DataDir: t.TempDir(), Database: dsn, Plugins: plugins.All()}); err == nil {
		t.Fatal("an engine with a new key started on the copied secrets")
	}

	// Copying again is refused and leaves the target alone.
	out, errOut, err = runCLI(t, "migrate-store", "--data-dir", dir, "--to", dsn)
	if err == nil || !strings.Contains(err.Error(), "not empty") || strings.Contains(err.Error()+out+errOut, password) {
		t.Fatalf("a second copy: %v\n%s%s", err, out, errOut)
	}
	all, err := dst.ListEvents(ctx, store.EventFilter{Limit: 1000})
	if err != nil || len(all) != 701 {
		t.Fatalf("after the refused copy the target has %d events (%v), want 701", len(all), err)
	}
}

// Wrong directions and missing databases are refused before anything is
// written, and no database is created where there was none.
func TestMigrateStoreRefuses(t *testing.T) {
	empty := t.TempDir()
	pg := "postgres://u:hunter2@127.0.0.1:1/db"
	for _, args := range [][]string{
		{"--data-dir", empty},
		{"--data-dir", empty, "--to", filepath.Join(empty, "other.db")},
		{"--data-dir", empty, "--from", pg, "--to", pg},
		{"--data-dir", empty, "--to", pg},
	} {
		out, errOut, err := runCLI(t, append([]string{"migrate-store"}, args...)...)
		if err == nil || strings.Contains(err.Error()+out+errOut, "hunter2") {
			t.Errorf("%v: %v\n%s%s", args, err, out, errOut)
		}
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Fatalf("refused copies left %v behind", entries)
	}
}
