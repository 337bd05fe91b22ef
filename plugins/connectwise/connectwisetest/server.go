// Package connectwisetest simulates a ConnectWise PSA (Manage) tenant's REST
// API v3.0 for tests and the demo, as far as
// /work/shared/reference/connectwise-psa-api.md states it: Basic
// company+public:private authentication with a clientId header, bare-array
// lists with Link-header paging (navigable and forward-only), the
// conditions language, validation errors as {code, message, errors[]}, and
// injectable faults (401/403/404, 429 with and without Retry-After, 5xx
// after the write, slow answers). Where the reference is silent or marks a
// fact unverified, the simulator does less, never more.
package connectwisetest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"switchboard/engine/outbound"
)

// Credentials of the default tenant.
const (
	DefaultCompany    = "contoso_msp"
	DefaultPublicKey  = "pUbl1cKeyExample"
	DefaultPrivateKey = "pr1vateKeyExampleSecret"
	DefaultClientID   = "0f2b1e9c-5c0a-4b7e-9a7e-3d6f2b8c1a01"
	// Codebase is what companyinfo returns, with its trailing slash
	// (reference §1).
	Codebase = "v4_6_release/"
)

// Options shape a simulator.
type Options struct {
	Company    string
	PublicKey  string
	PrivateKey string
	ClientID   string
	// MaxInFlight, when above 0, is a front end's limit of requests in
	// flight; the next one gets 429 without Retry-After (reference §6:
	// ConnectWise throttles at its edge; it publishes no limit, so the
	// simulator has none unless a test sets one).
	MaxInFlight int
	// RefuseContains answers 400 to a contains condition on a notes text
	// or a time entry's internalNotes: whether those columns take contains
	// is unverified (reference §7 step 2).
	RefuseContains bool
	// Now is the clock for dateCreated (default time.Now).
	Now func() time.Time
	// RefuseWrites, when set, is called for every request but a GET, which
	// then fails with 500 without being carried out: a dry run's test
	// fails in it.
	RefuseWrites func(method, path string)
}

// Server is a running simulator.
type Server struct {
	// URL is the host's root; the API lives below APIRoot.
	URL string

	opts Options
	srv  *http.Server
	ts   *httptest.Server

	mu       sync.Mutex
	data     map[string]*collection
	latency  time.Duration
	faults   []*Fault
	inflight int
	maxSeen  int
	rejected int
	requests int
}

// New starts a simulator on a loopback port with the default fixtures.
func New(opts Options) *Server {
	s := newServer(opts)
	s.ts = httptest.NewServer(s)
	s.URL = s.ts.URL
	return s
}

// Start serves a simulator on addr (such as 127.0.0.1:0) until Close.
func Start(addr string, opts Options) (*Server, error) {
	return startWith(addr, opts, nil)
}

func startWith(addr string, opts Options, wrap func(*Server) http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connectwisetest: listen on %s: %w", addr, err)
	}
	s := newServer(opts)
	var h http.Handler = s
	if wrap != nil {
		h = wrap(s)
	}
	s.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.URL = "http://" + ln.Addr().String()
	go s.srv.Serve(ln) //nolint:errcheck // Serve returns ErrServerClosed on Close
	return s, nil
}

func newServer(opts Options) *Server {
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&opts.Company, DefaultCompany)
	def(&opts.PublicKey, DefaultPublicKey)
	def(&opts.PrivateKey, DefaultPrivateKey)
	def(&opts.ClientID, DefaultClientID)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, data: map[string]*collection{}}
	s.seed()
	return s
}

// Close stops the server.
func (s *Server) Close() {
	if s.ts != nil {
		s.ts.Close()
		return
	}
	if s.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.srv.Shutdown(ctx)
	}
}

// APIRoot is the REST root a client is configured with:
// <URL>/<codebase>apis/3.0/.
func (s *Server) APIRoot() string { return s.URL + "/" + Codebase + "apis/3.0/" }

// SetLatency delays every API answer by d (slow responses).
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// Fault is an injected failure, matched by method and path prefix below
// the API root (such as "service/tickets" or "time/entries"; empty matches
// any), hitting Times requests (0: once; negative: all).
type Fault struct {
	Method string
	Path   string
	Status int
	// RetryAfter is sent as the Retry-After header when not empty.
	RetryAfter string
	// Body is the answer; default an ErrorResponseMessage.
	Body string
	// Delay holds the answer back; longer than the client's timeout, it
	// is a timeout.
	Delay time.Duration
	// AfterWrite carries the request out first, then answers the fault.
	AfterWrite bool
	Times      int
}

// Inject adds a fault.
func (s *Server) Inject(f Fault) {
	if f.Times == 0 {
		f.Times = 1
	}
	s.mu.Lock()
	s.faults = append(s.faults, &f)
	s.mu.Unlock()
}

