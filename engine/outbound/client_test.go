package outbound

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestDoSendsAndDecodesJSON(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("Content-Type") != "application/json" || string(b) != `{"n":1}` {
			http.Error(w, "bad request body "+string(b), http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, `{"id":42}`)
	}))
	defer srv.Close()
	var out struct{ ID int }
	resp, err := New(Options{Name: "x"}).Do(context.Background(), Request{Method: http.MethodPost, URL: srv.URL + "/things", JSON: map[string]int{"n": 1}, Out: &out})
	if err != nil || out.ID != 42 || resp.Status != 200 {
		t.Fatalf("Do: %v, %+v, %+v", err, out, resp)
	}
}

// An API that echoes the request's headers must not put a secret in an
// error, in any form.
func TestErrorsNeverHoldASecret(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, "you sent "+r.Header.Get("Authorization")+" and "+r.Header.Get("Secret")+" to "+r.URL.RawQuery)
	}))
	defer srv.Close()
	red := NewRedactor("integration-code-9").WithBasic("user", "pass/word+1")
	c := New(Options{Name: "x", Redactor: red})
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("user:pass/word+1"))
	resp, err := c.Do(context.Background(), Request{Method: http.MethodGet, URL: srv.URL + "/?k=pass%2Fword%2B1",
		Header: http.Header{"Authorization": {basic}, "Secret": {"integration-code-9"}}})
	if err == nil || !strings.Contains(err.Error(), Mask) {
		t.Fatalf("want a redacted 400, got %v", err)
	}
	for _, leak := range []string{"pass/word+1", "pass%2Fword%2B1", basic[6:], "integration-code-9"} {
		if strings.Contains(err.Error(), leak) || strings.Contains(string(resp.Body), leak) {
			t.Errorf("%q leaked: %v / %s", leak, err, resp.Body)
		}
	}
	var e *Error
	if !errors.As(err, &e) || !e.PermanentError() || e.Status != 400 {
		t.Fatalf("a 400 is permanent: %#v", err)
	}
}

func TestCredentialsNeverCrossARedirect(t *testing.T) {
	t.Parallel()
	var reached atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		_, _ = io.WriteString(w, `{}`)
	}))
	defer elsewhere.Close()
	home := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+"/moved", http.StatusTemporaryRedirect)
	}))
	defer home.Close()
	c := New(Options{Name: "x", CredentialHeaders: []string{"Secret"}})
	for _, h := range []http.Header{{"Secret": {"abcd1234"}}, {"Authorization": {"Bearer t0ken"}}} {
		_, err := c.Do(context.Background(), Request{Method: http.MethodGet, URL: home.URL, Header: h})
		var e *Error
		if !errors.Is(err, ErrRedirect) || !errors.As(err, &e) || !e.PermanentError() {
			t.Errorf("redirect with %v: %v", h, err)
		}
	}
	if reached.Load() != 0 {
		t.Fatal("a request with credentials followed the redirect")
	}
	if _, err := c.Do(context.Background(), Request{Method: http.MethodGet, URL: home.URL}); err != nil || reached.Load() != 1 {
		t.Fatalf("a request without credentials should follow: %v", err)
	}
	_, err := New(Options{NoRedirects: true}).Do(context.Background(), Request{Method: http.MethodGet, URL: home.URL})
	if StatusOf(err) != http.StatusTemporaryRedirect || reached.Load() != 1 {
		t.Fatalf("NoRedirects: %v", err)
	}
}

func TestTimeoutNamesWhatTimedOut(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer srv.Close()
	c := New(Options{Name: "autotask", Timeout: 20 * time.Millisecond})
	_, err := c.Do(context.Background(), Request{Method: http.MethodPost, URL: srv.URL, Op: "POST TicketNotes"})
	if !TimedOut(err) || err.Error() != "autotask: POST TicketNotes timed out after 20ms" {
		t.Fatalf("timeout: %v", err)
	}
	// The caller's own cancellation is not a request timeout, and keeps its cause.
	cause := errors.New("lease lost")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(cause)
	_, err = c.Do(ctx, Request{Method: http.MethodGet, URL: srv.URL})
	if TimedOut(err) || !errors.Is(err, cause) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"a":"`+strings.Repeat("x", 100)+`"}`)
	}))
	defer srv.Close()
	var out map[string]string
	_, err := New(Options{MaxBody: 50}).Do(context.Background(), Request{Method: http.MethodGet, URL: srv.URL, Out: &out})
	if err == nil || !strings.Contains(err.Error(), "larger than 50 bytes") {
		t.Fatalf("oversize answer: %v", err)
	}
	var streamed int
	_, err = New(Options{MaxBody: 50}).Do(context.Background(), Request{Method: http.MethodGet, URL: srv.URL, Stream: func(r io.Reader) error {
		b, err := io.ReadAll(r)
		streamed = len(b)
		return err
	}})
	if err != nil || streamed != 50 {
		t.Fatalf("stream read %d bytes: %v", streamed, err)
	}
}

func TestRetryAfterAndHook(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/throttled" {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, `{"errors":["Missing Required Field: title"]}`)
	}))
	defer srv.Close()
	_, err := New(Options{}).Do(context.Background(), Request{Method: http.MethodGet, URL: srv.URL + "/throttled"})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatal(err)
	}
	if d, ok := e.RetryAfterDelay(); !ok || d != MinRetryAfter {
		t.Fatalf("429 Retry-After 0: %s %v", d, ok)
	}
	hook := func(status int, _ http.Header, body []byte) (Verdict, bool) {
		if status == 500 && strings.Contains(string(body), "Required") {
			return Verdict{Class: Permanent}, true
		}
		return Verdict{}, false
	}
	_, err = New(Options{Classify: hook}).Do(context.Background(), Request{Method: http.MethodGet, URL: srv.URL})
	if !errors.As(err, &e) || !e.PermanentError() {
		t.Fatalf("hook: %v", err)
	}
	_, err = New(Options{}).Do(context.Background(), Request{Method: http.MethodGet, URL: srv.URL})
	if !errors.As(err, &e) || e.Verdict.Class != Retry {
		t.Fatalf("no hook: %v", err)
	}
}

// MaxErrorBody reads no more of an error answer than it allows, while a
// 2xx answer may be as large as MaxBody.
func TestMaxErrorBodyCutsOnlyErrorAnswers(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusBadGateway)
		}
		_, _ = io.WriteString(w, big)
	}))
	defer srv.Close()
	c := New(Options{Name: "x", MaxBody: 2000, MaxErrorBody: 100})
	resp, err := c.Do(context.Background(), Request{Method: http.MethodGet, URL: srv.URL + "/fail"})
	if err == nil || resp == nil {
		t.Fatalf("a 502: %v, %v", err, resp)
	}
	if len(resp.Body) != 100 {
		t.Errorf("a 502's body: %d bytes read, want 100", len(resp.Body))
	}
	var got string
	if _, err := c.Do(context.Background(), Request{Method: http.MethodGet, URL: srv.URL + "/ok", Stream: func(r io.Reader) error {
		b, err := io.ReadAll(r)
		got = string(b)
		return err
	}}); err != nil || got != big {
		t.Fatalf("a 200: %v, %d bytes", err, len(got))
	}
}
