package appliance

import (
	"context"
	"crypto/x509"
	"errors"
	"maps"
	"sync"
	"time"

	"switchboard/engine/beyondtrust"
)

// Runner polls every stream of every configured appliance source at the
// source's interval, one poll at a time, until its context ends.
type Runner struct {
	Poller *Poller
	// Targets returns the sources as configured now (called every tick,
	// so that routing edits take effect without a restart).
	Targets func() []Target
	Tick    time.Duration // how often due streams are looked for (default 1 s)

	mu   sync.Mutex
	next map[string]time.Time // by stream id
}

type due struct {
	t      Target
	stream string
}

// Run polls due streams until ctx ends, then releases its leases.
func (r *Runner) Run(ctx context.Context) error {
	tick := r.Tick
	if tick <= 0 {
		tick = time.Second
	}
	tk := time.NewTicker(tick)
	defer tk.Stop()
	held := map[string]bool{}
	defer func() {
		for id := range held {
			if err := r.Poller.Store.ReleaseSourceLease(context.WithoutCancel(ctx), id, r.Poller.Owner); err != nil {
				r.Poller.log().Warn("appliance: release source lease", "stream", id, "err", err)
			}
		}
	}()
	for {
		for _, d := range r.due() {
			id := d.t.Settings.ID(d.stream)
			_, err := r.Poller.Poll(ctx, d.t, d.stream)
			switch {
			case ctx.Err() != nil:
				return nil
			case errors.Is(err, ErrNotOwner):
				delete(held, id)
			default:
				held[id] = true
				if err != nil {
					r.Poller.log().Warn("appliance: poll failed; the cursor stays", "source", d.t.Settings.Name, "stream", d.stream, "err", err)
				}
			}
			var be *beyondtrust.Error
			if errors.As(err, &be) && be.Kind == beyondtrust.KindRateLimited {
				r.after(id, r.Poller.now().Add(be.RetryAfter))
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tk.C:
		}
	}
}

// after puts a stream's next poll no sooner than at (a 429's Retry-After).
func (r *Runner) after(id string, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.next == nil {
		r.next = map[string]time.Time{}
	}
	if at.After(r.next[id]) {
		r.next[id] = at
	}
}

func (r *Runner) due() []due {
	now := r.Poller.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.next == nil {
		r.next = map[string]time.Time{}
	}
	var out []due
	seen := map[string]bool{}
	for _, t := range r.Targets() {
		if t.Settings == nil || t.Settings.Disabled || t.Client == nil {
			continue
		}
		for _, stream := range t.Settings.Selected() {
			id := t.Settings.ID(stream)
			seen[id] = true
			if next, ok := r.next[id]; ok && now.Before(next) {
				continue
			}
			r.next[id] = now.Add(time.Duration(max(t.Settings.Interval, 30)) * time.Second)
			out = append(out, due{t, stream})
		}
	}
	for id := range r.next {
		if !seen[id] {
			delete(r.next, id)
		}
	}
	return out
}

// Clients keeps one appliance client per source, with tokens from the
// process's shared cache (an API account holds at most 30 tokens), and
// rebuilds a client when its settings change.
type Clients struct {
	Tokens  *beyondtrust.TokenCache
	RootCAs *x509.CertPool // nil: the system's

	mu      sync.Mutex
	clients map[string]clientFor
}

type clientFor struct {
	opts beyondtrust.Options
	c    *beyondtrust.Client
}

// For returns the client of a source's settings.
func (cs *Clients) For(s *Settings) *beyondtrust.Client {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.clients == nil {
		cs.clients = map[string]clientFor{}
	}
	opts := s.Options()
	opts.RootCAs = cs.RootCAs
	if c, ok := cs.clients[s.Name]; ok && c.opts == opts {
		return c.c
	}
	c := beyondtrust.NewClient(opts, cs.Tokens)
	cs.clients[s.Name] = clientFor{opts: opts, c: c}
	return c
}

// Retain drops the clients of sources not in list: a source renamed or
// deleted does not keep its old client.
func (cs *Clients) Retain(list []*Settings) {
	keep := make(map[string]bool, len(list))
	for _, s := range list {
		keep[s.Name] = true
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	maps.DeleteFunc(cs.clients, func(key string, _ clientFor) bool { return !keep[key] })
}

// Fresh returns a new client of a source's settings (a Test's), with
// tokens from the shared cache.
func (cs *Clients) Fresh(s *Settings) *beyondtrust.Client {
	opts := s.Options()
	opts.RootCAs = cs.RootCAs
	return beyondtrust.NewClient(opts, cs.Tokens)
}
