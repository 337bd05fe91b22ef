package autotask

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	"switchboard/engine/outbound"
)

// ZoneInformationURL is where the zone of an API user is looked up. Any
// zone answers; this is the one Autotask documents.
const ZoneInformationURL = "https://webservices.autotask.net/atservicesrest/v1.0/zoneInformation"

const (
	apiVersion   = "V1.0"
	zoneTTL      = 24 * time.Hour
	fieldsTTL    = 15 * time.Minute
	maxBodyBytes = 16 << 20
)

// ErrNotFound is returned by Get for an id Autotask does not know.
var ErrNotFound = errors.New("autotask: not found")

// Options configure a Client.
type Options struct {
	// ServicesURL is the zone's REST root; empty means discover it.
	ServicesURL string
	// ZoneInformationURL overrides the zone discovery endpoint (tests, the
	// demo's simulator).
	ZoneInformationURL string
	Username           string
	Secret             string
	IntegrationCode    string
	// ImpersonationResourceID, when not 0, is sent with every create.
	ImpersonationResourceID int64
	// HTTPClient defaults to the outbound kit's shared client.
	HTTPClient *http.Client
	// Governor holds the thread and hourly budgets (default the process's
	// outbound.DefaultGovernor, shared by every configuration).
	Governor *outbound.Governor
	// HourlyRequests caps the requests per hour per database (default
	// HourlyLimit).
	HourlyRequests int
	// Timeout bounds one request (default 30s).
	Timeout time.Duration
	// TimeoutGrace is how long a timed-out request's thread stays counted
	// (default outbound.DefaultTimeoutGrace): Autotask keeps working on a
	// request its client gave up on.
	TimeoutGrace time.Duration
}

// Client talks to one Autotask tenant as one API user. It is safe for
// concurrent use; it caches the zone and the entities' field metadata.
type Client struct {
	opts   Options
	out    *outbound.Client
	limits string // the thread budgets' integration-code part (a hash)
	group  singleflight.Group

	mu     sync.Mutex
	zone   string
	zoneAt time.Time
	web    string // the zone's web UI address, from the lookup
	// db names the hourly budget: the database's id (ci) once a zone
	// lookup gave one, else the username, which belongs to one database.
	db     string
	fields map[string]fieldsEntry
	refs   map[string]refEntry // ids found by name (RefID)
	// noContains holds the entities whose contains filter the tenant
	// refused (see findMarked).
	noContains map[string]bool
}

type fieldsEntry struct {
	at     time.Time
	fields []FieldInfo
}

// NewClient returns a client; ServicesURL, when set, must be valid.
func NewClient(opts Options) (*Client, error) {
	if opts.ServicesURL != "" {
		root, err := normalizeServicesURL(opts.ServicesURL)
		if err != nil {
			return nil, fmt.Errorf("autotask: Services URL %s", err)
		}
		opts.ServicesURL = root
	}
	if opts.ZoneInformationURL == "" {
		opts.ZoneInformationURL = ZoneInformationURL
	}
	if opts.HourlyRequests <= 0 {
		opts.HourlyRequests = HourlyLimit
	}
	sum := sha256.Sum256([]byte(opts.IntegrationCode))
	c := &Client{opts: opts, limits: hex.EncodeToString(sum[:8]), db: budgetName("user", opts.Username),
		fields: map[string]fieldsEntry{}, refs: map[string]refEntry{}, noContains: map[string]bool{}}
	// The credentials travel in custom headers, which net/http would
	// re-send to wherever a redirect points: the kit refuses to follow.
	c.out = outbound.New(outbound.Options{
		Name: "autotask", HTTP: opts.HTTPClient, Timeout: opts.Timeout, MaxBody: maxBodyBytes,
		Redactor:          outbound.NewRedactor(opts.Secret, opts.IntegrationCode),
		CredentialHeaders: []string{"Secret", "ApiIntegrationCode"},
		RetryAfter:        defaultRetryAfter,
		TimeoutGrace:      opts.TimeoutGrace,
		Governor:          opts.Governor,
		// Reads and queries answered 5xx are asked again twice (1 s, 2 s)
		// before the attempt fails: a delivery makes five to ten of them.
		ServerErrorRetries: 2,
	})
	return c, nil
}

