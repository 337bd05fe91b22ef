package service

import (
	"context"
	"time"
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
