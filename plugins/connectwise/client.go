package connectwise

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"switchboard/engine"
	"switchboard/engine/connector"
	"switchboard/engine/outbound"
)

// ErrNotFound is returned by Get for an id ConnectWise does not know.
var ErrNotFound = errors.New("connectwise: not found")

// maxPages bounds a list walk: a ticket's notes or time entries fit in a
// few pages of 1000; more means a runaway Link chain.
const maxPages = 50

// Options configure a Client.
type Options struct {
	// Site is the settings' site: an API host, a login host, or a URL
	// that may already hold the codebase and /apis/3.0.
	Site       string
	Company    string
	PublicKey  string
	PrivateKey string
	ClientID   string
	// APIVersion pins the response model (Accept version=…); empty takes
	// the server's default.
	APIVersion string
	// MaxInFlight caps this account's requests in flight (default 4).
	MaxInFlight int
	// HTTPClient overrides the shared HTTP client (tests, the kit).
	HTTPClient *http.Client
	// Timeout bounds one request (default 30s).
	Timeout time.Duration
}

// Client talks to one ConnectWise PSA company as one API member. It is
// safe for concurrent use and caches the codebase it discovered.
type Client struct {
	opts    Options
	out     *outbound.Client
	base    string // scheme://host of the site
	fixed   string // API root given in the site, "" to discover
	auth    string
	account string // budget key: a digest of site, company and public key
	group   singleflight.Group

	mu         sync.Mutex
	root       string
	noContains map[string]bool
}

// NewClient returns a client; the site must be valid.
func NewClient(opts Options) (*Client, error) {
	base, fixed, err := parseSite(opts.Site)
	if err != nil {
		return nil, fmt.Errorf("connectwise: Site %w", err)
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = DefaultMaxInFlight
	}
	user := opts.Company + "+" + opts.PublicKey
	c := &Client{
		opts: opts, base: base, fixed: fixed,
		auth:       "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+opts.PrivateKey)),
		account:    "connectwise|" + connector.Fingerprint(base, strings.ToLower(opts.Company), opts.PublicKey)[:16],
		noContains: map[string]bool{},
	}
	c.out = outbound.New(outbound.Options{
		Name: "connectwise", HTTP: opts.HTTPClient, Timeout: opts.Timeout,
		Redactor:          outbound.NewRedactor(opts.PrivateKey).WithBasic(user, opts.PrivateKey),
		CredentialHeaders: []string{"clientId"},
		// GETs answered 5xx are asked again twice (1 s, 2 s) before the
		// attempt fails, as Autotask's reads are.
		ServerErrorRetries: 2,
	})
	return c, nil
}

