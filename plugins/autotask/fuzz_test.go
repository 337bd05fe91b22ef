package autotask

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzAPIError feeds Autotask error answers to the classifier: it must
// never panic, and its text must say what was called.
func FuzzAPIError(f *testing.F) {
	for _, seed := range []struct {
		status int
		body   string
	}{
		{500, `{"errors":["Zone information could not be determined"]}`},
		{500, `{"errors":[{"message":"Missing Required Field: title","field":"title"}]}`},
		{429, `{"errors":["Itgenatr005 - Thread Threshold Exceeded"]}`},
		{404, `{"Message":"No HTTP resource was found that matches the request URI"}`},
		{401, ``},
		{502, `<html>Bad Gateway</html>`},
		{500, `{"errors":[1, null, {"x": []}]}`},
	} {
		f.Add(seed.status, seed.body, "30")
	}
	f.Fuzz(func(t *testing.T, status int, body, retryAfter string) {
		e := newAPIError("POST", "/V1.0/Tickets/query", status, http.Header{"Retry-After": {retryAfter}}, []byte(body), []string{"ticketNumber", "T20240101.0001"})
		if !strings.Contains(e.Error(), "POST /V1.0/Tickets/query") {
			t.Fatalf("error text %q does not name the call", e.Error())
		}
		if e.Problem == ProblemThrottled && e.RetryAfter < 0 {
			t.Fatalf("negative wait %v", e.RetryAfter)
		}
	})
}

// FuzzTicketOverrides feeds external keys, which a representative or an
// integration types, to the ticket-field parser: it must never panic, and
// what it accepts must hold only known Tickets fields.
func FuzzTicketOverrides(f *testing.F) {
	for _, seed := range []string{
		`{"priority": 1, "title": "VIP: {{Issue}}"}`,
		`{"contactID": "<<emailAddress|customer_email>>", "queueID": 29682833}`,
		`{"userDefinedFields": [{"name": "Tier", "value": "Gold"}]}`,
		`{"queueID": 1, "QueueID": 2}`,
		`{"dueDateTime": "2024-01-31T17:00:00Z", "estimatedHours": 1.5}`,
		`{"title": 3}`, `[]`, `{`, `{"a":1}{}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, key string) {
		td, err := parseTicketOverrides(key)
		if err != nil {
			return
		}
		for name := range td.Fields {
			if _, ok := ticketFields[strings.ToLower(name)]; !ok {
				t.Fatalf("accepted unknown field %q from %q", name, key)
			}
		}
	})
}
