package intake

import (
	"context"
	"errors"
	"sync"
	"time"

	"switchboard/engine/metrics"
	"switchboard/engine/store"
)

// committer is the group commit, led by the posts themselves. A post that
// finds no commit running commits itself at once, on its own goroutine:
// one appliance posting one event at a time never waits for a hand-off.
// Posts that arrive while a commit runs wait; when it ends, the first of
// them is handed all that waited (up to a batch) and commits them in one
// transaction, so that under load many posts share a commit and its sync.
type committer struct {
	// insert stores a batch in one transaction: the store's InsertEvents,
	// which tests wrap to hold a commit open.
	insert   func(ctx context.Context, batch []*store.NewEvent) ([]store.Inserted, error)
	maxBatch int
	metrics  *metrics.Metrics

	mu sync.Mutex
	// busy is true while a post's goroutine leads a commit.
	busy bool
	// waiting are the posts that arrived while busy, in order.
	waiting  []*pending
	stopping bool
	// idle is signalled when busy turns false.
	idle *sync.Cond
}

type pending struct {
	ev   *store.NewEvent
	done chan commitResult
}

type commitResult struct {
	ins store.Inserted
	err error
	// lead, when set, is not a result: it hands the post the next batch
	// to commit, itself first.
	lead []*pending
}

// Workers are the engine's delivery workers, which take the deliveries a
// commit claims for them (dispatch.Dispatcher).
type Workers interface {
	// InsertClaim is the claim a commit at now makes for the workers, or
	// nil when they take none.
	InsertClaim(now time.Time) *store.InsertClaim
	// Adopt starts the deliveries a committed claim took.
	Adopt(ds []store.Delivery, claimedAt time.Time)
}

func newCommitter(st *store.Store, workers Workers, maxBatch int, m *metrics.Metrics) *committer {
	c := &committer{
		insert: func(ctx context.Context, batch []*store.NewEvent) ([]store.Inserted, error) {
			if workers == nil {
				return st.InsertEvents(ctx, batch, nil)
			}
			claim := workers.InsertClaim(time.Now())
			res, err := st.InsertEventsClaiming(ctx, batch, claim)
			if err == nil && claim != nil {
				for _, r := range res {
					workers.Adopt(r.Claimed, claim.At)
				}
			}
			return res, err
		},
		maxBatch: maxBatch, metrics: m,
	}
	c.idle = sync.NewCond(&c.mu)
	return c
}

var (
	errStopped = errors.New("intake is shutting down")
	errPanic   = errors.New("intake: the commit panicked")
)

// submit stores one event, committing it at once when no commit is
// running, and returns after its commit. Once a post is taken its result is
// awaited even if the client went away: the commit may still happen, and
// must be counted.
func (c *committer) submit(ctx context.Context, ev *store.NewEvent) (store.Inserted, error) {
	p := &pending{ev: ev, done: make(chan commitResult, 1)}
	c.mu.Lock()
	switch {
	case c.stopping:
		c.mu.Unlock()
		return store.Inserted{}, errStopped
	case c.busy:
		c.waiting = append(c.waiting, p)
		c.mu.Unlock()
		r := <-p.done
		if r.lead == nil {
			return r.ins, r.err
		}
		c.lead(ctx, r.lead)
	default:
		c.busy = true
		c.mu.Unlock()
		c.lead(ctx, []*pending{p})
	}
	r := <-p.done
	return r.ins, r.err
}

// lead commits batch, then hands the posts that arrived meanwhile to the
// first of them, or ends the busy spell. The commit is not cancelled with
// the leading post's request: it answers the others too.
func (c *committer) lead(ctx context.Context, batch []*pending) {
	defer func() {
		if v := recover(); v != nil {
			// Nobody of the batch may wait forever; an answered post
			// has room for this second answer, which nobody reads.
			for _, p := range batch {
				select {
				case p.done <- commitResult{err: errPanic}:
				default:
				}
			}
			c.handOff()
			panic(v)
		}
	}()
	c.commit(context.WithoutCancel(ctx), batch)
	c.handOff()
}

// handOff passes the lead to the first waiting post with its batch, or
// ends the busy spell; when stopping, the waiting posts are refused, so
// that the appliance retries them after the restart.
func (c *committer) handOff() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.waiting) == 0 || c.stopping {
		for _, p := range c.waiting {
			p.done <- commitResult{err: errStopped}
		}
		c.waiting = nil
		c.busy = false
		c.idle.Broadcast()
		return
	}
	n := min(len(c.waiting), c.maxBatch)
	next := c.waiting[:n:n]
	if n == len(c.waiting) {
		c.waiting = nil
	} else {
		c.waiting = c.waiting[n:]
	}
	next[0].done <- commitResult{lead: next}
}

// run waits for ctx to end, then refuses new posts and returns once the
// running commit (if any) has ended and every waiting post is answered.
func (c *committer) run(ctx context.Context) {
	<-ctx.Done()
	c.mu.Lock()
	c.stopping = true
	for c.busy {
		c.idle.Wait()
	}
	c.mu.Unlock()
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
