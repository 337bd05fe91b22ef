// Package outbound is the kit every connector calls its remote API with,
// so that each one gets the same guarantees without writing them again:
//
//   - Client.Do sends one request (a JSON value, or raw bytes) under a
//     per-request timeout, reads at most MaxBody bytes of the answer and
//     decodes a 2xx into Request.Out (or hands it to Request.Stream);
//   - a request that carries credentials (Authorization, Cookie or a header
//     named in Options.CredentialHeaders) never follows a redirect, since
//     net/http would re-send custom headers to wherever it points;
//   - every failure is an *Error whose text names the connector and the
//     operation ("autotask: POST TicketNotes timed out after 30s") and never
//     holds a secret: Redactor masks each secret in plain, Base64 (Basic
//     "user:secret" included), URL- and JSON-escaped form;
//   - Classify sorts answers as Alertmanager's retrier does (2xx OK; 408,
//     425, 5xx Retry; 429 RetryLater with Retry-After bounded to
//     [MinRetryAfter, MaxRetryAfter]; other 4xx Permanent), with
//     Options.Classify as the hook for an API that misuses status codes.
//
// *Error implements the PermanentError and RetryAfterDelay methods that
// engine.Classify reads, so a plugin may return it unchanged. The package
// does not import engine, so the appliance client can use it too.
//
// A connector builds one Client per configuration:
//
//	c := outbound.New(outbound.Options{
//		Name:              "connectwise",
//		Redactor:          outbound.NewRedactor(privateKey).WithBasic(company+"+"+publicKey, privateKey),
//		CredentialHeaders: []string{"clientId"},
//	})
//	var ticket struct{ ID int64 `json:"id"` }
//	_, err := c.Do(ctx, outbound.Request{
//		Method: http.MethodGet, URL: root + "/service/tickets/42", Op: "GET ticket 42",
//		Header: http.Header{"Authorization": {basic}}, Out: &ticket,
//	})
package outbound

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync/atomic"
	"time"
)

// Defaults of Options.
const (
	DefaultTimeout        = 30 * time.Second
	DefaultMaxBody        = 16 << 20
	DefaultTimeoutGrace   = 30 * time.Second
	DefaultTimeoutRetries = 2
	// DefaultServerErrorPause is the first pause before an Idempotent
	// request answered 5xx is sent again (Options.ServerErrorRetries).
	DefaultServerErrorPause = time.Second
)

// ErrRedirect is the cause of an *Error for a redirect that was refused
// because the request carried credentials.
var ErrRedirect = errors.New("redirect refused: the request carries credentials, which are never sent on")

// Options configure a Client. Every field is optional.
type Options struct {
	// Name prefixes every error text: the connector's ID.
	Name string
	// HTTP is the client whose transport is used (default: one shared,
	// with sensible transport timeouts). Its CheckRedirect is replaced.
	HTTP *http.Client
	// Timeout bounds one request, answer body included (default 30s).
	Timeout time.Duration
	// MaxBody caps the bytes read of one answer (default 16 MiB); a larger
	// 2xx answer is an error, a larger error answer is cut.
	MaxBody int64
	// MaxErrorBody, when set, caps the bytes read of an answer that is not
	// 2xx below MaxBody: an API that streams large reports need not hold a
	// large error page in memory to quote its start.
	MaxErrorBody int64
	// Redactor knows the secrets to keep out of errors.
	Redactor *Redactor
	// CredentialHeaders name the headers, besides Authorization and
	// Cookie, that carry credentials (Autotask's "Secret").
	CredentialHeaders []string
	// NoRedirects hands every 3xx back as the answer (Classify calls it
	// Permanent) instead of following it, for APIs that never redirect.
	NoRedirects bool
	// Classify is the connector's hook for status codes its API misuses.
	Classify Classifier
	// RetryAfter is the wait for a 429 without a usable Retry-After
	// (default DefaultRetryAfter).
	RetryAfter time.Duration
	// Governor hands out the slots of Request.Budgets (default
	// DefaultGovernor, shared by the whole process).
	Governor *Governor
	// TimeoutGrace is how long the budget slots of a request given up
	// after it was sent (timed out, cancelled, cut off: Abandoned) stay
	// taken (default DefaultTimeoutGrace): the remote may still be
	// working on it.
	TimeoutGrace time.Duration
	// TimeoutRetries is how many times an Idempotent request whose
	// per-request timeout fired is sent again within the same Do (default
	// DefaultTimeoutRetries; negative: never), so that one slow answer
	// costs a request, not a whole delivery attempt.
	TimeoutRetries int
	// ServerErrorRetries is how many times an Idempotent request answered
	// 500, 502, 503 or 504 (without Retry-After) is sent again within the
	// same Do, after ServerErrorPause, then twice that, … (default 0:
	// never). A read that a flaky remote fails one time in five then costs
	// a second, not a whole delivery attempt and its backoff.
	ServerErrorRetries int
	// ServerErrorPause is the first of those pauses (default
	// DefaultServerErrorPause).
	ServerErrorPause time.Duration
}

