package beyondtrust

import "time"

// SetClock replaces the cache's clock, so tests can move past a token's
// refresh time without waiting.
func (tc *TokenCache) SetClock(now func() time.Time) { tc.now = now }

// FullHandshakes makes every call of the client a full TLS handshake, as
// before calls resumed the client's TLS session (BenchmarkSessionFetch).
func (c *Client) FullHandshakes() { c.tls.ClientSessionCache = nil }
