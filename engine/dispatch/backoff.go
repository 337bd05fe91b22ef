package dispatch

import (
	"math/rand/v2"
	"time"
)

// Backoff returns the wait before retry number attempt (1 for the first
// retry): 10 s doubling each time, capped at one hour, with ±20 % jitter so
// that deliveries failing together do not retry together. Without jitter
// the schedule is 10 s, 20 s, 40 s, 80 s, 160 s, 320 s, 640 s, 1280 s,
// 2560 s, then 3600 s for every further retry.
func Backoff(attempt int) time.Duration {
	return jitter(BaseBackoff(attempt))
}

// BaseBackoff is Backoff without jitter.
func BaseBackoff(attempt int) time.Duration {
	const (
		first = 10 * time.Second
		limit = time.Hour
	)
	if attempt < 1 {
		attempt = 1
	}
	d := first
	for i := 1; i < attempt; i++ {
		d *= 2
		if d >= limit {
			return limit
		}
	}
	return d
}

func jitter(d time.Duration) time.Duration {
	spread := int64(d) / 5
	if spread <= 0 {
		return d
	}
	return d + time.Duration(rand.Int64N(2*spread+1)-spread)
}
