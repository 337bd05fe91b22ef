package pmcloud

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"switchboard/engine/outbound"
)

// Token paths: the documented one, and the one the official ECS-events
// PowerShell sample posts to.
const (
	tokenPath    = "/oauth/connect/token"
	altTokenPath = "/oauth/token"
	eventsPath   = "/management-api/v3/Events/FromStartDate"
)

// MaxRecordSize is the largest page Events/FromStartDate returns.
const MaxRecordSize = 1000

// noRetryAfter is the pause after a 429 that names no wait: the reference
// documents no Retry-After, and the PM Cloud Splunk add-on sleeps ≥100 s.
const noRetryAfter = 100 * time.Second

// Client reads one tenant's Management API with one API account.
type Client struct {
	base   string
	id     string
	secret string
	http   *outbound.Client
	budget *Budget
	now    func() time.Time
	// maxBody is the largest answer read; one byte more is fetched to
	// tell a page over it.
	maxBody int64

	mu        sync.Mutex
	token     string
	expires   time.Time
	tokenPath string
}

// ClientOptions are optional parts of a Client.
type ClientOptions struct {
	HTTP    *http.Client // transport (tests: the simulator's TLS client)
	Budget  *Budget      // shared request budget (default: one of its own)
	Timeout time.Duration
	Now     func() time.Time
	// MaxBody caps the bytes read of one answer (default 16 MiB); a page
	// over it is asked again smaller.
	MaxBody int64
}

// NewClient returns a client for the services URL
// (https://<tenant>-services.pm.beyondtrustcloud.com).
func NewClient(servicesURL, clientID, clientSecret string, o ClientOptions) (*Client, error) {
	base, err := ServicesBase(servicesURL)
	if err != nil {
		return nil, err
	}
	if o.Budget == nil {
		o.Budget = NewBudget(DefaultBudget, DefaultBudgetWindow)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxBody <= 0 {
		o.MaxBody = outbound.DefaultMaxBody
	}
	return &Client{
		base: base, id: clientID, secret: clientSecret, budget: o.Budget, now: o.Now, maxBody: o.MaxBody,
		http: outbound.New(outbound.Options{
			Name: "pmcloud", HTTP: o.HTTP, Timeout: o.Timeout, NoRedirects: true, RetryAfter: noRetryAfter, MaxBody: o.MaxBody + 1,
			Redactor: outbound.NewRedactor(clientSecret).WithBasic(clientID, clientSecret),
		}),
	}, nil
}

// ServicesBase checks a services URL and returns it without a trailing
// slash or the /management-api suffix an admin may paste with it.
func ServicesBase(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("pmcloud: the services URL must look like https://<tenant>-services.pm.beyondtrustcloud.com")
	}
	if u.Scheme != "https" {
		return "", fmt.Errorf("pmcloud: the services URL must use https, not %q", u.Scheme)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("pmcloud: the services URL must hold no credentials, query or fragment")
	}
	p := strings.TrimRight(u.Path, "/")
	p = strings.TrimSuffix(strings.TrimSuffix(p, "/v3"), "/management-api")
	return u.Scheme + "://" + u.Host + p, nil
}

// Budget returns the request budget the client spends.
func (c *Client) Budget() *Budget { return c.budget }

// Token returns a bearer token, fetching one when none is held or it
// expires within five minutes. The documented path is tried first; a 404
// there moves to the alternate path, which is then kept.
func (c *Client) Token(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && c.now().Before(c.expires.Add(-5*time.Minute)) {
		return c.token, nil
	}
	paths := []string{tokenPath, altTokenPath}
	if c.tokenPath == altTokenPath {
		paths = []string{altTokenPath, tokenPath}
	}
	var err error
	for _, p := range paths {
		var tok tokenAnswer
		if tok, err = c.fetchToken(ctx, p); err == nil {
			c.tokenPath = p
			c.token = tok.AccessToken
			c.expires = c.now().Add(time.Duration(tok.ExpiresIn) * time.Second)
			return c.token, nil
		}
		if outbound.StatusOf(err) != http.StatusNotFound {
			break
		}
	}
	return "", err
}