// Zone returns the REST root: the configured Services URL, or the zone
// found for the username (cached for a day).
func (c *Client) Zone(ctx context.Context) (string, error) {
	if c.opts.ServicesURL != "" {
		return c.opts.ServicesURL, nil
	}
	c.mu.Lock()
	zone, at := c.zone, c.zoneAt
	c.mu.Unlock()
	if zone != "" && time.Since(at) < zoneTTL {
		return zone, nil
	}
	v, err, _ := c.group.Do("zone", func() (any, error) { return c.discover(ctx) })
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// forgetZone drops a cached zone that stopped working (a 401 can mean the
// tenant moved), and reports whether there was one to forget.
func (c *Client) forgetZone(zone string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.opts.ServicesURL != "" || c.zone != zone {
		return false
	}
	c.zone = ""
	return true
}

// budgetName hashes what names a budget: budget keys are metric labels.
func budgetName(kind, id string) string {
	sum := sha256.Sum256([]byte(kind + "|" + id))
	return kind + "-" + hex.EncodeToString(sum[:8])
}

// ZoneInfo is zoneInformation's answer.
type ZoneInfo struct {
	ZoneName string `json:"zoneName"`
	URL      string `json:"url"`
	WebURL   string `json:"webUrl"`
	CI       int64  `json:"ci"`
}

// discover asks zoneInformation. It is not thread-limited and takes no
// credentials, so none are sent.
func (c *Client) discover(ctx context.Context) (string, error) {
	u, err := url.Parse(c.opts.ZoneInformationURL)
	if err != nil {
		return "", fmt.Errorf("autotask: zone lookup URL: %w", err)
	}
	q := u.Query()
	q.Set("user", c.opts.Username)
	u.RawQuery = q.Encode()
	var zi ZoneInfo
	_, err = c.out.Do(ctx, outbound.Request{Method: http.MethodGet, URL: u.String(), Op: "zone lookup at " + u.Host, Out: &zi, Idempotent: true})
	if err != nil {
		return "", apiError(err, http.MethodGet, "/zoneInformation", []string{"user"})
	}
	root, err := normalizeServicesURL(zi.URL)
	if err != nil {
		return "", fmt.Errorf("autotask: zone lookup returned an unusable URL %q", zi.URL)
	}
	c.mu.Lock()
	c.zone, c.zoneAt, c.web = root, time.Now(), webURL(zi.WebURL)
	if zi.CI != 0 {
		c.db = budgetName("ci", strconv.FormatInt(zi.CI, 10))
	}
	c.mu.Unlock()
	return root, nil
}

// WebURL is the zone's web UI address as the zone lookup gave it
// ("https://ww15.autotask.net/"); empty before a lookup, with a configured
// Services URL, or when the lookup gave none usable.
func (c *Client) WebURL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.web
}

// webURL keeps an http(s) address with a host, the only kind a link may
// point to.
func webURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return ""
	}
	return u.String()
}

// request is one call below the REST root.
type request struct {
	method string
	path   string // e.g. "Tickets/query", without the version
	body   any
	write  bool   // a create or update: carries the impersonation header
	next   string // a query's nextPageUrl, called instead of path
}

// do sends r and decodes a 200 answer into out. A 401 on a discovered zone
// makes it look the zone up again and try once more, since Autotask answers
// a moved tenant's calls with 401.
func (c *Client) do(ctx context.Context, r request, out any) error {
	var payload []byte
	if r.body != nil {
		var err error
		// Every text sent is cleaned of control characters in one place.
		if payload, err = engine.MarshalClean(r.body); err != nil {
			return fmt.Errorf("autotask: encode %s %s: %w", r.method, r.path, err)
		}
	}
	for attempt := 0; ; attempt++ {
		zone, err := c.Zone(ctx)
		if err != nil {
			return err
		}
		err = c.send(ctx, zone, r, payload, out)
		var ae *APIError
		if attempt == 0 && errors.As(err, &ae) && ae.Status == http.StatusUnauthorized && c.forgetZone(zone) {
			if fresh, zerr := c.Zone(ctx); zerr == nil && fresh != zone {
				continue
			}
		}
		return err
	}
}

func (c *Client) send(ctx context.Context, zone string, r request, payload []byte, out any) error {
	full := zone + "/" + apiVersion + "/" + r.path
	if r.next != "" {
		full = r.next // checked by Query to be on the zone's origin
	}
	// The URL is built from the zone, so the credentials go to the zone.
	h := http.Header{"ApiIntegrationCode": {c.opts.IntegrationCode}, "UserName": {c.opts.Username}, "Secret": {c.opts.Secret}}
	if r.write && c.opts.ImpersonationResourceID != 0 {
		h.Set("ImpersonationResourceId", strconv.FormatInt(c.opts.ImpersonationResourceID, 10))
	}
	path := "/" + apiVersion + "/" + r.path
	c.mu.Lock()
	db := c.db
	c.mu.Unlock()
	req := outbound.Request{
		Method: r.method, URL: full, Op: r.method + " " + path, Header: h, Out: out,
		Budgets: []outbound.Budget{
			// Autotask counts threads per integration code and endpoint,
			{Key: "autotask|" + c.limits + "|" + endpointOf(r.path), Limit: ThreadLimit},
			// and requests per hour per database.
			{Key: "autotask-hour|" + db, PerWindow: c.opts.HourlyRequests, Window: time.Hour},
		},
		// Reads and queries are sent again after a timeout; a create is
		// looked for first (engine.Job.Once).
		Idempotent: !r.write,
	}
	if payload != nil {
		req.Body, req.ContentType = payload, "application/json"
	}
	_, err := c.out.Do(ctx, req)
	return apiError(err, r.method, path, sentWords(r.body))
}

