package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"
)

// Credentials verified with bcrypt are remembered for verifiedTTL as a
// keyed hash, so that the command line's HTTP Basic requests (each one
// carries the password) cost bcrypt once rather than once each.
const (
	verifiedTTL = 10 * time.Minute
	maxVerified = 256
)

// verifiedSet holds HMAC-SHA-256 digests, under a key that never leaves
// the process, of username, password and the stored bcrypt hash of
// successful checks. The stored hash is part of the digest, so a changed
// password (here or by another engine sharing the database) stops matching
// at once. Only successes are kept: a wrong password always costs bcrypt.
type verifiedSet struct {
	mu      sync.Mutex
	key     []byte
	expires map[[sha256.Size]byte]time.Time
}

func newVerifiedSet() *verifiedSet {
	key := make([]byte, 32)
	rand.Read(key) // never fails: crypto/rand panics rather than return short
	return &verifiedSet{key: key, expires: map[[sha256.Size]byte]time.Time{}}
}

func (v *verifiedSet) digest(username, password, storedHash string) [sha256.Size]byte {
	mac := hmac.New(sha256.New, v.key)
	for _, s := range []string{username, password, storedHash} {
		// Length-prefixed, so that no two triples share an input.
		mac.Write([]byte{byte(len(s) >> 24), byte(len(s) >> 16), byte(len(s) >> 8), byte(len(s))})
		mac.Write([]byte(s))
	}
	var d [sha256.Size]byte
	mac.Sum(d[:0])
	return d
}

// has reports whether these credentials were verified against storedHash
// within verifiedTTL.
func (v *verifiedSet) has(username, password, storedHash string, now time.Time) bool {
	d := v.digest(username, password, storedHash)
	v.mu.Lock()
	defer v.mu.Unlock()
	exp, ok := v.expires[d]
	return ok && now.Before(exp)
}

// add remembers a successful check. When full it forgets the expired
// entries, and everything if none has expired: the cost is one bcrypt
// check per client afterwards.
func (v *verifiedSet) add(username, password, storedHash string, now time.Time) {
	d := v.digest(username, password, storedHash)
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.expires) >= maxVerified {
		for k, exp := range v.expires {
			if !now.Before(exp) {
				delete(v.expires, k)
			}
		}
		if len(v.expires) >= maxVerified {
			clear(v.expires)
		}
	}
	v.expires[d] = now.Add(verifiedTTL)
}

// clear forgets every verified credential.
func (v *verifiedSet) clear() {
	v.mu.Lock()
	defer v.mu.Unlock()
	clear(v.expires)
}
