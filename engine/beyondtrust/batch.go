package beyondtrust

import (
	"context"
	"sync"
)

// batcher shares report calls between concurrent Session calls of one
// client, as group commit shares a sync: a Session call made while none is
// in flight goes out at once, alone; those made while one is in flight
// wait for it and then go out together, in one SupportSession call naming
// all their lsids (the reference's `lsids`, at most batchSize). Alone, a
// fetch waits for nothing; under load, one connection (one TLS handshake,
// as the appliance wants a connection per call) serves many sessions.
//
// A shared call only ever saves work: a session it did not bring back
// (an error, an lsid missing from the answer) is fetched again alone, so
// every caller gets exactly the answer and the error a call of its own
// would give.
type batcher struct {
	mu      sync.Mutex
	running bool
	waiting []*pendingFetch
}

type pendingFetch struct {
	lsid string
	done chan struct{}
	// final says sess and err are the answer; otherwise sess is the
	// session a shared call brought back, or nil: fetch alone.
	final bool
	sess  *Session
	err   error
}

func (b *batcher) session(ctx context.Context, c *Client, lsid string) (*Session, error) {
	b.mu.Lock()
	if !b.running {
		b.running = true
		b.mu.Unlock()
		s, err := c.sessionAlone(ctx, lsid)
		b.next(context.WithoutCancel(ctx), c)
		return s, err
	}
	p := &pendingFetch{lsid: lsid, done: make(chan struct{})}
	b.waiting = append(b.waiting, p)
	b.mu.Unlock()
	select {
	case <-p.done:
	case <-ctx.Done():
		// The shared call still runs for the others; this caller's own
		// call fails with ctx as it would have alone.
		return c.sessionAlone(ctx, lsid)
	}
	if p.final {
		return p.sess, p.err
	}
	if p.sess != nil {
		return p.sess, nil
	}
	return c.sessionAlone(ctx, lsid)
}

// next sends the waiting fetches, batchSize at a time, until none waits.
// ctx carries the values of the call that ended, without its cancellation:
// a shared call must not fail because one of its callers gave up. Each
// call still has the client's per-call timeout.
func (b *batcher) next(ctx context.Context, c *Client) {
	b.mu.Lock()
	if len(b.waiting) == 0 {
		b.running = false
		b.mu.Unlock()
		return
	}
	n := min(len(b.waiting), batchSize)
	batch := b.waiting[:n:n]
	b.waiting = append([]*pendingFetch(nil), b.waiting[n:]...)
	b.mu.Unlock()
	go func() {
		b.fetch(ctx, c, batch)
		b.next(ctx, c)
	}()
}

// fetch runs one shared call for batch and hands each its session.
func (b *batcher) fetch(ctx context.Context, c *Client, batch []*pendingFetch) {
	defer func() {
		for _, p := range batch {
			close(p.done)
		}
	}()
	if len(batch) == 1 {
		p := batch[0]
		p.sess, p.err = c.sessionAlone(ctx, p.lsid)
		p.final = true
		return
	}
	lsids := make([]string, len(batch))
	for i, p := range batch {
		lsids[i] = p.lsid
	}
	ss, err := c.Sessions(ctx, lsids)
	if err != nil {
		return
	}
	byLSID := make(map[string]*Session, len(ss))
	for _, s := range ss {
		if s.LSID != "" {
			byLSID[s.LSID] = s
		}
	}
	for _, p := range batch {
		// A second fetch of the same lsid fetches alone rather than
		// share a *Session its caller may change.
		p.sess = byLSID[p.lsid]
		delete(byLSID, p.lsid)
	}
}
