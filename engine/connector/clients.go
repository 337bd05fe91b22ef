package connector

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"
)

// Cleaner is the optional capability of a cached client that holds
// something to give back (connections, goroutines) when it is replaced.
type Cleaner interface{ Cleanup() }

// Clients caches one remote client per configuration, after Caddy's
// Provision/Cleanup: the first delivery of a configuration provisions its
// client, later ones reuse it (its zone, picklists and connections), and a
// change of the connection settings (another fingerprint) cleans the old
// client up and provisions a new one. Configuration 0 (a Test of unsaved
// settings) is never cached. The zero value is ready to use.
type Clients[C any] struct {
	mu sync.Mutex
	m  map[int64]clientEntry[C]
}

type clientEntry[C any] struct {
	fingerprint string
	client      C
}

// Get returns configuration configID's client for the settings whose
// Fingerprint is fingerprint, provisioning it if there is none or the
// settings changed.
func (c *Clients[C]) Get(configID int64, fingerprint string, provision func() (C, error)) (C, error) {
	if configID == 0 {
		return provision()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[configID]; ok && e.fingerprint == fingerprint {
		return e.client, nil
	}
	client, err := provision()
	if err != nil {
		var zero C
		return zero, err
	}
	if c.m == nil {
		c.m = map[int64]clientEntry[C]{}
	}
	if old, ok := c.m[configID]; ok {
		cleanup(old.client)
	}
	c.m[configID] = clientEntry[C]{fingerprint: fingerprint, client: client}
	return client, nil
}

// Forget cleans up and drops configuration configID's client (a deleted
// configuration).
func (c *Clients[C]) Forget(configID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[configID]; ok {
		cleanup(e.client)
		delete(c.m, configID)
	}
}

// Len is the number of cached clients.
func (c *Clients[C]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

func cleanup(client any) {
	if cl, ok := client.(Cleaner); ok {
		cl.Cleanup()
	}
}

// Fingerprint is a digest of the settings a client is built from (secrets
// included), so that a cache never keeps them in clear.
func Fingerprint(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}
