// Package pmcloudtest is a BeyondTrust Privilege Management Cloud simulator
// for tests and the demo, built only from shared/reference/pm-cloud-api.md:
// the OAuth client-credentials token at both paths clients use, and
// Events/FromStartDate ordered by event.ingested with RecordSize, and
// ActivityAudits/Details with its dotted parameters. Where the reference is
// silent (error bodies, Retry-After) it stays silent too; a request it
// does not show how PM Cloud answers gets a 501 "not modelled".
package pmcloudtest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Paths the simulator serves.
const (
	TokenPath    = "/oauth/connect/token"
	AltTokenPath = "/oauth/token" // the official ECS-events PowerShell sample's
	EventsPath   = "/management-api/v3/Events/FromStartDate"
)

// Rate limit of the API: 1000 requests per 100 seconds (reference §5).
const (
	RateLimit  = 1000
	RateWindow = 100 * time.Second
)

// Server is a simulated PM Cloud tenant. Its exported fields may be set
// before the first request; the methods are safe for concurrent use.
type Server struct {
	*httptest.Server

	ClientID     string
	ClientSecret string
	// Now is the tenant's clock (rate window, token expiry).
	Now func() time.Time
	// RateLimit requests per RateWindow are answered; more get 429.
	// Zero: the reference's 1000 per 100 s; negative: no limit.
	RateLimit int

	mu       sync.Mutex
	events   []stored
	tokens   map[string]time.Time
	faults   []fault
	calls    []time.Time
	requests []Request

	audits        []audit
	auditRequests []AuditRequest
}

// Request is one Events call as the simulator received it.
type Request struct {
	StartDate  string
	RecordSize string
	Status     int
}

type stored struct {
	id       string
	ingested time.Time
	doc      json.RawMessage
}

type fault struct {
	path   string
	status int
	body   string
}

// New starts a TLS simulator for one API account.
func New(clientID, clientSecret string) *Server {
	s := &Server{ClientID: clientID, ClientSecret: clientSecret, Now: time.Now, tokens: map[string]time.Time{}}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	return s
}

// ServicesURL is the tenant's services URL (https://<tenant>-services.pm…).
func (s *Server) ServicesURL() string { return s.Server.URL }

// Add stores event documents. Each must be a JSON object with
// event.ingested (RFC 3339, any fractional digits, offset allowed).
func (s *Server) Add(docs ...json.RawMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range docs {
		var head struct {
			Event struct {
				ID       string `json:"id"`
				Ingested string `json:"ingested"`
			} `json:"event"`
		}
		if err := json.Unmarshal(d, &head); err != nil {
			return fmt.Errorf("pmcloudtest: event document: %w", err)
		}
		at, err := time.Parse(time.RFC3339Nano, head.Event.Ingested)
		if err != nil {
			return fmt.Errorf("pmcloudtest: event.ingested %q: %w", head.Event.Ingested, err)
		}
		s.events = append(s.events, stored{id: head.Event.ID, ingested: at, doc: slices.Clone(d)})
	}
	slices.SortStableFunc(s.events, func(a, b stored) int {
		if c := a.ingested.Compare(b.ingested); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	return nil
}

// Event returns a small ECS event document in the reference's shape (§3.3)
// with the given id and ingestion time.
func Event(id string, ingested time.Time) json.RawMessage {
	doc := map[string]any{
		"@timestamp": ingested.Add(-3 * time.Second).UTC().Format("2006-01-02T15:04:05.000Z"),
		"ecs":        map[string]any{"version": "8.8.0"},
		"tags":       []string{"AgentEventAudit"},
		"event": map[string]any{
			"id": id, "code": "116", "kind": "event", "category": []string{"process"},
			"type": []string{"start", "denied"}, "action": "process-start-blocked", "outcome": "failure",
			"provider": "BeyondTrust Privilege Management",
			// The reference's shape: an offset and 7 fractional digits.
			"ingested": ingested.UTC().Format("2006-01-02T15:04:05.0000000+00:00"),
		},
		"host": map[string]any{"hostname": "WS-0142", "os": map[string]any{"type": "windows"}},
		"user": map[string]any{"name": "jdoe", "domain": "CORP"},
	}
	b, _ := json.Marshal(doc)
	return b
}

// Fail makes the next n requests to path (TokenPath, AltTokenPath,
// EventsPath or AuditsPath; "" for any) answer status with body (which may be "").
func (s *Server) Fail(path string, status, n int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{path: path, status: status, body: body})
	}
}

