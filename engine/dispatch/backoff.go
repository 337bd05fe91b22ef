package dispatch

import (
	"math/rand/v2"
	"time"
)

// schedule is the wait before each retry, without jitter. It starts fast,
// for a blip, and stretches to hours, for an outage or a tenant that fails
// a third of its requests, the way webhook senders space their retries
// (Svix: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; Convoy's exponential
// default: 10 s, 30 s, 1 min, 3 min, 5 min, 10 min, 15 min). With the
// default Retry Attempt Limit the retries span about 31 hours.
var schedule = []time.Duration{
	10 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute,
	10 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, time.Hour,
}

// maxBackoff is the wait before every retry past the schedule.
const maxBackoff = 2 * time.Hour

// Backoff returns the wait before retry number attempt (1 for the first
// retry): BaseBackoff with ±20 % jitter, so that deliveries failing
// together do not retry together.
func Backoff(attempt int) time.Duration {
	return jitter(BaseBackoff(attempt))
}

// BaseBackoff is Backoff without jitter: 10 s, 30 s, 1 min, 2 min, 5 min,
// 10 min, 15 min, 30 min, 1 h, 1 h, then 2 h for every further retry.
func BaseBackoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt > len(schedule) {
		return maxBackoff
	}
	return schedule[attempt-1]
}

func jitter(d time.Duration) time.Duration {
	spread := int64(d) / 5
	if spread <= 0 {
		return d
	}
	return d + time.Duration(rand.Int64N(2*spread+1)-spread)
}
