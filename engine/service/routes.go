package service

import (
	"context"
	"sync"
	"sync/atomic"

	"switchboard/engine/store"
)

// Routes is a snapshot of the configurations, reloaded whenever one
// changes, so that the intake routes each event without a database read.
type Routes struct {
	svc *Service
	// reload serialises reloads, so that one which read the configurations
	// before a change cannot store its snapshot after the one that read
	// them after it.
	reload sync.Mutex
	snap   atomic.Pointer[[]*Loaded]
}

// NewRoutes loads the snapshot and keeps it current.
func NewRoutes(ctx context.Context, svc *Service) (*Routes, error) {
	r := &Routes{svc: svc}
	if err := r.Reload(ctx); err != nil {
		return nil, err
	}
	svc.OnConfigChange(func() {
		if err := r.Reload(context.Background()); err != nil {
			svc.log.Error("reload routes after a configuration change", "err", err)
		}
	})
	return r, nil
}

// Reload rereads every configuration.
func (r *Routes) Reload(ctx context.Context) error {
	r.reload.Lock()
	defer r.reload.Unlock()
	all, err := r.svc.LoadAll(ctx)
	if err != nil {
		return err
	}
	r.snap.Store(&all)
	return nil
}

// Configs returns the current snapshot.
func (r *Routes) Configs() []*Loaded { return *r.snap.Load() }

// Route picks the deliveries for an event; see Route.
func (r *Routes) Route(applianceID, event, source string) ([]store.NewDelivery, string) {
	return Route(r.Configs(), applianceID, event, source)
}
