package pmcloud

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"sync"
	"time"

	"switchboard/engine/outbound"
)

// Runner polls every configured PM Cloud source at its own interval, one
// cycle at a time, until its context ends.
type Runner struct {
	Poller *Poller
	// Targets returns the sources as configured now (called every tick,
	// so that routing edits take effect without a restart).
	Targets func() []Target
	Tick    time.Duration // how often due sources are looked for (default 1 s)

	mu   sync.Mutex
	next map[string]time.Time
}

// Run polls due sources until ctx ends, then releases its leases.
func (r *Runner) Run(ctx context.Context) error {
	tick := r.Tick
	if tick <= 0 {
		tick = time.Second
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	held := map[string]bool{}
	defer func() {
		for id := range held {
			if err := r.Poller.Store.ReleaseSourceLease(context.WithoutCancel(ctx), id, r.Poller.Owner); err != nil {
				r.Poller.log().Warn("pmcloud: release source lease", "source", id, "err", err)
			}
		}
	}()
	for {
		for _, target := range r.due() {
			for _, s := range r.Poller.streams(target) {
				_, err := s.poll(ctx, target)
				switch {
				case ctx.Err() != nil:
					return nil
				case errors.Is(err, errNotOwner):
					delete(held, s.id)
				default:
					held[s.id] = true
					if err != nil {
						r.Poller.log().Warn("pmcloud: poll failed; the cursor stays after what was stored", "source", target.Settings.Name, "stream", s.name, "err", err)
					}
				}
			}
			// A pause (429) puts the next cycle after it.
			if until := target.Client.Budget().PausedUntil(); !until.IsZero() {
				r.mu.Lock()
				if until.After(r.next[target.Settings.ID()]) {
					r.next[target.Settings.ID()] = until
				}
				r.mu.Unlock()
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// stream is one stream a source reads, with its cursor id.
type stream struct {
	name, id string
	poll     func(context.Context, Target) (Cycle, error)
}

// streams are the streams a source reads.
func (p *Poller) streams(t Target) []stream {
	var out []stream
	if t.Settings.Reads(StreamEvents) {
		out = append(out, stream{StreamEvents, t.Settings.ID(), p.Poll})
	}
	if t.Settings.Reads(StreamAudits) {
		out = append(out, stream{StreamAudits, t.Settings.AuditsID(), p.PollAudits})
	}
	return out
}

func (r *Runner) due() []Target {
	now := r.Poller.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.next == nil {
		r.next = map[string]time.Time{}
	}
	var out []Target
	seen := map[string]bool{}
	for _, t := range r.Targets() {
		if t.Settings == nil || t.Settings.Disabled || t.Client == nil {
			continue
		}
		id := t.Settings.ID()
		seen[id] = true
		if next, ok := r.next[id]; ok && now.Before(next) {
			continue
		}
		r.next[id] = now.Add(time.Duration(max(t.Settings.Interval, 30)) * time.Second)
		out = append(out, t)
	}
	for id := range r.next {
		if !seen[id] {
			delete(r.next, id)
		}
	}
	return out
}

// Clients builds and keeps one client per source, sharing one request
// budget per tenant, and rebuilds a client when its settings change.
type Clients struct {
	HTTP *http.Client
	// Governor counts each tenant's requests too, in its window budget
	// (default outbound.DefaultGovernor): on PostgreSQL it keeps them in
	// the database, so the engines of a cluster share one budget.
	Governor *outbound.Governor
	// Budget requests per Window (default DefaultBudget per
	// DefaultBudgetWindow).
	Budget int
	Window time.Duration

	mu      sync.Mutex
	clients map[string]clientFor
	budgets map[string]*Budget
}

type clientFor struct {
	key string
	c   *Client
}

// For returns the client of a source's settings.
func (cs *Clients) For(s *Settings) (*Client, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	base, err := ServicesBase(s.ServicesURL)
	if err != nil {
		return nil, err
	}
	key := base + "\x00" + s.ClientID + "\x00" + s.ClientSecret.Reveal()
	if c, ok := cs.clients[s.ID()]; ok && c.key == key {
		return c.c, nil
	}
	c, err := cs.newClient(base, s)
	if err != nil {
		return nil, err
	}
	cs.clients[s.ID()] = clientFor{key: key, c: c}
	return c, nil
}

// Retain drops the clients (and the tokens they hold) of sources not in
// list: a source renamed or deleted does not keep its old client.
func (cs *Clients) Retain(list []*Settings) {
	keep := make(map[string]bool, len(list))
	for _, s := range list {
		keep[s.ID()] = true
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	maps.DeleteFunc(cs.clients, func(key string, _ clientFor) bool { return !keep[key] })
}

// Holds reports whether a client of the source named so is kept.
func (cs *Clients) Holds(name string) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	_, ok := cs.clients[(&Settings{Name: name}).ID()]
	return ok
}

// Fresh returns a new client of a source's settings, holding no token,
// on the tenant's shared budget (a Test's).
func (cs *Clients) Fresh(s *Settings) (*Client, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	base, err := ServicesBase(s.ServicesURL)
	if err != nil {
		return nil, err
	}
	return cs.newClient(base, s)
}

// newClient builds a client on the tenant's budget; cs.mu is held.
func (cs *Clients) newClient(base string, s *Settings) (*Client, error) {
	if cs.clients == nil {
		cs.clients, cs.budgets = map[string]clientFor{}, map[string]*Budget{}
	}
	host := hostOf(base)
	b := cs.budgets[host]
	if b == nil {
		n, w := cs.Budget, cs.Window
		if n <= 0 || w <= 0 {
			n, w = DefaultBudget, DefaultBudgetWindow
		}
		g := cs.Governor
		if g == nil {
			g = outbound.DefaultGovernor
		}
		b = NewBudget(n, w).Share(g, "pmcloud|"+host)
		cs.budgets[host] = b
	}
	return NewClient(base, s.ClientID, s.ClientSecret.Reveal(), ClientOptions{HTTP: cs.HTTP, Budget: b})
}
