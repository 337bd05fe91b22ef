package service

import (
	"context"
	"net/http/httptrace"
	"slices"
	"sync"
)

// contacts records the hosts a Test run connects to, whatever client a
// plugin uses: every HTTP request made with the traced context reports the
// host:port it asks a connection for, and every dial (the appliance's TLS
// check dials by itself) the address it connects to.
type contacts struct {
	mu   sync.Mutex
	seen []string
}

func (c *contacts) watch(ctx context.Context) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GetConn:      c.add,
		ConnectStart: func(_, addr string) { c.add(addr) },
	})
}

func (c *contacts) add(hostPort string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !slices.Contains(c.seen, hostPort) {
		c.seen = append(c.seen, hostPort)
	}
}

// hosts lists what was contacted, sorted.
func (c *contacts) hosts() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := slices.Clone(c.seen)
	slices.Sort(out)
	return out
}
