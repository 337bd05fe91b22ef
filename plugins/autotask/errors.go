package autotask

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"switchboard/engine"
	"switchboard/engine/outbound"
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

// newAPIError reads an error answer and classifies it. sent are the field
// names and values the request carried (see sentWords), which tell a
// refusal of the request from a failure of the server.
func newAPIError(method, path string, status int, header http.Header, body []byte, sent []string) *APIError {
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
		e.RetryAfter = outbound.RetryAfter(header.Get("Retry-After"), time.Now(), defaultRetryAfter)
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
	case status >= 500 && (!hasList || !refusal(text, sent)):
		// Autotask answers its own failures with an errors list too
		// ("Internal Server Error"): only a message saying what it refused
		// is a refusal, anything else is tried again.
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

// refusalPhrases are how Autotask's validation and business-rule messages
// say what is wrong (autotask-api.md §5, "Validation messages seen", and
// §2's permission text): "Missing Required Field", "must have a roleID",
// "does not exist or is invalid", "does not reference an existing entity",
// "already exists ... must be unique".
var refusalPhrases = regexp.MustCompile(`(?i)\b(required|must|invalid|not valid|does not exist|does not reference|already exists|unique|exceeds|picklist|not allowed)\b`)

// refusal reports whether an error text names what was refused: a field or
// a value the request sent, or a validation phrase.
func refusal(text string, sent []string) bool {
	if refusalPhrases.MatchString(text) {
		return true
	}
	for _, w := range sent {
		if mentions(text, w) {
			return true
		}
	}
	return false
}

// mentions reports whether text (lower case) holds word as a word of its
// own, ignoring case: "noteType" in "the picklist for noteType.", not
// "type" in "noteType".
func mentions(text, word string) bool {
	word = strings.ToLower(word)
	if word == "" {
		return false
	}
	for i := 0; ; {
		j := strings.Index(text[i:], word)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(word)
		if (start == 0 || !isWordByte(text[start-1])) && (end == len(text) || !isWordByte(text[end])) {
			return true
		}
		i = start + 1
	}
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// sentWords are the field names a request body carries (its keys, a
// query's filter fields) and its string values of four characters or more:
// what a validation message names.
func sentWords(body any) []string {
	var out []string
	add := func(v any) {
		if s, ok := v.(string); ok && len(s) >= 4 {
			out = append(out, s)
		}
	}
	var filters func([]Filter)
	filters = func(fs []Filter) {
		for _, f := range fs {
			if f.Field != "" {
				out = append(out, f.Field)
			}
			add(f.Value)
			filters(f.Items)
		}
	}
	switch b := body.(type) {
	case map[string]any:
		for k, v := range b {
			out = append(out, k)
			add(v)
		}
	case Query:
		filters(b.Filter)
	}
	return out
}

// Blame ties a setting to the words by which an Autotask message names
// what the setting controls (the fields it fills).
type Blame struct {
	Setting string
	Words   []string
}

// Classify turns an error from the client into what the dispatcher needs:
// a configuration problem is permanent, throttling waits, and server or
// network trouble is retried. A refusal names a setting to check only when
// its message names one of that setting's words; otherwise Autotask's own
// message says what is wrong.
func Classify(err error, blame ...Blame) error {
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
	text := strings.ToLower(strings.Join(ae.Messages, " "))
	var settings []string
	for _, b := range blame {
		if slices.ContainsFunc(b.Words, func(w string) bool { return mentions(text, w) }) && !slices.Contains(settings, b.Setting) {
			settings = append(settings, b.Setting)
		}
	}
	if len(settings) > 0 {
		return engine.Permanent(fmt.Errorf("%w: check %s", err, strings.Join(settings, " and ")))
	}
	return engine.Permanent(err)
}
