package outbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// ErrNotSent is the cause of the error a dry run's write request returns:
// the request was given to the Planner and never sent.
var ErrNotSent = errors.New("not sent: a dry run plans its writes without making them")

// Planner receives the writes of a dry run (engine.Plan is one).
type Planner interface {
	PlanWrite(w PlannedRequest)
}

// PlannedRequest is a write a dry run would have sent: everything but
// its headers, which carry credentials.
type PlannedRequest struct {
	// System is the client's Options.Name ("autotask").
	System string
	Method string
	// Path is the URL's path and query, without scheme and host.
	Path string
	Op   string
	// Body is what would have been sent, redacted like an error text.
	Body        []byte
	ContentType string
}

type plannerKey struct{}

// WithPlanner marks ctx as a dry run's: every Client.Do under it sends
// its reads (GET, HEAD and Idempotent requests) as usual and hands each other request
// to p instead of sending it, returning an error wrapping ErrNotSent.
// The guard is in Do itself, so no write of a connector built on this
// client can reach its remote during a dry run, whatever path it takes.
func WithPlanner(ctx context.Context, p Planner) context.Context {
	return context.WithValue(ctx, plannerKey{}, p)
}

// PlannerFrom returns the dry run's planner, if ctx is one's.
func PlannerFrom(ctx context.Context) (Planner, bool) {
	p, ok := ctx.Value(plannerKey{}).(Planner)
	return p, ok && p != nil
}

// reads reports whether r only reads: a GET or HEAD, or a request its
// connector marked Idempotent (a POSTed query).
func reads(r Request) bool {
	return r.Idempotent || r.Method == http.MethodGet || r.Method == http.MethodHead
}

// plan hands a write to the dry run's planner instead of sending it.
func (c *Client) plan(p Planner, r Request) error {
	body := r.Body
	if r.JSON != nil {
		b, err := json.Marshal(r.JSON)
		if err != nil {
			return c.fail(r, &Error{Verdict: Verdict{Class: Permanent}, Err: fmt.Errorf("encode the request: %w", err)})
		}
		body = b
	}
	path := r.URL
	if u, err := url.Parse(r.URL); err == nil {
		path = u.RequestURI()
	}
	if c.opts.Redactor != nil {
		body = []byte(c.opts.Redactor.String(string(body)))
		path = c.opts.Redactor.String(path)
	}
	p.PlanWrite(PlannedRequest{System: c.opts.Name, Method: r.Method, Path: path, Op: r.Op, Body: body, ContentType: r.ContentType})
	// Permanent: a plugin that does not expect a dry run fails it at once.
	return c.fail(r, &Error{Verdict: Verdict{Class: Permanent}, Err: ErrNotSent})
}
