package engine

import (
	"errors"
	"fmt"
	"time"
)

// Outcome is how the dispatcher treats the error a plugin returned.
type Outcome int

const (
	// OutcomeDone means the delivery succeeded.
	OutcomeDone Outcome = iota
	// OutcomeRetry means the delivery failed and may be retried with backoff.
	OutcomeRetry
	// OutcomeRetryAfter means the remote asked us to wait; no attempt is used up.
	OutcomeRetryAfter
	// OutcomePermanent means retrying cannot help: the delivery fails now.
	OutcomePermanent
	// OutcomeSkipped means there was nothing to do; the delivery ends without error.
	OutcomeSkipped
)

func (o Outcome) String() string {
	switch o {
	case OutcomeDone:
		return "done"
	case OutcomeRetry:
		return "retry"
	case OutcomeRetryAfter:
		return "retry_after"
	case OutcomePermanent:
		return "permanent"
	case OutcomeSkipped:
		return "skipped"
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as one that retrying cannot fix (bad credentials, a
// validation error from the remote API, a missing permission).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

type retryAfterError struct {
	after time.Duration
	err   error
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// RetryAfter asks the dispatcher to run the delivery again after d without
// counting the attempt, as a remote's 429 Retry-After asks.
func RetryAfter(d time.Duration, err error) error {
	if err == nil {
		err = errors.New("remote asked to retry later")
	}
	if d < 0 {
		d = 0
	}
	return &retryAfterError{after: d, err: err}
}

type skipError struct{ reason string }

func (e *skipError) Error() string { return e.reason }

// Skip ends a delivery as skipped: nothing was wrong, there was just nothing
// to do (for example a session with no ticket to write to). The reason is
// shown to the admin.
func Skip(reason string) error { return &skipError{reason: reason} }

// retryAfterMarker lets packages that do not import engine (the appliance
// client, for one) ask for a wait without spending an attempt, as a 429
// does; ok false means the error is not one that asks.
type retryAfterMarker interface {
	RetryAfterDelay() (d time.Duration, ok bool)
}

// permanentMarker lets packages that do not import engine (the appliance
// client, for one) mark their own error types as permanent.
type permanentMarker interface{ PermanentError() bool }

// Classify tells the dispatcher what to do with the error a plugin returned,
// and for OutcomeRetryAfter how long to wait.
func Classify(err error) (Outcome, time.Duration) {
	if err == nil {
		return OutcomeDone, 0
	}
	var skip *skipError
	if errors.As(err, &skip) {
		return OutcomeSkipped, 0
	}
	var ra *retryAfterError
	if errors.As(err, &ra) {
		return OutcomeRetryAfter, ra.after
	}
	var perm *permanentError
	if errors.As(err, &perm) {
		return OutcomePermanent, 0
	}
	var ram retryAfterMarker
	if errors.As(err, &ram) {
		if d, ok := ram.RetryAfterDelay(); ok {
			return OutcomeRetryAfter, max(d, 0)
		}
	}
	var pm permanentMarker
	if errors.As(err, &pm) && pm.PermanentError() {
		return OutcomePermanent, 0
	}
	return OutcomeRetry, 0
}