func (s *Server) takeFault(method, path string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if (f.Method == "" || strings.EqualFold(f.Method, method)) && strings.HasPrefix(strings.ToLower(path), strings.ToLower(f.Path)) {
			if f.Times > 0 {
				if f.Times--; f.Times == 0 {
					s.faults = append(s.faults[:i], s.faults[i+1:]...)
				}
			}
			return f
		}
	}
	return nil
}

// MaxInFlight is the most API requests the simulator held at once.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxSeen
}

// Throttled counts requests refused by the MaxInFlight limit.
func (s *Server) Throttled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rejected
}

// Requests counts authenticated API requests.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// ServeHTTP answers companyinfo without credentials and everything below
// the API root with them.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/")
	if company, ok := strings.CutPrefix(path, "login/companyinfo/"); ok && r.Method == http.MethodGet {
		s.companyInfo(w, company)
		return
	}
	rest, ok := strings.CutPrefix(path, Codebase+"apis/3.0/")
	if !ok {
		writeError(w, http.StatusNotFound, "NotFound", "The requested resource was not found.")
		return
	}
	if !s.authenticate(w, r) {
		return
	}
	release, ok := s.enter()
	if !ok {
		writeError(w, http.StatusTooManyRequests, "TooManyRequests", "Too many requests.")
		return
	}
	defer release()
	s.mu.Lock()
	latency := s.latency
	s.mu.Unlock()
	if !outbound.Sleep(r.Context(), latency) {
		return
	}
	rest = strings.Trim(rest, "/")
	if s.opts.RefuseWrites != nil && r.Method != http.MethodGet {
		s.opts.RefuseWrites(r.Method, r.URL.Path)
		writeError(w, http.StatusInternalServerError, "Refused", "This simulator refuses writes.")
		return
	}
	fault := s.takeFault(r.Method, rest)
	if fault != nil && !fault.AfterWrite {
		if outbound.Sleep(r.Context(), fault.Delay) {
			writeFault(w, fault)
		}
		return
	}
	rec := httptest.NewRecorder()
	s.route(rec, r, rest)
	if fault != nil {
		if outbound.Sleep(r.Context(), fault.Delay) {
			writeFault(w, fault)
		}
		return
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func (s *Server) enter() (func(), bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	if s.opts.MaxInFlight > 0 && s.inflight >= s.opts.MaxInFlight {
		s.rejected++
		return nil, false
	}
	s.inflight++
	s.maxSeen = max(s.maxSeen, s.inflight)
	return func() {
		s.mu.Lock()
		s.inflight--
		s.mu.Unlock()
	}, true
}

// companyInfo answers codebase discovery; an unknown company gets JSON
// null (reference §1).
func (s *Server) companyInfo(w http.ResponseWriter, company string) {
	if !strings.EqualFold(company, s.opts.Company) {
		writeJSON(w, http.StatusOK, nil)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"CompanyName": "Contoso MSP", "Codebase": Codebase, "VersionCode": "v2025.1",
		"VersionNumber": "v4.6.47174", "CompanyID": s.opts.Company, "IsCloud": true,
	})
}

// authenticate checks Basic base64("company+public:private") and the
// clientId header (reference §2 and §8).
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) bool {
	const prefix = "Basic "
	h := r.Header.Get("Authorization")
	if len(h) > len(prefix) && strings.EqualFold(h[:len(prefix)], prefix) {
		raw, err := base64.StdEncoding.DecodeString(h[len(prefix):])
		want := s.opts.Company + "+" + s.opts.PublicKey + ":" + s.opts.PrivateKey
		if err == nil && string(raw) == want && r.Header.Get("clientId") == s.opts.ClientID {
			return true
		}
	}
	writeError(w, http.StatusUnauthorized, "Unauthorized", "UserNotAuthenticated")
	return false
}

func writeFault(w http.ResponseWriter, f *Fault) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(f.Status)
	body := f.Body
	if body == "" {
		b, _ := json.Marshal(map[string]any{"code": "Simulated", "message": fmt.Sprintf("Simulated failure %d", f.Status)})
		body = string(b)
	}
	_, _ = w.Write([]byte(body))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// fieldError is one errors[] item (reference §6).
type fieldError struct {
	Code     string `json:"code"`
	Message  string `json:"message"`
	Resource string `json:"resource"`
	Field    string `json:"field"`
}

func writeError(w http.ResponseWriter, status int, code, message string, errs ...fieldError) {
	body := map[string]any{"code": code, "message": message}
	if len(errs) > 0 {
		body["errors"] = errs
	}
	writeJSON(w, status, body)
}

// invalid answers 400 InvalidObject with one field error.
func invalid(w http.ResponseWriter, resource, field, message string) {
	writeError(w, http.StatusBadRequest, "InvalidObject", resource+" object is invalid",
		fieldError{Code: "InvalidField", Message: message, Resource: resource, Field: field})
}