type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

func (c *Client) fetchToken(ctx context.Context, path string) (tokenAnswer, error) {
	var tok tokenAnswer
	if err := c.budget.Take(ctx); err != nil {
		return tok, err
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.id}, "client_secret": {c.secret}, "scope": {"urn:management:api"}}
	_, err := c.http.Do(ctx, outbound.Request{
		Method: http.MethodPost, URL: c.base + path, Op: "POST " + path,
		Body: []byte(form.Encode()), ContentType: "application/x-www-form-urlencoded", Out: &tok,
	})
	if err != nil {
		c.noteLimit(err)
		return tok, err
	}
	if tok.AccessToken == "" {
		return tok, fmt.Errorf("pmcloud: POST %s: the answer holds no access_token", path)
	}
	if tok.ExpiresIn <= 0 {
		tok.ExpiresIn = 3600 // the documented lifetime
	}
	// A lifetime past a day is not believed (nor may it overflow a
	// Duration); a token that dies earlier is replaced on its 401.
	tok.ExpiresIn = min(tok.ExpiresIn, 86400)
	return tok, nil
}

// dropToken forgets a token the API refused (the secret was regenerated).
func (c *Client) dropToken(tok string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == tok {
		c.token = ""
	}
}

// noteLimit pauses the budget after a 429, for as long as Retry-After says
// or noRetryAfter.
func (c *Client) noteLimit(err error) {
	var oe *outbound.Error
	if errors.As(err, &oe) && oe.Status == http.StatusTooManyRequests {
		c.budget.Pause(c.now().Add(oe.Verdict.Wait))
	}
}

// Record is one event document as read, with what the poller needs of it.
type Record struct {
	// ID is event.id, or "sha256:<hex>" of the document when it has none.
	ID string
	// Ingested is event.ingested; zero when absent or unreadable.
	Ingested time.Time
	// At is @timestamp (zero when absent).
	At  time.Time
	Doc json.RawMessage
}

// ErrShape is wrapped by every error about an answer that is not in the
// documented shape.
var ErrShape = errors.New("the answer is not in the documented shape")

// Events reads up to size events ingested at or after start.
func (c *Client) Events(ctx context.Context, start time.Time, size int) ([]Record, error) {
	size = min(max(size, 1), MaxRecordSize)
	q := url.Values{"StartDate": {FormatStart(start)}, "RecordSize": {fmt.Sprint(size)}}
	body, tok, err := c.get(ctx, eventsPath, "GET Events/FromStartDate", q)
	if err != nil {
		return nil, err
	}
	recs, err := ParseEvents(body)
	if err != nil {
		// The error quotes the answer, which may echo the token.
		return nil, tokenHidden{err: err, mask: outbound.NewRedactor(tok)}
	}
	return recs, nil
}

// ErrPageTooLarge is wrapped by the error of an answer larger than the
// client's body cap: the poller asks again for a smaller page.
var ErrPageTooLarge = errors.New("the answer is larger than the body cap")

// get makes one authenticated GET and returns the answer's body. A 401
// (the token died early: the secret was regenerated) gets a new token once.
// The body is read raw: Events declares text/plain, and each answer is
// parsed here whatever its content type says. The token used comes back
// too, for masking in the errors of the parse.
func (c *Client) get(ctx context.Context, path, op string, q url.Values) ([]byte, string, error) {
	for attempt := 0; ; attempt++ {
		tok, err := c.Token(ctx)
		if err != nil {
			return nil, "", err
		}
		if err := c.budget.Take(ctx); err != nil {
			return nil, "", err
		}
		var body []byte
		_, err = c.http.Do(ctx, outbound.Request{
			Method: http.MethodGet, URL: c.base + path + "?" + q.Encode(), Op: op,
			Header: http.Header{"Authorization": {"Bearer " + tok}, "Accept": {"application/json, text/plain"}},
			Stream: func(r io.Reader) error {
				var rerr error
				body, rerr = io.ReadAll(r)
				return rerr
			},
		})
		if outbound.StatusOf(err) == http.StatusUnauthorized && attempt == 0 {
			c.dropToken(tok) // one more try with a new token
			continue
		}
		if err != nil {
			c.noteLimit(err)
			return nil, "", tokenHidden{err: err, mask: outbound.NewRedactor(tok)}
		}
		if int64(len(body)) > c.maxBody {
			return nil, "", fmt.Errorf("pmcloud: %s: %w (%d bytes)", op, ErrPageTooLarge, c.maxBody)
		}
		return body, tok, nil
	}
}