// Client sends requests to one remote. It is safe for concurrent use.
type Client struct {
	opts Options
	http *http.Client
}

// sharedHTTP serves clients without their own, so connections to a host
// are reused across configurations.
var sharedHTTP = &http.Client{Transport: &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	MaxIdleConnsPerHost:   32,
	IdleConnTimeout:       90 * time.Second,
	TLSHandshakeTimeout:   10 * time.Second,
	ResponseHeaderTimeout: 60 * time.Second,
	ForceAttemptHTTP2:     true,
}}

// New returns a client for opts.
func New(opts Options) *Client {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.Governor == nil {
		opts.Governor = DefaultGovernor
	}
	if opts.TimeoutGrace <= 0 {
		opts.TimeoutGrace = DefaultTimeoutGrace
	}
	if opts.TimeoutRetries == 0 {
		opts.TimeoutRetries = DefaultTimeoutRetries
	}
	if opts.ServerErrorPause <= 0 {
		opts.ServerErrorPause = DefaultServerErrorPause
	}
	base := opts.HTTP
	if base == nil {
		base = sharedHTTP
	}
	c := &Client{opts: opts}
	hc := *base
	hc.CheckRedirect = c.checkRedirect
	c.http = &hc
	return c
}

// Redactor returns the client's redactor, for texts it did not produce.
func (c *Client) Redactor() *Redactor { return c.opts.Redactor }

// Timeout returns the per-request timeout.
func (c *Client) Timeout() time.Duration { return c.opts.Timeout }

// Request is one call.
type Request struct {
	Method string
	URL    string
	// Op names the call in errors (default: method and URL path). It must
	// not hold a secret.
	Op     string
	Header http.Header
	// JSON, when not nil, is encoded as the body (Content-Type
	// application/json); otherwise Body is sent as it is, with
	// ContentType.
	JSON        any
	Body        []byte
	ContentType string
	// Out, when not nil, receives a 2xx answer decoded as JSON.
	Out any
	// Stream, when not nil, reads a 2xx answer instead (at most MaxBody
	// bytes, within the timeout); its error is returned unchanged.
	Stream func(io.Reader) error
	// Budgets are the remote allowances the request spends: a slot of
	// each is taken before it is sent and given back when it is done.
	Budgets []Budget
	// Idempotent marks a request that may be sent twice (a read, a query):
	// it is sent again after a per-request timeout (Options.TimeoutRetries).
	// A create is not: a timed-out create may have been carried out, so its
	// caller looks for it before creating again (engine.Job.Once).
	Idempotent bool
}

