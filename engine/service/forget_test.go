package service

import (
	"context"
	"slices"
	"sync"
	"testing"
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
	p := &forgetPlugin{}
	svc, _ := newServiceWith(t, nil, p)
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
