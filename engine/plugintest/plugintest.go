// Package plugintest is the conformance kit every plugin's tests run, after
// Alertmanager's notify/test: a table of remote answers and the outcome the
// dispatcher must see for each, a check that no secret leaks into an
// error's text, and a check of the settings struct.
package plugintest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard/engine"
)

// Answer is one canned answer of a remote API and the outcome a plugin's
// client must report for it.
type Answer struct {
	Name       string
	Status     int
	Header     http.Header
	Body       string
	Want       engine.Outcome
	WantAfter  time.Duration // for OutcomeRetryAfter
	AfterFloor bool          // WantAfter is a minimum (a default wait), not exact
}

// RetryTable is the behaviour shared by every HTTP plugin: 2xx succeeds,
// 429 waits as Retry-After says, 5xx is retried, other 4xx is permanent.
// Plugins append the cases their API adds (Autotask: 500 with an errors
// list is permanent, thread-limit text waits at any status).
func RetryTable() []Answer {
	ra := func(v string) http.Header { return http.Header{"Retry-After": []string{v}} }
	return []Answer{
		{Name: "400 bad request", Status: 400, Body: `{}`, Want: engine.OutcomePermanent},
		{Name: "401 unauthorized", Status: 401, Want: engine.OutcomePermanent},
		{Name: "403 forbidden", Status: 403, Body: `{}`, Want: engine.OutcomePermanent},
		{Name: "405 method not allowed", Status: 405, Body: `{}`, Want: engine.OutcomePermanent},
		{Name: "429 with Retry-After seconds", Status: 429, Header: ra("7"), Body: `{}`, Want: engine.OutcomeRetryAfter, WantAfter: 7 * time.Second},
		{Name: "429 without Retry-After", Status: 429, Body: `{}`, Want: engine.OutcomeRetryAfter, WantAfter: time.Second, AfterFloor: true},
		{Name: "500 without details", Status: 500, Want: engine.OutcomeRetry},
		{Name: "502 bad gateway", Status: 502, Body: "<html>Bad Gateway</html>", Want: engine.OutcomeRetry},
		{Name: "503 unavailable", Status: 503, Want: engine.OutcomeRetry},
		{Name: "504 gateway timeout", Status: 504, Want: engine.OutcomeRetry},
	}
}

// Call is what a plugin test runs against a server that gives one Answer:
// make one request to url the way the plugin does and return the plugin's
// error (already classified for the dispatcher).
type Call func(ctx context.Context, url string) error

// RunRetryTable serves each answer on a fresh server and checks the outcome
// engine.Classify reads from call's error.
func RunRetryTable(t *testing.T, answers []Answer, call Call) {
	t.Helper()
	for _, a := range answers {
		t.Run(a.Name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				for k, v := range a.Header {
					w.Header()[k] = v
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(a.Status)
				_, _ = io.WriteString(w, a.Body)
			}))
			defer srv.Close()
			err := call(context.Background(), srv.URL)
			got, after := engine.Classify(err)
			if got != a.Want {
				t.Fatalf("status %d: outcome %v, want %v (error: %v)", a.Status, got, a.Want, err)
			}
			if a.Want == engine.OutcomeRetryAfter {
				if (!a.AfterFloor && after != a.WantAfter) || (a.AfterFloor && after < a.WantAfter) {
					t.Errorf("status %d: retry after %v, want %v", a.Status, after, a.WantAfter)
				}
			}
		})
	}
}

// AssertNoSecret fails the test if any secret appears in err's text, in any
// of the ways it could be printed.
func AssertNoSecret(t testing.TB, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, text := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		for _, s := range secrets {
			if s != "" && strings.Contains(text, s) {
				t.Errorf("error text leaks a secret: %q", text)
			}
		}
	}
}

// CheckSettings is the settings half of the conformance kit: the plugin's
// settings struct validates (defaults and zero value) without a validator
// panic from a mistyped tag, every field has a label and a known kind, every
// field of the secret kind is an engine.Secret, and secret fields never
// marshal their value.
func CheckSettings(t *testing.T, p engine.Plugin) {
	t.Helper()
	info := p.Info()
	settings := info.NewSettings()
	engine.Validate(settings)
	zero := reflect.New(reflect.TypeOf(settings).Elem()).Interface()
	engine.Validate(zero)
	st := reflect.TypeOf(settings).Elem()
	for i := range st.NumField() {
		sf := st.Field(i)
		if name, _, _ := strings.Cut(sf.Tag.Get("json"), ","); sf.IsExported() && name != "" && name != "-" && sf.Tag.Get("label") == "" {
			t.Errorf("%s: field %s has no label tag", info.ID, name)
		}
	}
	kinds := []string{engine.KindText, engine.KindTextarea, engine.KindNumber, engine.KindBool, engine.KindSelect, engine.KindMultiSelect, engine.KindJSON, engine.KindSecret}
	secrets := engine.Secrets(settings)
	for _, f := range engine.Fields(settings, info.Events) {
		if !slices.Contains(kinds, f.Kind) {
			t.Errorf("%s: field %s has the unknown kind %q", info.ID, f.Name, f.Kind)
		}
		// A kind:"secret" tag on a plain type gets a password box but is
		// neither sealed nor hidden: only an engine.Secret is.
		if f.Kind == engine.KindSecret && !slices.ContainsFunc(secrets, func(r engine.SecretRef) bool { return r.Name == f.Name }) {
			t.Errorf("%s: field %s is shown as a secret but is not an engine.Secret", info.ID, f.Name)
		}
	}
	const planted = "planted-secret-value"
	for _, ref := range secrets {
		*ref.Value = engine.NewSecret(planted)
	}
	out, err := json.Marshal(settings)
	if err != nil {
		t.Fatalf("%s: marshal settings: %v", info.ID, err)
	}
	if strings.Contains(string(out), planted) {
		t.Errorf("%s: marshalled settings show a secret: %s", info.ID, out)
	}
	if strings.Contains(fmt.Sprintf("%v %+v", settings, settings), planted) {
		t.Errorf("%s: printed settings show a secret", info.ID)
	}
}
