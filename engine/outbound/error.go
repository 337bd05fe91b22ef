package outbound

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Error is any failed call: no answer (Status 0: network trouble, a
// timeout) or an answer Classify did not call OK. Its text never holds a
// secret the client's Redactor knows: Body is redacted when the error is
// made and the whole text again when it is read.
//
// engine.Classify reads it through PermanentError and RetryAfterDelay, so
// a plugin may return it as it is: Permanent fails the delivery, RetryLater
// waits without spending an attempt, the rest is retried.
type Error struct {
	Name string // the connector, "autotask": the text's prefix
	Op   string // what was being done, "POST TicketNotes"
	// Status is the HTTP status, 0 when no answer came.
	Status  int
	Header  http.Header
	Body    []byte // the answer's body, redacted
	Verdict Verdict
	// Timeout is the per-request timeout that expired, 0 if none did.
	Timeout time.Duration
	// Err is the transport failure behind a Status 0 error.
	Err error

	redact *Redactor
	// abandoned: the request was written and its answer never fully
	// read, so the remote may still be working on it.
	abandoned bool
}

// snippetLen is how much of an error body the text quotes.
const snippetLen = 300

func (e *Error) Error() string {
	var b strings.Builder
	if e.Name != "" {
		b.WriteString(e.Name + ": ")
	}
	b.WriteString(e.Op)
	switch {
	case e.Timeout > 0:
		fmt.Fprintf(&b, " timed out after %s", e.Timeout)
	case e.Status != 0:
		fmt.Fprintf(&b, ": %d %s", e.Status, http.StatusText(e.Status))
		if s := strings.TrimSpace(string(e.Body)); s != "" {
			if len(s) > snippetLen {
				s = s[:snippetLen] + "…"
			}
			b.WriteString(": " + s)
		}
		if e.Verdict.Class == RetryLater {
			fmt.Fprintf(&b, " (retry after %s)", e.Verdict.Wait)
		}
		if e.Err != nil {
			b.WriteString(": " + e.Err.Error())
		}
	case e.Err != nil:
		b.WriteString(": " + e.Err.Error())
	}
	return e.redact.String(b.String())
}

func (e *Error) Unwrap() error { return e.Err }

// PermanentError reports whether retrying cannot help; engine.Classify
// reads it.
func (e *Error) PermanentError() bool { return e.Verdict.Class == Permanent }

// RetryAfterDelay reports how long a throttled call asked to wait;
// engine.Classify reads it.
func (e *Error) RetryAfterDelay() (time.Duration, bool) {
	return e.Verdict.Wait, e.Verdict.Class == RetryLater
}

// TimedOut reports whether err is, or wraps, an *Error whose per-request
// timeout expired.
func TimedOut(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Timeout > 0
}

// Abandoned reports whether err is a request that was sent and then given
// up before its answer was read (timed out, cancelled, or cut off): the
// remote may still be working on it.
func Abandoned(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.abandoned
}

// StatusOf returns the HTTP status of an *Error in err's chain, 0 when
// there is none or no answer came.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}
