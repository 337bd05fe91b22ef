package service

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// A Load that read a configuration just before an update committed must
// not cache its stale decode after the update invalidated the cache.
func TestConfigCacheKeepsNoStaleFill(t *testing.T) {
	t.Parallel()
	svc, st := newService(t, nil)
	ctx := context.Background()
	cfg, err := svc.CreateConfig(ctx, "admin", input(validApp(), map[string]any{"username": "old"}))
	if err != nil {
		t.Fatal(err)
	}
	read, release := make(chan struct{}), make(chan struct{})
	var fills atomic.Int32
	svc.afterConfigRead = func() {
		if fills.Add(1) == 1 { // only the first fill waits
			close(read)
			<-release
		}
	}
	svc.changed(cfg.ID) // empty the cache so the next Load fills it
	filled := make(chan error, 1)
	go func() { _, err := svc.Load(ctx, cfg.ID); filled <- err }()
	<-read // the fill holds the old row

	updated := make(chan error, 1)
	go func() {
		in := input(validApp(), map[string]any{"username": "new"})
		in.Version = cfg.Version
		_, err := svc.UpdateConfig(ctx, "admin", cfg.ID, in)
		updated <- err
	}()
	// Let the fill finish once the update has committed.
	for {
		row, err := st.GetConfig(ctx, cfg.ID)
		if err != nil {
			t.Fatal(err)
		}
		if row.Version > cfg.Version {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	if err := <-filled; err != nil {
		t.Fatal(err)
	}
	if err := <-updated; err != nil {
		t.Fatal(err)
	}
	l, err := svc.Load(ctx, cfg.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Settings.(*secretSettings).Username; got != "new" {
		t.Fatalf("cached username %q after the update; want new", got)
	}
}
