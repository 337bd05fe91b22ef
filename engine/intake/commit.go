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
	st       *store.Store
	maxBatch int
	metrics  *metrics.Metrics
	queue    chan *pending
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
	return &committer{st: st, maxBatch: maxBatch, metrics: m, queue: make(chan *pending, maxBatch*4)}
}

var errStopped = errors.New("intake is shutting down")

// submit queues one event and waits for its commit.
func (c *committer) submit(ctx context.Context, ev *store.NewEvent) (store.Inserted, error) {
	p := &pending{ev: ev, done: make(chan commitResult, 1)}
	select {
	case c.queue <- p:
	case <-ctx.Done():
		return store.Inserted{}, ctx.Err()
	}
	// Once queued, the result is awaited even if the client went away:
	// the commit may still happen, and must be counted.
	r := <-p.done
	return r.ins, r.err
}

func (c *committer) run(ctx context.Context) {
	batch := make([]*pending, 0, c.maxBatch)
	events := make([]*store.NewEvent, 0, c.maxBatch)
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
		events = events[:0]
		for _, p := range batch {
			events = append(events, p.ev)
		}
		// The commit is not cancelled with ctx: posts already queued are
		// answered with their real result during shutdown.
		res, err := c.st.InsertEvents(context.WithoutCancel(ctx), events, nil)
		c.metrics.CommitBatch.Observe(float64(len(batch)))
		for i, p := range batch {
			if err != nil {
				p.done <- commitResult{err: err}
				continue
			}
			p.done <- commitResult{ins: res[i]}
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