// Response is an answer as received, its body redacted when not 2xx.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends r. It returns the answer, and an *Error when none came or it
// did not classify OK; the answer is returned with the error when there
// was one. A cancelled ctx gives an *Error wrapping context.Cause(ctx).
// An Idempotent request that timed out is sent again, at most
// Options.TimeoutRetries times; one answered 5xx, at most
// Options.ServerErrorRetries times.
func (c *Client) Do(ctx context.Context, r Request) (*Response, error) {
	if r.Op == "" {
		r.Op = r.Method + " " + pathOf(r.URL)
	}
	if p, ok := PlannerFrom(ctx); ok && !reads(r) {
		return nil, c.plan(p, r)
	}
	timeouts, serverErrors := 0, 0
	for {
		resp, err := c.governed(ctx, r)
		if err == nil || !r.Idempotent || ctx.Err() != nil {
			return resp, err
		}
		switch {
		case TimedOut(err) && timeouts < c.opts.TimeoutRetries:
			timeouts++
		case serverError(err) && serverErrors < c.opts.ServerErrorRetries:
			serverErrors++
			if !Sleep(ctx, time.Duration(serverErrors)*c.opts.ServerErrorPause) {
				return resp, err
			}
		default:
			return resp, err
		}
	}
}

// serverError tells a 5xx that may pass on its own (500, 502, 503, 504
// classified Retry, without a Retry-After asking to wait longer) from every
// other failure.
func serverError(err error) bool {
	var e *Error
	if !errors.As(err, &e) || e.Verdict.Class != Retry || e.Header.Get("Retry-After") != "" {
		return false
	}
	switch e.Status {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// Sleep waits d unless ctx ends first (false); d <= 0 returns true at once.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// governed sends r once within its budgets; the slots of a request given
// up after it was sent (a timeout, the caller's context ending, the
// connection cut before the answer was read) are held for the grace
// period, since the remote goes on working on it; one never sent (the
// connection refused) gives its slots back at once.
func (c *Client) governed(ctx context.Context, r Request) (*Response, error) {
	if len(r.Budgets) == 0 {
		return c.send(ctx, r)
	}
	budgets := make([]Budget, len(r.Budgets))
	for i, b := range r.Budgets {
		b.RemoteHold = max(b.RemoteHold, c.opts.Timeout+c.opts.TimeoutGrace)
		budgets[i] = b
	}
	release, err := c.opts.Governor.Acquire(ctx, budgets...)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, c.fail(r, e)
		}
		return nil, c.fail(r, &Error{Verdict: Verdict{Class: Retry}, Err: fmt.Errorf("waiting for a free request slot: %w", err)})
	}
	resp, err := c.send(ctx, r)
	var hold time.Duration
	if Abandoned(err) {
		hold = c.opts.TimeoutGrace
	}
	release(hold)
	return resp, err
}

