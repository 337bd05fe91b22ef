package service

import (
	"context"
	"fmt"
	"time"

	"switchboard/engine"
	"switchboard/engine/store"
)

// SourceState is the polling state of a source (PM Cloud events, say).
type SourceState struct {
	ID            string    `json:"id"`
	Cursor        time.Time `json:"cursor,omitzero"`
	LastPollAt    time.Time `json:"last_poll_at,omitzero"`
	LastSuccessAt time.Time `json:"last_success_at,omitzero"`
	LastError     string    `json:"last_error,omitempty"`
	LastFetched   int64     `json:"last_fetched"`
	LastNew       int64     `json:"last_new"`
	TotalNew      int64     `json:"total_new"`
}

// SourceStates returns the polling state of every source polled so far.
func (s *Service) SourceStates(ctx context.Context) ([]SourceState, error) {
	rows, err := s.st.ListSourceCursors(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]SourceState, 0, len(rows))
	for i := range rows {
		r := &rows[i]
		out = append(out, SourceState{
			ID: r.SourceID, Cursor: r.Cursor(), LastPollAt: r.LastPoll(), LastSuccessAt: r.LastSuccess(),
			LastError: r.LastError, LastFetched: r.LastFetched, LastNew: r.LastNew, TotalNew: r.TotalNew,
		})
	}
	return out, nil
}

// ErrNoSource is returned for a source name no catalog knows.
var ErrNoSource = fmt.Errorf("no source of that name: %w", store.ErrNotFound)

// SetSources gives the service the kinds of source, one catalog each.
func (s *Service) SetSources(cats ...engine.SourceCatalog) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sources = append(s.sources, cats...)
}

func (s *Service) catalogs() []engine.SourceCatalog {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]engine.SourceCatalog(nil), s.sources...)
}

// ConfiguredSource is a configured source with the polling state of each
// of its streams.
type ConfiguredSource struct {
	engine.SourceView
	States []SourceState `json:"states"`
}

// Sources lists the configured sources (secrets left out) with their
// streams' polling state.
func (s *Service) Sources(ctx context.Context) ([]ConfiguredSource, error) {
	states, err := s.SourceStates(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[string]SourceState{}
	for _, st := range states {
		byID[st.ID] = st
	}
	out := []ConfiguredSource{}
	for _, cat := range s.catalogs() {
		for _, v := range cat.Sources() {
			cs := ConfiguredSource{SourceView: v, States: []SourceState{}}
			for _, id := range v.StreamIDs {
				st, ok := byID[id]
				if !ok {
					st = SourceState{ID: id} // not polled yet
				}
				cs.States = append(cs.States, st)
			}
			out = append(out, cs)
		}
	}
	s.markStored(out)
	return out, nil
}

// TestSource tests a configured source: a token and one read of each of
// its streams, nothing written but the audit line.
func (s *Service) TestSource(ctx context.Context, actor, name string) (engine.SourceTest, error) {
	for _, cat := range s.catalogs() {
		res, ok := cat.TestSource(ctx, name)
		if !ok {
			continue
		}
		s.auditSourceTest(ctx, actor, name, res)
		return res, nil
	}
	return engine.SourceTest{}, ErrNoSource
}
