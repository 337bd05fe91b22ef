package service

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"

	"switchboard/engine"
	"switchboard/engine/render"
	"switchboard/engine/secretbox"
	"switchboard/engine/storetest"
)

// forgetPlugin records the configurations it was told to forget.
type forgetPlugin struct {
	secretPlugin
	mu        sync.Mutex
	forgotten []int64
}

func (p *forgetPlugin) ForgetConfig(id int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.forgotten = append(p.forgotten, id)
}

// TestDeleteTellsThePluginToForget: a connector's cached client (and the
// secrets in it) does not outlive its configuration's deletion.
func TestDeleteTellsThePluginToForget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Open(t)
	box, err := secretbox.Load(ctx, t.TempDir(), "", st)
	if err != nil {
		t.Fatal(err)
	}
	p := &forgetPlugin{}
	reg, err := engine.NewRegistry(p)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := render.New(render.Options{OverrideDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := New(Options{Store: st, Registry: reg, Box: box, Renderer: rd, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	keep, err := svc.CreateConfig(ctx, "admin", input(validApp(), map[string]any{"username": "a"}))
	if err != nil {
		t.Fatal(err)
	}
	gone, err := svc.CreateConfig(ctx, "admin", input(validApp(), map[string]any{"username": "b"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteConfig(ctx, "admin", gone.ID); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !slices.Equal(p.forgotten, []int64{gone.ID}) || slices.Contains(p.forgotten, keep.ID) {
		t.Fatalf("forgotten %v, want only the deleted %d", p.forgotten, gone.ID)
	}
}
