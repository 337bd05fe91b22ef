package auth

import (
	"sync"
	"time"
)

// throttle slows down password guessing. Every failed login counts against
// the client address and against the username; after a few free failures
// each further attempt on that key must wait a doubling delay. The user key
// has a short cap so that a stranger guessing at "admin" can delay the real
// admin by a minute at most, while the address key caps much higher.
type throttle struct {
	mu        sync.Mutex
	now       func() time.Time
	entries   map[string]*failures
	lastPrune time.Time
}

type failures struct {
	count int
	last  time.Time
}

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

func newThrottle(now func() time.Time) *throttle {
	return &throttle{now: now, entries: map[string]*failures{}}
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
// zero.
func (t *throttle) wait(addr, username string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var longest time.Duration
	for key, rule := range t.keys(addr, username) {
		f := t.entries[key]
		if f == nil {
			continue
		}
		if left := f.last.Add(rule.delay(f.count)).Sub(now); left > longest {
			longest = left
		}
	}
	return longest
}

// fail records a failed login.
func (t *throttle) fail(addr, username string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.prune(now)
	for key := range t.keys(addr, username) {
		f := t.entries[key]
		if f == nil {
			f = &failures{}
			t.entries[key] = f
		}
		f.count++
		f.last = now
	}
}

// succeed forgets the failures of a login that went through.
func (t *throttle) succeed(addr, username string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for key := range t.keys(addr, username) {
		delete(t.entries, key)
	}
}

func (t *throttle) keys(addr, username string) map[string]throttleRule {
	return map[string]throttleRule{"addr:" + addr: addrRule, "user:" + username: userRule}
}

// prune drops keys idle for forgetAfter, so a scan with random usernames
// cannot grow the map without bound. It sweeps at most once a minute to keep
// a burst of failures from costing a full sweep each.
func (t *throttle) prune(now time.Time) {
	if now.Sub(t.lastPrune) < time.Minute {
		return
	}
	t.lastPrune = now
	for key, f := range t.entries {
		if now.Sub(f.last) > forgetAfter {
			delete(t.entries, key)
		}
	}
}