// tokenHidden is a read's error with the bearer token masked in its text
// (an answer may echo the Authorization header); it unwraps to the error
// as received, status and wait included.
type tokenHidden struct {
	err  error
	mask *outbound.Redactor
}

func (e tokenHidden) Error() string { return e.mask.String(e.err.Error()) }
func (e tokenHidden) Unwrap() error { return e.err }

// FormatStart writes a StartDate with millisecond precision: the endpoint
// refused more than three fractional digits until EPM 26.2.1734.
func FormatStart(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// ParseEvents reads a FromStartDate answer: {"totalRecordsReturned": n,
// "events": [ … ]}. Each event must be a JSON object; its document is kept
// byte for byte (some carry both "Owner" and "owner").
func ParseEvents(body []byte) ([]Record, error) {
	var env struct {
		Events *[]json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("pmcloud: Events/FromStartDate: %w: %v (answer starts %q)", ErrShape, err, head(body))
	}
	if env.Events == nil {
		return nil, fmt.Errorf("pmcloud: Events/FromStartDate: %w: no \"events\" array (answer starts %q)", ErrShape, head(body))
	}
	out := make([]Record, 0, len(*env.Events))
	for i, doc := range *env.Events {
		rec, err := parseRecord(doc)
		if err != nil {
			return nil, fmt.Errorf("pmcloud: Events/FromStartDate: event %d: %w: %v", i, ErrShape, err)
		}
		out = append(out, rec)
	}
	return out, nil
}

func parseRecord(doc json.RawMessage) (Record, error) {
	var d struct {
		Timestamp string `json:"@timestamp"`
		Event     *struct {
			ID       json.RawMessage `json:"id"`
			Ingested string          `json:"ingested"`
		} `json:"event"`
	}
	trimmed := bytes.TrimSpace(doc)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return Record{}, fmt.Errorf("not a JSON object (starts %q)", head(trimmed))
	}
	// A field of an unexpected type (event.ingested a number, say) leaves
	// that field unread; the document is still stored.
	_ = json.Unmarshal(trimmed, &d)
	rec := Record{Doc: append(json.RawMessage(nil), trimmed...)}
	rec.At, _ = time.Parse(time.RFC3339Nano, d.Timestamp)
	if d.Event != nil {
		rec.Ingested, _ = time.Parse(time.RFC3339Nano, d.Event.Ingested)
		// A number or a string keys the event; true, false or a blank
		// string would key every event carrying it alike, so those are
		// hashed. An object or array is kept as written, as before.
		raw := strings.TrimSpace(string(d.Event.ID))
		if rec.ID = scalarID(d.Event.ID); rec.ID == "" && raw != "" && (raw[0] == '{' || raw[0] == '[') {
			rec.ID = raw
		}
	}
	if rec.ID == "" {
		var err error
		if rec.ID, err = docKey(trimmed); err != nil {
			return Record{}, err
		}
	}
	return rec, nil
}

// docKey is the key of a document without an id: "sha256:<hex>" of its
// compacted JSON.
func docKey(doc []byte) (string, error) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, doc); err != nil {
		return "", err
	}
	sum := sha256.Sum256(compact.Bytes())
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

func head(b []byte) string {
	if len(b) > 60 {
		b = b[:60]
	}
	return string(b)
}