// RevokeTokens invalidates every issued token, as regenerating the API
// account's secret does.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// Requests returns the Events calls received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Now()
	if f, ok := s.fault(r.URL.Path); ok {
		s.note(r, f.status)
		w.WriteHeader(f.status)
		_, _ = w.Write([]byte(f.body))
		return
	}
	if s.limited(now) {
		s.note(r, http.StatusTooManyRequests)
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	switch {
	case r.URL.Path == TokenPath || r.URL.Path == AltTokenPath:
		s.token(w, r, now)
	case r.URL.Path == EventsPath && r.Method == http.MethodGet:
		s.eventsFrom(w, r, now)
	case r.URL.Path == AuditsPath && r.Method == http.MethodGet:
		s.auditsDetails(w, r, now)
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) fault(path string) (fault, bool) {
	for i, f := range s.faults {
		if f.path == "" || f.path == path {
			s.faults = slices.Delete(s.faults, i, i+1)
			return f, true
		}
	}
	return fault{}, false
}

// limited counts the request against the rate window.
func (s *Server) limited(now time.Time) bool {
	limit := s.RateLimit
	if limit == 0 {
		limit = RateLimit
	}
	if limit < 0 {
		return false
	}
	s.calls = slices.DeleteFunc(s.calls, func(t time.Time) bool { return !t.After(now.Add(-RateWindow)) })
	if len(s.calls) >= limit {
		return true
	}
	s.calls = append(s.calls, now)
	return false
}

func (s *Server) note(r *http.Request, status int) {
	if r.URL.Path == EventsPath {
		q := r.URL.Query()
		s.requests = append(s.requests, Request{StartDate: q.Get("StartDate"), RecordSize: q.Get("RecordSize"), Status: status})
	}
}

// token answers a client-credentials request: a form POST with the id and
// secret in the body, or in Basic auth (the Splunk add-on's way). Bad
// credentials get a 401 without a body: the reference says 400 or 401 and
// does not document the body. Another method or grant type is not
// modelled.
func (s *Server) token(w http.ResponseWriter, r *http.Request, now time.Time) {
	if r.Method != http.MethodPost {
		notModelled(w, r.Method+" to a token path")
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		notModelled(w, "a token request other than a client_credentials form")
		return
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != s.ClientID || secret != s.ClientSecret || id == "" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	buf := make([]byte, 24)
	_, _ = rand.Read(buf)
	tok := "eyJ" + base64.RawURLEncoding.EncodeToString(buf) + "." + hex.EncodeToString(buf[:8])
	s.tokens[tok] = now.Add(time.Hour)
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600, "scope": "urn:management:api"})
}

// startDate models the endpoint before EPM 26.2.1734 and nothing newer
// (reference: pm-cloud-api.md, "Date precision"): more than three
// fractional digits gave 400 "Invalid Start date format.", and date-only
// values and offsets were only accepted by that fix, so they are refused
// too. What the reference says is safe, yyyy-MM-ddTHH:mm:ss.fffZ, passes.
var startDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$`)

// authorized says whether the request bears a live token.
func (s *Server) authorized(r *http.Request, now time.Time) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	exp, known := s.tokens[tok]
	return ok && known && now.Before(exp)
}

func (s *Server) eventsFrom(w http.ResponseWriter, r *http.Request, now time.Time) {
	if !s.authorized(r, now) {
		s.note(r, http.StatusUnauthorized)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	q := r.URL.Query()
	start, err := parseStart(q.Get("StartDate"))
	if err != nil {
		s.note(r, http.StatusBadRequest)
		writeJSON(w, http.StatusBadRequest, "Invalid Start date format.")
		return
	}
	size := 1000
	if v := q.Get("RecordSize"); v != "" {
		if size, err = strconv.Atoi(v); err != nil || size < 1 || size > 1000 {
			// The reference gives the range, not the answer outside it.
			s.note(r, http.StatusNotImplemented)
			notModelled(w, "RecordSize outside 1–1000")
			return
		}
	}
	s.note(r, http.StatusOK)
	var page []json.RawMessage
	for _, e := range s.events {
		if !e.ingested.Before(start) {
			page = append(page, e.doc)
			if len(page) == size {
				break
			}
		}
	}
	if page == nil {
		page = []json.RawMessage{}
	}
	body, _ := json.Marshal(map[string]any{"totalRecordsReturned": len(page), "events": page})
	// The OpenAPI document declares text/plain; the body is JSON.
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(body)
}

func parseStart(v string) (time.Time, error) {
	if !startDate.MatchString(v) {
		return time.Time{}, fmt.Errorf("invalid start date %q", v)
	}
	return time.Parse(time.RFC3339Nano, v)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
