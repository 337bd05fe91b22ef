package service

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"switchboard/engine/query"
)

// QueryTimeout bounds one investigation query, all its appliance calls
// together, so that it ends before the admin listener's write timeout.
const QueryTimeout = 45 * time.Second

// MaxQueries bounds the investigation queries one engine runs at once: each
// holds a connection to the appliance and its answer in memory (up to the
// client's answer cap) until the appliance answers or QueryTimeout, so a
// token sending many at once, or an appliance that answers slowly, must not
// pile them up. Past it a query is refused with ErrQueriesBusy.
const MaxQueries = 4

// ErrQueriesBusy refuses a query while MaxQueries are running.
var ErrQueriesBusy = errors.New("too many investigation queries are running at once; try again shortly")

// Query answers an investigation query (engine/query) of kind with the
// parameters q from the appliance of configuration id. It reads the
// appliance and writes nothing; it is logged with who asked (an admin, or
// an API token by name and prefix), never with a token.
func (s *Service) Query(ctx context.Context, actor string, id int64, kind string, q url.Values) (*query.Page, error) {
	p, err := query.ParseParams(kind, q, time.Now())
	if err != nil {
		return nil, err
	}
	select {
	case s.queries <- struct{}{}:
		defer func() { <-s.queries }()
	default:
		s.log.Warn("query refused: too many at once", "kind", kind, "config", id, "actor", actor, "running", MaxQueries)
		return nil, ErrQueriesBusy
	}
	l, err := s.Load(ctx, id)
	if err != nil {
		return nil, err
	}
	c, ok := l.Client.(query.Appliance)
	if !ok {
		return nil, fmt.Errorf("service: configuration %d: its appliance client cannot run reports", id)
	}
	ctx, cancel := context.WithTimeout(ctx, s.queryTimeout)
	defer cancel()
	start := time.Now()
	page, err := query.Run(ctx, c, kind, p)
	if err != nil {
		s.log.Info("query failed", "kind", kind, "config", id, "actor", actor, "err", err)
		return nil, err
	}
	s.log.Info("query answered", "kind", kind, "config", id, "actor", actor, "items", page.Count,
		"more", page.NextCursor != "", "took", time.Since(start).Round(time.Millisecond))
	return page, nil
}
