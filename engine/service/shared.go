package service

import (
	"context"
	"time"

	"switchboard/engine"
)

// ConfigWatchInterval is how often an engine sharing a PostgreSQL database
// looks whether another engine changed a configuration.
const ConfigWatchInterval = 500 * time.Millisecond

// WatchConfigs makes configuration and source edits made by other engines
// on the same database reach this one: every interval it reads the store's
// configuration stamp and, when it changed, refreshes (RefreshConfigs). It
// returns when ctx ends.
func (s *Service) WatchConfigs(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.RefreshConfigs(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("looking for configuration changes by other engines failed; trying again", "err", err)
		}
		if _, err := s.RefreshSources(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("looking for source changes by other engines failed; trying again", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RefreshConfigs empties the configuration cache and tells the watchers
// (routing, polling) when the stored configurations changed since it last
// looked, whoever changed them, and forgets the plugins' state of deleted
// configurations. It reports whether it refreshed.
func (s *Service) RefreshConfigs(ctx context.Context) (bool, error) {
	stamp, err := s.st.ConfigStamp(ctx)
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	same := stamp == s.stamp
	s.mu.Unlock()
	if same {
		return false, nil
	}
	rows, err := s.st.ListConfigs(ctx, "")
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	live := make(map[int64]bool, len(rows))
	for _, r := range rows {
		live[r.ID] = true
	}
	var gone []*Loaded
	for id, l := range s.loaded {
		if !live[id] {
			gone = append(gone, l)
		}
	}
	// Stamp first, then reload: a change committed after the stamp was
	// read changes it again, and the next look reloads once more.
	s.stamp = stamp
	s.loaded = map[int64]*Loaded{}
	s.generation++
	watchers := append([]func(){}, s.watchers...)
	s.mu.Unlock()
	for _, l := range gone {
		if f, ok := l.Plugin.(engine.ConfigForgetter); ok {
			f.ForgetConfig(l.ID)
		}
	}
	for _, fn := range watchers {
		fn()
	}
	return true, nil
}
