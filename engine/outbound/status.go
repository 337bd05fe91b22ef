package outbound

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Class is what an HTTP answer means for the delivery that asked.
type Class int

// Classes of answers, after Alertmanager's notify retrier.
const (
	// OK is a 2xx: the request was carried out.
	OK Class = iota
	// Retry is a failure that may pass: 408, 425, 5xx, no answer at all.
	Retry
	// RetryLater is a 429: wait as long as Retry-After says, without
	// spending an attempt (engine.RetryAfter).
	RetryLater
	// Permanent is every other answer: retrying the same request cannot
	// help (engine.Permanent).
	Permanent
)

func (c Class) String() string {
	switch c {
	case OK:
		return "ok"
	case Retry:
		return "retry"
	case RetryLater:
		return "retry later"
	case Permanent:
		return "permanent"
	}
	return "class(" + strconv.Itoa(int(c)) + ")"
}

// Verdict is a classified answer: its class and, for RetryLater, the wait.
type Verdict struct {
	Class Class
	Wait  time.Duration
}

// Classifier is a connector's hook for an API that misuses status codes
// (a 500 that is really a validation error, a 200 whose body says
// "throttled"). It sees the whole answer; ok false leaves the decision to
// the default table of Classify.
type Classifier func(status int, header http.Header, body []byte) (v Verdict, ok bool)

// Bounds of a Retry-After wait: a remote asking for 0 s (or for a date
// already past) still gets MinRetryAfter, so a throttling server is never
// hammered; one asking for days gets MaxRetryAfter.
const (
	MinRetryAfter     = time.Second
	MaxRetryAfter     = time.Hour
	DefaultRetryAfter = 30 * time.Second
)

// Classify is the default table: 2xx OK; 408, 425 and 5xx Retry; 429
// RetryLater for as long as Retry-After says (see RetryAfter; fallback is
// the wait used when the header is absent or unreadable, 0 meaning
// DefaultRetryAfter); every other status Permanent, 1xx and 3xx included
// (a client that gets one did not follow it on purpose).
func Classify(status int, header http.Header, now time.Time, fallback time.Duration) Verdict {
	switch {
	case status >= 200 && status < 300:
		return Verdict{Class: OK}
	case status == http.StatusTooManyRequests:
		return Verdict{Class: RetryLater, Wait: RetryAfter(header.Get("Retry-After"), now, fallback)}
	case status == http.StatusRequestTimeout, status == http.StatusTooEarly, status >= 500 && status < 600:
		return Verdict{Class: Retry}
	}
	return Verdict{Class: Permanent}
}

// RetryAfter reads a Retry-After value, delta-seconds or an HTTP date
// (RFC 9110 §10.2.3), into a wait between MinRetryAfter and MaxRetryAfter.
// An absent or unreadable value gives fallback (DefaultRetryAfter when 0),
// bounded the same way.
func RetryAfter(value string, now time.Time, fallback time.Duration) time.Duration {
	d := fallback
	if d <= 0 {
		d = DefaultRetryAfter
	}
	value = strings.TrimSpace(value)
	if secs, err := strconv.ParseInt(value, 10, 64); err == nil && secs >= 0 {
		d = time.Duration(min(secs, int64(MaxRetryAfter/time.Second))) * time.Second
	} else if at, err := http.ParseTime(value); err == nil {
		d = at.Sub(now)
	}
	return min(max(d, MinRetryAfter), MaxRetryAfter)
}
