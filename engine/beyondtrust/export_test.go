package beyondtrust

import "time"

// SetClock replaces the cache's clock, so tests can move past a token's
// refresh time without waiting.
func (tc *TokenCache) SetClock(now func() time.Time) { tc.now = now }
