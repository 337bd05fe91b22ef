package autotask

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"switchboard/engine"
)

// Problem is what an Autotask error means for the admin.
type Problem int

// Problems an Autotask answer can mean.
const (
	ProblemServer          Problem = iota // 5xx without an error list, a gateway error: try again
	ProblemThrottled                      // 429 or the thread limit (Itgenatr005): wait, then try again
	ProblemWrongSecret                    // 401: the password (secret) is wrong, or the zone changed
	ProblemUnknownUser                    // the username is unknown
	ProblemIntegrationCode                // the integration code is wrong
	ProblemPermission                     // the API user's security level forbids it
	ProblemNotFound                       // 404 on an entity id
	ProblemRejected                       // a validation or business rule refused the request
	ProblemRoute                          // 404/405 on a route: the Services URL is wrong
)

// defaultRetryAfter is the wait when Autotask throttles without saying for
// how long.
const defaultRetryAfter = 30 * time.Second

// APIError is an Autotask answer other than 200. Its text carries the
// method, the path, the status and Autotask's messages, never a header.
type APIError struct {
	Method     string
	Path       string // path below the REST root, e.g. /V1.0/Tickets/query
	Status     int
	Messages   []string // the errors list, or the web server's Message
	RetryAfter time.Duration
	Problem    Problem
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "autotask: %s %s: %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if len(e.Messages) > 0 {
		b.WriteString(": ")
		b.WriteString(strings.Join(e.Messages, "; "))
	}
	return b.String()
}

// errorBody is both shapes Autotask answers errors with: the API's
// {"errors": [...]} (strings, or objects in some versions) and the web
// server's {"Message": "..."}.
type errorBody struct {
	Errors  []json.RawMessage `json:"errors"`
	Message string            `json:"Message"`
}

// newAPIError reads an error answer and classifies it.
func newAPIError(method, path string, status int, header http.Header, body []byte) *APIError {
	e := &APIError{Method: method, Path: path, Status: status}
	var eb errorBody
	hasList := false
	if json.Unmarshal(body, &eb) == nil {
		hasList = len(eb.Errors) > 0
		for _, raw := range eb.Errors {
			e.Messages = append(e.Messages, errorText(raw))
		}
		if eb.Message != "" {
			e.Messages = append(e.Messages, eb.Message)
		}
	}
	text := strings.ToLower(strings.Join(e.Messages, " "))
	switch {
	case status == http.StatusTooManyRequests || strings.Contains(text, "itgenatr005") || strings.Contains(text, "thread threshold"):
		e.Problem = ProblemThrottled
		e.RetryAfter = parseRetryAfter(header.Get("Retry-After"), time.Now())
	case status == http.StatusUnauthorized:
		e.Problem = ProblemWrongSecret
	case strings.Contains(text, "zone information could not be determined") ||
		strings.Contains(text, "username") || strings.Contains(text, "user name"):
		e.Problem = ProblemUnknownUser
	case strings.Contains(text, "integrationcode") || strings.Contains(text, "integration code") ||
		strings.Contains(text, "tracking identifier"):
		e.Problem = ProblemIntegrationCode
	case status == http.StatusForbidden || strings.Contains(text, "permission"):
		e.Problem = ProblemPermission
	case status == http.StatusNotFound && hasList:
		e.Problem = ProblemNotFound
	case status == http.StatusNotFound || status == http.StatusMethodNotAllowed:
		e.Problem = ProblemRoute
	case status >= 500 && !hasList:
		e.Problem = ProblemServer
	default:
		e.Problem = ProblemRejected
	}
	return e
}

func errorText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		Message string `json:"message"`
		Field   string `json:"field"`
	}
	if json.Unmarshal(raw, &obj) == nil && obj.Message != "" {
		if obj.Field != "" {
			return obj.Field + ": " + obj.Message
		}
		return obj.Message
	}
	return string(raw)
}

// parseRetryAfter reads seconds or an HTTP date; absent or unreadable means
// the default wait.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return defaultRetryAfter
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
		return 0
	}
	return defaultRetryAfter
}

// Classify turns an error from the client into what the dispatcher needs:
// a configuration problem is permanent with a message naming the setting to
// fix, throttling waits, and server or network trouble is retried. setting
// names the setting a rejected request most likely comes from.
func Classify(err error, setting string) error {
	if err == nil {
		return nil
	}
	var ae *APIError
	if !errors.As(err, &ae) {
		return err // network errors and timeouts are retried
	}
	switch ae.Problem {
	case ProblemThrottled:
		return engine.RetryAfter(ae.RetryAfter, fmt.Errorf("%w (Autotask is throttling this integration)", err))
	case ProblemServer:
		return err
	case ProblemWrongSecret:
		return engine.Permanent(fmt.Errorf("%w: Autotask refused the credentials; check Autotask Password (and Autotask Services URL if set)", err))
	case ProblemUnknownUser:
		return engine.Permanent(fmt.Errorf("%w: check Autotask Username (an API-only user)", err))
	case ProblemIntegrationCode:
		return engine.Permanent(fmt.Errorf("%w: check API Integration Code", err))
	case ProblemPermission:
		return engine.Permanent(fmt.Errorf("%w: the API user's security level does not allow this; grant it in Autotask (Admin > Security Levels)", err))
	case ProblemRoute:
		return engine.Permanent(fmt.Errorf("%w: check Autotask Services URL (use the zone's root, e.g. https://webservices15.autotask.net/ATServicesRest/)", err))
	}
	if setting != "" {
		return engine.Permanent(fmt.Errorf("%w: check %s", err, setting))
	}
	return engine.Permanent(err)
}