// apiError reads Autotask's meaning into an answer the kit did not call
// OK; a failure without an answer (network, timeout, a refused redirect)
// stays the kit's *outbound.Error, which names what failed.
func apiError(err error, method, path string, sent []string) error {
	var e *outbound.Error
	if err == nil || !errors.As(err, &e) || e.Status == 0 || e.Verdict.Class == outbound.OK {
		return err
	}
	return newAPIError(method, path, e.Status, e.Header, e.Body, sent)
}

// Filter is one condition of a query: a field operator (eq, noteq, gt, gte,
// lt, lte, beginsWith, endsWith, contains, exist, notExist, in, notIn) or a
// group (and, or) with Items.
type Filter struct {
	Op    string   `json:"op"`
	Field string   `json:"field,omitempty"`
	Value any      `json:"value,omitempty"`
	UDF   bool     `json:"udf,omitempty"`
	Items []Filter `json:"items,omitempty"`
}

// Eq is the common "field equals value" condition.
func Eq(field string, value any) Filter { return Filter{Op: "eq", Field: field, Value: value} }

// Query is the body of an entity query.
type Query struct {
	Filter        []Filter `json:"filter"`
	IncludeFields []string `json:"IncludeFields,omitempty"`
	MaxRecords    int      `json:"MaxRecords,omitempty"`
}

// Paging bounds. Autotask pages at most 500 records (MaxRecords 1–500,
// autotask-api.md §4); a query Switchboard pages through (a ticket's notes
// or time entries) stops with an error rather than read without end.
const (
	pageSize      = 500
	maxQueryPages = 20
)

// Query runs a query on an entity and decodes up to q.MaxRecords items (0:
// every match, at most maxQueryPages pages) into out, a pointer to a slice.
// It follows pageDetails.nextPageUrl, POSTing it again with the same body as
// Autotask requires of a POSTed query (autotask-api.md §4), and only to the
// zone's own origin, since the request carries the credentials.
func (c *Client) Query(ctx context.Context, entity string, q Query, out any) error {
	want := q.MaxRecords
	if q.MaxRecords <= 0 || q.MaxRecords > pageSize {
		q.MaxRecords = pageSize
	}
	var items []json.RawMessage
	r := request{method: http.MethodPost, path: entity + "/query", body: q}
	for page := 1; ; page++ {
		var env struct {
			Items       []json.RawMessage `json:"items"`
			PageDetails struct {
				NextPageURL string `json:"nextPageUrl"`
			} `json:"pageDetails"`
		}
		if err := c.do(ctx, r, &env); err != nil {
			return err
		}
		items = append(items, env.Items...)
		next := env.PageDetails.NextPageURL
		if next == "" || (want > 0 && len(items) >= want) {
			break
		}
		if page == maxQueryPages {
			return fmt.Errorf("autotask: POST /%s/%s/query: more than %d pages of %d records; narrow the query", apiVersion, entity, maxQueryPages, q.MaxRecords)
		}
		zone, err := c.Zone(ctx)
		if err != nil {
			return err
		}
		if !sameOrigin(next, zone) {
			return fmt.Errorf("autotask: POST /%s/%s/query: the next page is at another origin (%s); credentials are never sent there", apiVersion, entity, originOf(next))
		}
		r.next = next
	}
	if want > 0 && len(items) > want {
		items = items[:want]
	}
	joined, err := json.Marshal(items)
	if err != nil {
		return fmt.Errorf("autotask: %s query: %w", entity, err)
	}
	if err := json.Unmarshal(joined, out); err != nil {
		return fmt.Errorf("autotask: POST /%s/%s/query: unreadable answer: %w", apiVersion, entity, err)
	}
	return nil
}

// sameOrigin reports whether a URL has the zone's scheme and host.
func sameOrigin(raw, zone string) bool {
	u, err := url.Parse(raw)
	z, zerr := url.Parse(zone)
	return err == nil && zerr == nil && u.Scheme == z.Scheme && strings.EqualFold(u.Host, z.Host)
}