// Root returns the API root (…/<codebase>/apis/3.0): the one the site
// names, or the one companyinfo gives for the company.
func (c *Client) Root(ctx context.Context) (string, error) {
	if c.fixed != "" {
		return c.fixed, nil
	}
	c.mu.Lock()
	root := c.root
	c.mu.Unlock()
	if root != "" {
		return root, nil
	}
	v, err, _ := c.group.Do("root", func() (any, error) { return c.discover(ctx) })
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// discover asks companyinfo for the company's codebase (reference §1); it
// takes no credentials, so none are sent.
func (c *Client) discover(ctx context.Context) (string, error) {
	var info *struct {
		Codebase string `json:"Codebase"`
	}
	u := c.base + "/login/companyinfo/" + url.PathEscape(c.opts.Company)
	if _, err := c.out.Do(ctx, outbound.Request{Method: http.MethodGet, URL: u, Op: "GET companyinfo", Out: &info}); err != nil {
		return "", err
	}
	if info == nil {
		return "", engine.Permanent(fmt.Errorf("connectwise: the site knows no company %q; check Company ID (the company you sign in with)", c.opts.Company))
	}
	codebase := strings.Trim(info.Codebase, "/")
	if codebase == "" || strings.ContainsAny(codebase, "?#\\") || strings.Contains(codebase, "..") {
		return "", fmt.Errorf("connectwise: companyinfo returned an unusable codebase %q", info.Codebase)
	}
	root := c.base + "/" + codebase + "/apis/3.0"
	c.mu.Lock()
	c.root = root
	c.mu.Unlock()
	return root, nil
}

// forgetRoot drops a discovered root after a 404, which can mean the
// codebase moved (reference §1), and reports whether there was one.
func (c *Client) forgetRoot(root string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fixed != "" || c.root != root {
		return false
	}
	c.root = ""
	return true
}

// call is one request below the API root.
type call struct {
	method string
	path   string // e.g. service/tickets/42/notes
	query  url.Values
	body   any
	op     string // names the call in errors
	// next, when set, is a Link URL to follow instead of path and query.
	next   string
	header http.Header
}

// do sends c and decodes a 2xx answer into out. A 404 on a discovered
// codebase makes it ask companyinfo again and retry once, as
// django-connectwise does (reference §1).
func (c *Client) do(ctx context.Context, r call, out any) (*outbound.Response, error) {
	var payload []byte
	if r.body != nil {
		var err error
		// Every text sent is cleaned of control characters in one place.
		if payload, err = engine.MarshalClean(r.body); err != nil {
			return nil, fmt.Errorf("connectwise: encode %s: %w", r.op, err)
		}
	}
	for attempt := 0; ; attempt++ {
		root, err := c.Root(ctx)
		if err != nil {
			return nil, err
		}
		u := r.next
		if u == "" {
			u = root + "/" + r.path
			if len(r.query) > 0 {
				u += "?" + r.query.Encode()
			}
		}
		h := http.Header{"Authorization": {c.auth}, "clientId": {c.opts.ClientID}, "Accept": {c.accept()}}
		for k, v := range r.header {
			h[k] = v
		}
		req := outbound.Request{Method: r.method, URL: u, Op: r.op, Header: h, Out: out,
			// One budget per API member, shared by every configuration
			// and Test run with the same keys; reads are sent again after
			// a timeout, a create is looked for first (engine.Job.Once).
			Budgets:    []outbound.Budget{{Key: c.account, Limit: c.opts.MaxInFlight}},
			Idempotent: r.method == http.MethodGet,
		}
		if payload != nil {
			req.Body, req.ContentType = payload, "application/json"
		}
		resp, err := c.out.Do(ctx, req)
		if attempt == 0 && r.next == "" && outbound.StatusOf(err) == http.StatusNotFound && c.forgetRoot(root) {
			if fresh, ferr := c.Root(ctx); ferr == nil && fresh != root {
				continue
			}
		}
		return resp, err
	}
}

func (c *Client) accept() string {
	if c.opts.APIVersion == "" {
		return "application/vnd.connectwise.com+json"
	}
	return "application/vnd.connectwise.com+json; version=" + c.opts.APIVersion
}

// Get reads one record; ErrNotFound when the id is unknown.
func (c *Client) Get(ctx context.Context, path string, out any) error {
	_, err := c.do(ctx, call{method: http.MethodGet, path: path, op: "GET " + path}, out)
	if outbound.StatusOf(err) == http.StatusNotFound {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

// Create posts a record and returns its id.
func (c *Client) Create(ctx context.Context, path string, body any) (int64, error) {
	var created struct {
		ID int64 `json:"id"`
	}
	if _, err := c.do(ctx, call{method: http.MethodPost, path: path, body: body, op: "POST " + path}, &created); err != nil {
		return 0, err
	}
	if created.ID <= 0 {
		return 0, fmt.Errorf("connectwise: POST %s: the answer has no id", path)
	}
	return created.ID, nil
}

// Find lists the records of path matching conditions, at most limit
// (0: every page, following the Link header).
func Find[T any](ctx context.Context, c *Client, path string, q url.Values, limit int) ([]T, error) {
	q = cloneValues(q)
	size := 1000
	if limit > 0 && limit < size {
		size = limit
	}
	q.Set("pageSize", strconv.Itoa(size))
	var out []T
	r := call{method: http.MethodGet, path: path, query: q, op: "GET " + path,
		header: http.Header{"pagination-type": {"forward-only"}}}
	for page := 1; page <= maxPages; page++ {
		var rows []T
		resp, err := c.do(ctx, r, &rows)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
		if limit > 0 && len(out) >= limit {
			return out[:limit], nil
		}
		next, err := c.nextLink(resp.Header.Get("Link"), r)
		if err != nil {
			return nil, err
		}
		switch {
		case next != "":
			r.next = next
		case resp.Header.Get("Link") == "" && len(rows) == size:
			// No Link header: the endpoint pages without links (or not
			// forward-only), so ask for the next page by number.
			q.Set("page", strconv.Itoa(page+1))
			r.next, r.header = "", nil
		default:
			return out, nil
		}
	}
	return nil, fmt.Errorf("connectwise: GET %s: more than %d pages", path, maxPages)
}

// nextLink returns the rel="next" URL of a Link header; a link to another
// origin is refused, since the credentials would follow it.
func (c *Client) nextLink(header string, r call) (string, error) {
	for _, part := range strings.Split(header, ",") {
		target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
		if !ok || !strings.Contains(strings.ReplaceAll(params, " ", ""), `rel="next"`) {
			continue
		}
		next := strings.Trim(strings.TrimSpace(target), "<>")
		u, err := url.Parse(next)
		if err != nil || !strings.EqualFold(u.Scheme+"://"+u.Host, c.base) {
			return "", engine.Permanent(fmt.Errorf("connectwise: %s: the next page link points away from the site", r.op))
		}
		return next, nil
	}
	return "", nil
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// quote writes a string for a conditions expression. The reference knows
// no escape for a quote inside a value (§3), so a value holding one cannot
// be searched exactly: ok is false.
func quote(s string) (string, bool) {
	if strings.ContainsAny(s, `"`) {
		return "", false
	}
	return `"` + s + `"`, true
}

// Problem is ConnectWise's error body (reference §6).
type Problem struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Errors  []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"errors"`
}

// problemOf reads the error body of err's answer, if it has one.
func problemOf(err error) (Problem, bool) {
	var e *outbound.Error
	var p Problem
	if !errors.As(err, &e) || len(e.Body) == 0 || json.Unmarshal(e.Body, &p) != nil || (p.Code == "" && p.Message == "") {
		return Problem{}, false
	}
	return p, true
}

// DefaultMaxInFlight is how many requests one ConnectWise account has in
// flight at once unless the settings say otherwise. ConnectWise publishes
// no limit (reference §6); its edge throttles with 429.
const DefaultMaxInFlight = 4