func (c *Client) send(ctx context.Context, r Request) (*Response, error) {
	body, ctype := r.Body, r.ContentType
	if r.JSON != nil {
		var err error
		if body, err = json.Marshal(r.JSON); err != nil {
			return nil, c.fail(r, &Error{Verdict: Verdict{Class: Permanent}, Err: fmt.Errorf("encode the request: %w", err)})
		}
		ctype = "application/json"
	}
	rctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	var sent atomic.Bool
	rctx = httptrace.WithClientTrace(rctx, &httptrace.ClientTrace{WroteHeaders: func() { sent.Store(true) }})
	req, err := http.NewRequestWithContext(rctx, r.Method, r.URL, rd)
	if err != nil {
		return nil, c.fail(r, &Error{Verdict: Verdict{Class: Permanent}, Err: unwrapURLError(err)})
	}
	for k, vs := range r.Header {
		req.Header[http.CanonicalHeaderKey(k)] = vs
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transport(ctx, rctx, r, err, sent.Load())
	}
	defer resp.Body.Close()
	out := &Response{Status: resp.StatusCode, Header: resp.Header}
	v := c.classify(resp.StatusCode, resp.Header, nil)
	if v.Class != OK || c.opts.Classify != nil || r.Stream == nil {
		limit := c.opts.MaxBody
		if v.Class != OK && c.opts.MaxErrorBody > 0 {
			limit = min(limit, c.opts.MaxErrorBody)
		}
		raw, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
		if err != nil {
			return nil, c.transport(ctx, rctx, r, err, sent.Load())
		}
		oversize := int64(len(raw)) > limit
		if oversize {
			raw = raw[:limit]
		}
		out.Body = raw
		v = c.classify(resp.StatusCode, resp.Header, raw)
		if v.Class != OK {
			out.Body = []byte(c.opts.Redactor.String(string(raw)))
			return out, c.fail(r, &Error{Status: out.Status, Header: out.Header, Body: out.Body, Verdict: v})
		}
		if oversize {
			return out, c.fail(r, &Error{Status: out.Status, Verdict: Verdict{Class: Permanent},
				Err: fmt.Errorf("the answer is larger than %d bytes", c.opts.MaxBody)})
		}
		if r.Stream != nil {
			return out, r.Stream(bytes.NewReader(raw))
		}
		if r.Out != nil && len(bytes.TrimSpace(raw)) > 0 {
			if err := json.Unmarshal(raw, r.Out); err != nil {
				return out, c.fail(r, &Error{Status: out.Status, Verdict: Verdict{Class: Retry}, Err: fmt.Errorf("unreadable answer: %w", err)})
			}
		}
		return out, nil
	}
	if err := r.Stream(io.LimitReader(resp.Body, c.opts.MaxBody)); err != nil {
		if rctx.Err() != nil {
			return out, c.transport(ctx, rctx, r, err, sent.Load())
		}
		return out, err
	}
	return out, nil
}

func (c *Client) classify(status int, header http.Header, body []byte) Verdict {
	if c.opts.Classify != nil && body != nil {
		if v, ok := c.opts.Classify(status, header, body); ok {
			return v
		}
	}
	return Classify(status, header, time.Now(), c.opts.RetryAfter)
}

// transport explains a failure to get (or finish reading) an answer: the
// caller's context ended, the per-request timeout fired, a redirect was
// refused, or the network failed.
func (c *Client) transport(ctx, rctx context.Context, r Request, err error, sent bool) error {
	e := &Error{Verdict: Verdict{Class: Retry}, Err: unwrapURLError(err), abandoned: sent}
	var ne net.Error
	switch {
	case ctx.Err() != nil:
		e.Err = context.Cause(ctx)
	case rctx.Err() != nil:
		e.Timeout, e.Err = c.opts.Timeout, context.DeadlineExceeded
	case errors.Is(err, ErrRedirect):
		e.Verdict.Class, e.abandoned = Permanent, false // answered
	case errors.As(err, &ne) && ne.Timeout():
		e.Err = fmt.Errorf("no answer in time: %w", e.Err)
	}
	return c.fail(r, e)
}

func (c *Client) fail(r Request, e *Error) *Error {
	e.Name, e.Op, e.redact = c.opts.Name, r.Op, c.opts.Redactor
	return e
}

func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if c.opts.NoRedirects {
		return http.ErrUseLastResponse
	}
	if c.carriesCredentials(via[0].Header) {
		return fmt.Errorf("%w (the remote redirected to %s)", ErrRedirect, req.URL.Host)
	}
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	return nil
}

func (c *Client) carriesCredentials(h http.Header) bool {
	if h.Get("Authorization") != "" || h.Get("Cookie") != "" {
		return true
	}
	for _, name := range c.opts.CredentialHeaders {
		if h.Get(name) != "" {
			return true
		}
	}
	return false
}

// unwrapURLError drops net/http's `Post "https://…":` prefix, which
// repeats the URL (and so any secret its query carries).
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func pathOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Path != "" {
		return u.Path
	}
	return "/"
}