func originOf(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Scheme + "://" + u.Host
	}
	return "an unreadable URL"
}

// FirstID returns the id of the first entity matching filters, and whether
// there was one: the lookup behind every "did we write this before" check.
func (c *Client) FirstID(ctx context.Context, entity string, filters ...Filter) (int64, bool, error) {
	var found []struct {
		ID int64 `json:"id"`
	}
	if err := c.Query(ctx, entity, Query{Filter: filters, IncludeFields: []string{"id"}, MaxRecords: 1}, &found); err != nil || len(found) == 0 {
		return 0, false, err
	}
	return found[0].ID, true, nil
}

// Get reads one entity by id into out; an unknown id is ErrNotFound.
func (c *Client) Get(ctx context.Context, entity string, id int64, out any) error {
	var env struct {
		Item json.RawMessage `json:"item"`
	}
	err := c.do(ctx, request{method: http.MethodGet, path: entity + "/" + strconv.FormatInt(id, 10)}, &env)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return fmt.Errorf("%s %d: %w", entity, id, ErrNotFound)
	}
	if err != nil {
		return err
	}
	if len(env.Item) == 0 || string(env.Item) == "null" {
		return fmt.Errorf("%s %d: %w", entity, id, ErrNotFound)
	}
	return json.Unmarshal(env.Item, out)
}

// Create posts a new entity to path (an entity, or a child URL such as
// Tickets/42/Notes) and returns its id. Creates are not idempotent: callers
// look for their marker before calling it again.
func (c *Client) Create(ctx context.Context, path string, body any) (int64, error) {
	var env struct {
		ItemID int64 `json:"itemId"`
	}
	if err := c.do(ctx, request{method: http.MethodPost, path: path, body: body, write: true}, &env); err != nil {
		return 0, err
	}
	if env.ItemID == 0 {
		return 0, fmt.Errorf("autotask: POST %s: the answer has no itemId", path)
	}
	return env.ItemID, nil
}

// EntityInfo reads an entity's capabilities: a cheap authenticated call.
func (c *Client) EntityInfo(ctx context.Context, entity string) (EntityInfo, error) {
	var env struct {
		Info EntityInfo `json:"info"`
	}
	err := c.do(ctx, request{method: http.MethodGet, path: entity + "/entityInformation"}, &env)
	return env.Info, err
}

// EntityInfo is an entity's entityInformation.
type EntityInfo struct {
	Name      string `json:"name"`
	CanCreate bool   `json:"canCreate"`
	CanQuery  bool   `json:"canQuery"`
	CanUpdate bool   `json:"canUpdate"`
}

// FieldInfo is one field of entityInformation/fields.
type FieldInfo struct {
	Name                string          `json:"name"`
	DataType            string          `json:"dataType"`
	Length              int             `json:"length"`
	IsRequired          bool            `json:"isRequired"`
	IsReadOnly          bool            `json:"isReadOnly"`
	IsQueryable         bool            `json:"isQueryable"`
	IsReference         bool            `json:"isReference"`
	ReferenceEntityType string          `json:"referenceEntityType"`
	IsPickList          bool            `json:"isPickList"`
	PicklistValues      []PicklistValue `json:"picklistValues"`
}

// PicklistValue is one choice of a picklist field. Autotask sends the value
// as a string although the entity field holds a number.
type PicklistValue struct {
	Value    string `json:"value"`
	Label    string `json:"label"`
	IsActive bool   `json:"isActive"`
	IsSystem bool   `json:"isSystem"`
}

// Fields returns an entity's field metadata with picklists, cached for a
// while: picklists change rarely and every note needs two of them.
func (c *Client) Fields(ctx context.Context, entity string) ([]FieldInfo, error) {
	c.mu.Lock()
	e, ok := c.fields[entity]
	c.mu.Unlock()
	if ok && time.Since(e.at) < fieldsTTL {
		return e.fields, nil
	}
	v, err, _ := c.group.Do("fields:"+entity, func() (any, error) {
		var env struct {
			Fields []FieldInfo `json:"fields"`
		}
		if err := c.do(ctx, request{method: http.MethodGet, path: entity + "/entityInformation/fields"}, &env); err != nil {
			return nil, err
		}
		c.mu.Lock()
		c.fields[entity] = fieldsEntry{at: time.Now(), fields: env.Fields}
		c.mu.Unlock()
		return env.Fields, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]FieldInfo), nil
}

// Field finds a field by name, ignoring case as Autotask does.
func Field(fields []FieldInfo, name string) (FieldInfo, bool) {
	for _, f := range fields {
		if strings.EqualFold(f.Name, name) {
			return f, true
		}
	}
	return FieldInfo{}, false
}
