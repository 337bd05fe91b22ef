package beyondtrust

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"
)

// refreshBefore is how long before its expiry a token is replaced, so that
// no call starts with a token about to lapse.
const refreshBefore = 5 * time.Minute

// TokenCache holds one OAuth token per API account and appliance, shared by
// every client (and so every configuration) that uses that account. The
// appliance keeps at most 30 valid tokens per account and a 31st silently
// revokes the oldest, so tokens are never minted concurrently for one
// account and are reused until shortly before they expire.
type TokenCache struct {
	mu      sync.Mutex
	entries map[tokenKey]*tokenEntry
	now     func() time.Time
}

// tokenKey names an account. The secret's hash is part of it so that a
// configuration with a wrong secret never borrows a token minted with the
// right one (the Test button would then pass wrongly).
type tokenKey struct {
	base     string
	clientID string
	secret   [sha256.Size]byte
}

type tokenEntry struct {
	// mint holds one slot: whoever holds it is minting for this account.
	// A channel rather than a mutex so that waiters can give up with ctx.
	mint chan struct{}

	mu      sync.Mutex
	token   string
	renewAt time.Time
}

// NewTokenCache returns an empty cache; a process normally has one.
func NewTokenCache() *TokenCache {
	return &TokenCache{entries: map[tokenKey]*tokenEntry{}, now: time.Now}
}

func (tc *TokenCache) entry(k tokenKey) *tokenEntry {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	e, ok := tc.entries[k]
	if !ok {
		e = &tokenEntry{mint: make(chan struct{}, 1)}
		tc.entries[k] = e
	}
	return e
}

func (e *tokenEntry) current(now time.Time) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.token, e.token != "" && now.Before(e.renewAt)
}

// get returns a valid token for k, calling mint when there is none. Only
// one mint per account runs at a time; the others wait for its token.
func (tc *TokenCache) get(ctx context.Context, k tokenKey, mint func(context.Context) (string, time.Duration, error)) (string, error) {
	e := tc.entry(k)
	if tok, ok := e.current(tc.now()); ok {
		return tok, nil
	}
	select {
	case e.mint <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-e.mint }()
	if tok, ok := e.current(tc.now()); ok {
		return tok, nil // minted by the holder we waited for
	}
	issued := tc.now()
	tok, life, err := mint(ctx)
	if err != nil {
		return "", err
	}
	margin := min(refreshBefore, life/2)
	e.mu.Lock()
	e.token, e.renewAt = tok, issued.Add(life-margin)
	e.mu.Unlock()
	return tok, nil
}

// drop forgets tok if it is still the cached token for k, after the
// appliance refused it; a newer token minted meanwhile is kept.
func (tc *TokenCache) drop(k tokenKey, tok string) {
	e := tc.entry(k)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.token == tok {
		e.token = ""
	}
}
