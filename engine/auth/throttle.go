package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"hash/fnv"
	"sync"
	"time"
	"unicode/utf8"

	"switchboard/engine/store"
)

// throttle slows down password guessing. Every failed login counts against
// the client address and against the username; after a few free failures
// each further attempt on that key must wait a doubling delay. The user key
// has a short cap so that a stranger guessing at "admin" can delay the real
// admin by a minute at most, while the address key caps much higher.
//
// The failures are kept in the database (the login_failures table), so
// that every engine behind a load balancer counts the same attempts: a
// guesser spreading over N engines gets no more tries than against one.
// Only the keys are kept, never anything derived from a password.
//
// The logins of one key take turns in each engine (turn): a guesser
// opening many connections at once would otherwise have every guess
// checked before the first failure is counted.
type throttle struct {
	st  *store.Store
	now func() time.Time

	mu        sync.Mutex
	lastPrune time.Time
	// turns are locks striped by key hash: bounded memory whatever
	// names a scan tries.
	turns [turnStripes]sync.Mutex
}

const turnStripes = 64

type throttleRule struct {
	free  int           // failures allowed without delay
	base  time.Duration // delay after the first counted failure
	limit time.Duration // the delay never grows beyond this
}

var (
	addrRule = throttleRule{free: 5, base: time.Second, limit: 15 * time.Minute}
	userRule = throttleRule{free: 5, base: time.Second, limit: time.Minute}
)

// forgetAfter is how long a key's failures are remembered after the last one.
const forgetAfter = time.Hour

func newThrottle(st *store.Store, now func() time.Time) *throttle {
	return &throttle{st: st, now: now}
}

func (r throttleRule) delay(count int) time.Duration {
	if count < r.free {
		return 0
	}
	d := r.base
	for range count - r.free {
		d *= 2
		if d >= r.limit {
			return r.limit
		}
	}
	return d
}

// wait returns how long a login for username from addr must still wait, or
// zero, and whether any failure is counted against it (else a success has
// nothing to clear, and costs no write).
func (t *throttle) wait(ctx context.Context, addr, username string) (time.Duration, bool, error) {
	keys, rules := t.keys(addr, username)
	seen, err := t.st.LoginFailures(ctx, keys)
	if err != nil {
		return 0, false, err
	}
	now := t.now()
	var longest time.Duration
	for i, key := range keys {
		f, ok := seen[key]
		if !ok {
			continue
		}
		if left := f.Last.Add(rules[i].delay(f.Failures)).Sub(now); left > longest {
			longest = left
		}
	}
	return longest, len(seen) > 0, nil
}

// turn waits until no other login of addr or username is being checked in
// this engine, and returns the end of this one's turn, to be called once
// its failure is counted (or its success cleared).
func (t *throttle) turn(addr, username string) (done func()) {
	keys, _ := t.keys(addr, username)
	a, b := stripe(keys[0]), stripe(keys[1])
	if a > b {
		a, b = b, a // one order for every caller: no deadlock
	}
	t.turns[a].Lock()
	if b != a {
		t.turns[b].Lock()
	}
	return func() {
		if b != a {
			t.turns[b].Unlock()
		}
		t.turns[a].Unlock()
	}
}

func stripe(key string) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % turnStripes)
}

// fail records a failed login.
func (t *throttle) fail(ctx context.Context, addr, username string) error {
	now := t.now()
	if err := t.prune(ctx, now); err != nil {
		return err
	}
	keys, _ := t.keys(addr, username)
	return t.st.AddLoginFailure(ctx, keys, now)
}

// succeed forgets the failures of a login that went through.
func (t *throttle) succeed(ctx context.Context, addr, username string) error {
	keys, _ := t.keys(addr, username)
	return t.st.ClearLoginFailures(ctx, keys)
}

// keys are the throttle keys of a login and their rules.
func (t *throttle) keys(addr, username string) ([]string, []throttleRule) {
	return []string{throttleKey("addr", addr), throttleKey("user", username)}, []throttleRule{addrRule, userRule}
}

// throttleKey is kind:value, or kind#hash for a value no account or address
// has (over 64 bytes, or not UTF-8), which the database could refuse or a
// scan could use to fill it.
func throttleKey(kind, value string) string {
	if len(value) <= 64 && utf8.ValidString(value) {
		return kind + ":" + value
	}
	sum := sha256.Sum256([]byte(value))
	return kind + "#" + hex.EncodeToString(sum[:16])
}

// prune drops keys idle for forgetAfter, so a scan with random usernames
// cannot grow the table without bound. Each engine sweeps at most once a
// minute, to keep a burst of failures from costing a sweep each.
func (t *throttle) prune(ctx context.Context, now time.Time) error {
	t.mu.Lock()
	due := now.Sub(t.lastPrune) >= time.Minute
	if due {
		t.lastPrune = now
	}
	t.mu.Unlock()
	if !due {
		return nil
	}
	_, err := t.st.ForgetLoginFailures(ctx, now.Add(-forgetAfter))
	return err
}
