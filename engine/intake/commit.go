package intake

import (
	"context"
	"errors"

	"switchboard/engine/metrics"
	"switchboard/engine/store"
)

// committer is the group commit: one goroutine takes every post waiting at
// that moment (up to a batch) and stores them in one transaction, then
// answers each. Under load many posts share a commit; alone, a post waits
// for one transaction only.
type committer struct {
	// insert stores a batch in one transaction: the store's InsertEvents,
	// which tests wrap to hold a commit open.
	insert   func(ctx context.Context, batch []*store.NewEvent) ([]store.Inserted, error)
	maxBatch int
	metrics  *metrics.Metrics
	queue    chan *pending
	// stopped is closed when run has answered the last post it will take.
	stopped chan struct{}
}

type pending struct {
	ev   *store.NewEvent
	done chan commitResult
}

type commitResult struct {
	ins store.Inserted
	err error
}

func newCommitter(st *store.Store, maxBatch int, m *metrics.Metrics) *committer {
	return &committer{
		insert: func(ctx context.Context, batch []*store.NewEvent) ([]store.Inserted, error) {
			return st.InsertEvents(ctx, batch, nil)
		},
		maxBatch: maxBatch, metrics: m,
		queue:   make(chan *pending, maxBatch*4),
		stopped: make(chan struct{}),
	}
}

var errStopped = errors.New("intake is shutting down")

// submit queues one event and waits for its commit.
func (c *committer) submit(ctx context.Context, ev *store.NewEvent) (store.Inserted, error) {
	p := &pending{ev: ev, done: make(chan commitResult, 1)}
	select {
	case c.queue <- p:
	case <-c.stopped:
		return store.Inserted{}, errStopped
	case <-ctx.Done():
		return store.Inserted{}, ctx.Err()
	}
	// Once queued, the result is awaited even if the client went away:
	// the commit may still happen, and must be counted.
	select {
	case r := <-p.done:
		return r.ins, r.err
	case <-c.stopped:
		// run answered everything it took before closing stopped; a post
		// it did not answer by then was queued after its last look and
		// will never be stored.
		select {
		case r := <-p.done:
			return r.ins, r.err
		default:
			return store.Inserted{}, errStopped
		}
	}
}

func (c *committer) run(ctx context.Context) {
	defer close(c.stopped)
	batch := make([]*pending, 0, c.maxBatch)
	for {
		var first *pending
		select {
		case first = <-c.queue:
		case <-ctx.Done():
			c.drain()
			return
		}
		batch = append(batch[:0], first)
	fill:
		for len(batch) < c.maxBatch {
			select {
			case p := <-c.queue:
				batch = append(batch, p)
			default:
				break fill
			}
		}
		// The commit is not cancelled with ctx: posts already queued are
		// answered with their real result during shutdown.
		c.commit(context.WithoutCancel(ctx), batch)
	}
}

// commit stores a batch and answers each post. A batch that fails for a
// reason of its own data (one post routed to a configuration deleted since,
// say) is stored again post by post, so that only the bad post fails; when
// the database itself is unavailable every post fails at once.
func (c *committer) commit(ctx context.Context, batch []*pending) {
	events := make([]*store.NewEvent, len(batch))
	for i, p := range batch {
		events[i] = p.ev
	}
	res, err := c.insert(ctx, events)
	c.metrics.CommitBatch.Observe(float64(len(batch)))
	switch {
	case err == nil:
		for i, p := range batch {
			p.done <- commitResult{ins: res[i]}
		}
	case len(batch) == 1 || errors.Is(err, store.ErrUnavailable):
		for _, p := range batch {
			p.done <- commitResult{err: err}
		}
	default:
		for _, p := range batch {
			c.commit(ctx, []*pending{p})
		}
	}
}

// drain answers posts still queued at shutdown with an error, so that the
// appliance retries them after the restart.
func (c *committer) drain() {
	for {
		select {
		case p := <-c.queue:
			p.done <- commitResult{err: errStopped}
		default:
			return
		}
	}
}

// failureReason is the metric label of a post that was not stored: the
// database itself failed (disk full, locked, closed), the intake was
// stopping, the client went away, or the post's own data was refused.
func failureReason(err error) string {
	switch {
	case errors.Is(err, errStopped):
		return "shutting_down"
	case errors.Is(err, context.Canceled):
		return "client_gone"
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return "store_unavailable"
	default:
		return "store_data_error"
	}
}
