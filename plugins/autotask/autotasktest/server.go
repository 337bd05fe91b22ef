// Package autotasktest is an Autotask PSA REST API simulator for tests and
// the demo: real HTTP, the documented URLs, envelopes, header
// authentication with the real failure statuses, the query grammar, field
// metadata with picklists, the thread limit, and injectable faults.
package autotasktest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"switchboard/engine/outbound"
)

// The simulated tenant's credentials, unless Options say otherwise.
const (
	DefaultUsername        = "api-user@example.com"
	DefaultSecret          = "s3cret-Simulated-1"
	DefaultIntegrationCode = "SIMULATEDINTEGRATIONCODE123"
)

// ThreadLimit is the number of concurrent requests per (integration code,
// endpoint) the simulator accepts; the next is refused with Itgenatr005.
const ThreadLimit = 3

// ThreadLimitMessage is the error text of a thread-limit refusal.
const ThreadLimitMessage = "Itgenatr005 - Thread Threshold Exceeded - The Autotask API thread threshold of 3 threads has been exceeded. Please reduce the number of concurrent requests."

// Options shape a simulator.
type Options struct {
	Username        string
	Secret          string
	IntegrationCode string
	// ThreadLimitStatus is the HTTP status of thread-limit refusals
	// (default 429; Autotask has been seen to use others).
	ThreadLimitStatus int
	// StrictRoles enforces the roleID rule without the "Allow users to
	// modify Role" system setting: a ticket time entry's role must be the
	// ticket's assignedResourceRoleID when the ticket has one.
	StrictRoles bool
	// Now is the clock for create dates (default time.Now).
	Now func() time.Time
	// RefuseContains refuses every query with a contains condition, as a
	// tenant may: whether Autotask takes contains on TicketNotes.title and
	// TimeEntries.internalNotes is unverified (autotask-api.md §4 lists the
	// operator, not the fields it works on). The refusal has the shape of
	// any refused query: 500 with an errors list (§5, "Error body").
	RefuseContains bool
	// RefuseWrites, when set, is called for every create or update (not
	// for a query), which then fails with 500 without being carried out:
	// a dry run's test fails in it.
	RefuseWrites func(method, path string)
}

// Server is a running simulator.
type Server struct {
	// URL is the server's root; zoneInformation lives below it and
	// RESTRoot is what zoneInformation returns.
	URL string

	opts Options
	srv  *http.Server
	ts   *httptest.Server

	mu        sync.Mutex
	ents      map[string]*entity
	movedTo   string
	latency   time.Duration
	faults    []*Fault
	inflight  map[string]int
	maxSeen   map[string]int
	rejected  map[string]int
	requests  map[string]int
	ticketSeq map[string]int
}

// New starts a simulator on a loopback port with the default fixtures; the
// test closes it.
func New(opts Options) *Server {
	s := newServer(opts)
	s.ts = httptest.NewServer(s)
	s.URL = s.ts.URL
	return s
}

// Start serves a simulator on addr (such as 127.0.0.1:0) until Close; the
// demo uses it.
func Start(addr string, opts Options) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("autotasktest: listen on %s: %w", addr, err)
	}
	s := newServer(opts)
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.URL = "http://" + ln.Addr().String()
	go s.srv.Serve(ln) //nolint:errcheck // Serve returns ErrServerClosed on Close
	return s, nil
}

func newServer(opts Options) *Server {
	if opts.Username == "" {
		opts.Username = DefaultUsername
	}
	if opts.Secret == "" {
		opts.Secret = DefaultSecret
	}
	if opts.IntegrationCode == "" {
		opts.IntegrationCode = DefaultIntegrationCode
	}
	if opts.ThreadLimitStatus == 0 {
		opts.ThreadLimitStatus = http.StatusTooManyRequests
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		opts: opts, ents: newTenant(),
		inflight: map[string]int{}, maxSeen: map[string]int{}, rejected: map[string]int{}, requests: map[string]int{},
		ticketSeq: map[string]int{},
	}
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

// RESTRoot is the zone's REST root, as zoneInformation returns it.
func (s *Server) RESTRoot() string { return s.URL + "/ATServicesRest/" }

// ZoneInformationURL is the zone lookup endpoint of this simulator.
func (s *Server) ZoneInformationURL() string { return s.URL + "/atservicesrest/v1.0/zoneInformation" }

// MoveTo makes the tenant live in another zone: zoneInformation answers
// root and this server answers 401 to the tenant's calls, as Autotask does
// for a wrong zone.
func (s *Server) MoveTo(root string) {
	s.mu.Lock()
	s.movedTo = root
	s.mu.Unlock()
}

// SetLatency delays every answer (except zoneInformation) by d.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// Fault is an injected failure. It matches requests by method and entity
// endpoint (empty matches any) and hits Times of them (0 means once; a
// negative number, all).
type Fault struct {
	Method   string
	Endpoint string // e.g. Tickets, TicketNotes, TimeEntries, Contacts
	// WritesOnly matches creates and updates only, not the queries of the
	// same endpoint (POST …/query is a read).
	WritesOnly bool
	Status     int
	// RetryAfter is sent as the Retry-After header when not empty.
	RetryAfter string
	// Body is the answer; default {"errors":[...]} for 4xx, a web-server
	// error for 5xx.
	Body string
	// Delay holds the answer back (after the write, with AfterWrite);
	// longer than the client's timeout, it is a timeout.
	Delay time.Duration
	// AfterWrite performs the request first and then answers with the
	// fault: the write happened but the client cannot know.
	AfterWrite bool
	// HoldThread lets Delay run to its end even when the client has given
	// up, keeping the endpoint's thread taken meanwhile: a server goes on
	// with a request whose client timed out.
	HoldThread bool
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

// takeFault returns the first fault matching the request and uses it up.
func (s *Server) takeFault(method, endpoint string, write bool) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if (f.Method == "" || strings.EqualFold(f.Method, method)) && (f.Endpoint == "" || strings.EqualFold(f.Endpoint, endpoint)) && (!f.WritesOnly || write) {
			if f.Times > 0 {
				f.Times--
				if f.Times == 0 {
					s.faults = append(s.faults[:i], s.faults[i+1:]...)
				}
			}
			return f
		}
	}
	return nil
}

// ServeHTTP routes requests without regard to the path's case, as the API's
// web server does.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.Trim(r.URL.Path, "/")
	lower := strings.ToLower(path)
	switch {
	case lower == "atservicesrest/v1.0/zoneinformation" && r.Method == http.MethodGet:
		s.zoneInformation(w, r)
		return
	case lower == "atservicesrest/versioninformation" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"apiVersions": []string{"1.0"}})
		return
	case !strings.HasPrefix(lower, "atservicesrest/v1.0/"):
		notFound(w, r)
		return
	}
	rest := strings.Split(path[len("atservicesrest/v1.0/"):], "/")
	if !s.authenticate(w, r) {
		return
	}
	endpoint := endpointOf(rest)
	release, ok := s.enter(endpoint)
	if !ok {
		writeJSON(w, s.opts.ThreadLimitStatus, map[string]any{"errors": []string{ThreadLimitMessage}})
		return
	}
	defer release()
	s.mu.Lock()
	latency := s.latency
	s.mu.Unlock()
	if !outbound.Sleep(r.Context(), latency) {
		return
	}
	if s.opts.RefuseWrites != nil && isWrite(r.Method, rest) {
		s.opts.RefuseWrites(r.Method, r.URL.Path)
		writeJSON(w, http.StatusInternalServerError, map[string]any{"errors": []string{"this simulator refuses writes"}})
		return
	}
	fault := s.takeFault(r.Method, endpoint, isWrite(r.Method, rest))
	wait := r.Context()
	if fault != nil && fault.HoldThread {
		wait = context.WithoutCancel(wait)
	}
	if fault != nil && !fault.AfterWrite {
		if outbound.Sleep(wait, fault.Delay) {
			writeFault(w, fault)
		}
		return
	}
	if fault == nil {
		s.route(w, r, rest)
		return
	}
	// The write is done, its answer dropped; the client waits (a
	// timeout, if Delay is long) or gets an error, and cannot know it
	// succeeded.
	s.route(httptest.NewRecorder(), r, rest)
	if outbound.Sleep(wait, fault.Delay) {
		writeFault(w, fault)
	}
}

// isWrite tells a create or update from a read: GETs and the POSTed
// queries (…/query, …/query/count, …/query/next) read.
func isWrite(method string, rest []string) bool {
	if method == http.MethodGet {
		return false
	}
	for _, part := range rest {
		if strings.EqualFold(part, "query") {
			return false
		}
	}
	return true
}

func writeFault(w http.ResponseWriter, f *Fault) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	body := f.Body
	if body == "" {
		if f.Status >= 500 {
			body = `{"Message":"An error has occurred."}`
		} else {
			body = `{"errors":["Simulated failure"]}`
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(f.Status)
	_, _ = io.WriteString(w, body)
}

// enter takes one of the endpoint's threads, or refuses when all are busy.
func (s *Server) enter(endpoint string) (func(), bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[endpoint]++
	if s.inflight[endpoint] >= ThreadLimit {
		s.rejected[endpoint]++
		return nil, false
	}
	s.inflight[endpoint]++
	s.maxSeen[endpoint] = max(s.maxSeen[endpoint], s.inflight[endpoint])
	return func() {
		s.mu.Lock()
		s.inflight[endpoint]--
		s.mu.Unlock()
	}, true
}

// endpointOf names the entity a path addresses; a child URL
// (Tickets/{id}/Notes) counts as the child entity.
func endpointOf(rest []string) string {
	if len(rest) >= 3 {
		if _, err := strconv.ParseInt(rest[1], 10, 64); err == nil {
			if strings.EqualFold(rest[0], "Tickets") && strings.EqualFold(rest[2], "Notes") {
				return "TicketNotes"
			}
			return rest[2]
		}
	}
	return rest[0]
}

func (s *Server) zoneInformation(w http.ResponseWriter, r *http.Request) {
	user := r.URL.Query().Get("user")
	if !strings.EqualFold(user, s.opts.Username) {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"errors": []string{"Zone information could not be determined"}})
		return
	}
	s.mu.Lock()
	root := s.movedTo
	s.mu.Unlock()
	if root == "" {
		root = s.RESTRoot()
	}
	writeJSON(w, http.StatusOK, map[string]any{"zoneName": "Simulated Zone", "url": root, "webUrl": s.URL + "/", "ci": 123456})
}

// authenticate answers like Autotask: an unknown username or integration
// code is a 500 with an errors list, a wrong secret (or the wrong zone) a
// 401.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	moved := s.movedTo != ""
	s.mu.Unlock()
	switch {
	case !strings.EqualFold(r.Header.Get("UserName"), s.opts.Username):
		writeJSON(w, http.StatusInternalServerError, map[string]any{"errors": []string{"Unable to find a user with the UserName provided."}})
	case r.Header.Get("Secret") != s.opts.Secret || moved:
		w.WriteHeader(http.StatusUnauthorized)
	case r.Header.Get("ApiIntegrationCode") != s.opts.IntegrationCode:
		writeJSON(w, http.StatusInternalServerError, map[string]any{"errors": []string{"IntegrationCode is invalid."}})
	default:
		if imp := r.Header.Get("ImpersonationResourceId"); imp != "" {
			id, _ := strconv.ParseInt(imp, 10, 64)
			s.mu.Lock()
			_, ok := s.ents["resources"].byID[id]
			s.mu.Unlock()
			if !ok {
				writeJSON(w, http.StatusInternalServerError, map[string]any{"errors": []string{"The logged in Resource does not have the adequate permissions to impersonate resource " + imp + "."}})
				return false
			}
		}
		return true
	}
	return false
}

func notFound(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, map[string]any{"Message": "No HTTP resource was found that matches the request URI '" + r.URL.String() + "'."})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func apiErrors(w http.ResponseWriter, msgs ...string) {
	writeJSON(w, http.StatusInternalServerError, map[string]any{"errors": msgs})
}

// route handles an authenticated call below /V1.0/.
func (s *Server) route(w http.ResponseWriter, r *http.Request, rest []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.ents[strings.ToLower(rest[0])]
	if e == nil {
		notFound(w, r)
		return
	}
	n := len(rest)
	last := strings.ToLower(rest[n-1])
	switch {
	case n == 2 && strings.EqualFold(rest[1], "entityInformation") && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"info": map[string]any{
			"name": e.name, "canCreate": true, "canDelete": false, "canQuery": true, "canUpdate": true, "hasUserDefinedFields": false,
		}})
	case n == 3 && strings.EqualFold(rest[1], "entityInformation") && last == "fields" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"fields": e.fields})
	case n == 2 && last == "query" && (r.Method == http.MethodPost || r.Method == http.MethodGet):
		s.query(w, r, e, false)
	case n == 3 && strings.EqualFold(rest[1], "query") && last == "count":
		s.query(w, r, e, true)
	case n == 3 && strings.EqualFold(rest[1], "query") && last == "next" && r.Method == http.MethodPost:
		// A POSTed query's nextPageUrl is POSTed again with the same body
		// (autotask-api.md §4, "IncludeFields, MaxRecords, paging").
		s.query(w, r, e, false)
	case n == 2 && r.Method == http.MethodGet:
		id, err := strconv.ParseInt(rest[1], 10, 64)
		if rec, ok := e.byID[id]; err == nil && ok {
			writeJSON(w, http.StatusOK, map[string]any{"item": rec})
			return
		}
		notFound(w, r)
	case n == 1 && r.Method == http.MethodPost && (e.name == "Tickets" || e.name == "TimeEntries"):
		s.create(w, r, e, 0)
	case n == 3 && e.name == "Tickets" && last == "notes":
		ticketID, err := strconv.ParseInt(rest[1], 10, 64)
		if err != nil {
			notFound(w, r)
			return
		}
		if r.Method == http.MethodGet {
			writeJSON(w, http.StatusOK, map[string]any{"items": s.ents["ticketnotes"].byTicket[ticketID], "pageDetails": pageDetails(len(s.ents["ticketnotes"].byTicket[ticketID]), 500)})
			return
		}
		if r.Method == http.MethodPost {
			s.create(w, r, s.ents["ticketnotes"], ticketID)
			return
		}
		notFound(w, r)
	default:
		// There is no POST /TicketNotes and no POST /Tickets/{id}/TimeEntries:
		// the API answers 404 for routes it does not have.
		notFound(w, r)
	}
}

func pageDetails(count, requested int) map[string]any {
	return map[string]any{"count": count, "requestCount": requested, "prevPageUrl": nil, "nextPageUrl": nil}
}

// paging is the cursor of a nextPageUrl, in the shape of the real one
// quoted in autotask-api.md §4: paging={"pageSize":500,"previousIds":[-1],
// "nextIds":[725]}. Here nextIds holds the id the next page starts at.
type paging struct {
	PageSize    int     `json:"pageSize"`
	PreviousIDs []int64 `json:"previousIds"`
	NextIDs     []int64 `json:"nextIds"`
}

// nextPageURL is where the page after the one ending before next is read:
// {root}/V1.0/{Entity}/query/next?paging=… (autotask-api.md §4).
func (s *Server) nextPageURL(r *http.Request, e *entity, size int, next int64) string {
	p, _ := json.Marshal(paging{PageSize: size, PreviousIDs: []int64{-1}, NextIDs: []int64{next}})
	q := url.Values{"paging": {string(p)}}
	if search := r.URL.Query().Get("search"); search != "" {
		q.Set("search", search)
	}
	return "http://" + r.Host + "/ATServicesRest/V1.0/" + e.name + "/query/next?" + q.Encode()
}

// refusesContains finds a contains condition the tenant refuses.
func refusesContains(conds []condition) (string, bool) {
	for _, c := range conds {
		if strings.EqualFold(c.Op, "contains") {
			return c.Field, true
		}
		if f, ok := refusesContains(c.Items); ok {
			return f, true
		}
	}
	return "", false
}

func (s *Server) query(w http.ResponseWriter, r *http.Request, e *entity, count bool) {
	var raw []byte
	if r.Method == http.MethodGet {
		raw = []byte(r.URL.Query().Get("search"))
	} else {
		var err error
		if raw, err = io.ReadAll(io.LimitReader(r.Body, 1<<20)); err != nil {
			apiErrors(w, "The request body could not be read")
			return
		}
	}
	q, err := parseQuery(e, raw)
	if err != nil {
		apiErrors(w, err.Error())
		return
	}
	if field, ok := refusesContains(q.Filter); ok && s.opts.RefuseContains {
		apiErrors(w, fmt.Sprintf("The contains operator is not supported on %s.%s.", e.name, field))
		return
	}
	var from int64 // the first id of this page, from a nextPageUrl's cursor
	if raw := r.URL.Query().Get("paging"); raw != "" {
		var p paging
		if json.Unmarshal([]byte(raw), &p) != nil || len(p.NextIDs) != 1 {
			apiErrors(w, "The paging parameter is malformed.")
			return
		}
		from = p.NextIDs[0]
	}
	// The indexes only narrow the candidates; match still applies every
	// condition.
	candidates := e.rows
	if id, ok := ticketFilter(q.Filter); ok && e.byTicket != nil && e.field("ticketID") != nil {
		candidates = e.byTicket[id]
	} else if num, ok := eqFilter(q.Filter, "ticketNumber"); ok && e.field("ticketNumber") != nil {
		candidates = nil
		if rec, found := e.byNumber[strings.ToLower(num)]; found {
			candidates = []record{rec}
		}
	}
	// Rows are stored in id order, so a page is the next MaxRecords
	// matches from the cursor on; MaxRecords is the page size, at most 500
	// (autotask-api.md §4).
	var items []record
	var next int64
	total := 0
	for _, rec := range candidates {
		if rec.id() < from || !match(rec, q.Filter, true) {
			continue
		}
		total++
		if len(items) < q.MaxRecords {
			items = append(items, project(rec, e, q.IncludeFields))
		} else if next == 0 {
			next = rec.id()
		}
	}
	if count {
		writeJSON(w, http.StatusOK, map[string]any{"queryCount": total})
		return
	}
	if items == nil {
		items = []record{}
	}
	details := pageDetails(len(items), q.MaxRecords)
	if next != 0 {
		details["nextPageUrl"] = s.nextPageURL(r, e, q.MaxRecords, next)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "pageDetails": details})
}

// ticketFilter finds a top-level "ticketID eq N" so child queries use the
// per-ticket index instead of a scan.
// eqFilter returns the string a top-level "eq" condition on field compares
// with.
func eqFilter(conds []condition, field string) (string, bool) {
	for _, c := range conds {
		if strings.EqualFold(c.Op, "eq") && strings.EqualFold(c.Field, field) && !c.UDF {
			if v, ok := c.Value.(string); ok {
				return v, true
			}
		}
	}
	return "", false
}

func ticketFilter(conds []condition) (int64, bool) {
	for _, c := range conds {
		if strings.EqualFold(c.Op, "eq") && c.Field == "ticketID" && !c.UDF {
			if id, ok := c.Value.(int64); ok {
				return id, true
			}
		}
	}
	return 0, false
}

func project(rec record, e *entity, include []string) record {
	if len(include) == 0 {
		return rec
	}
	out := record{"id": rec["id"]}
	for _, f := range include {
		name := e.field(f).Name
		out[name] = rec[name]
	}
	return out
}

// create validates and stores a new row as Autotask would: required
// fields, picklist values, references, the entity's own rules.
func (s *Server) create(w http.ResponseWriter, r *http.Request, e *entity, parentTicket int64) {
	dec := json.NewDecoder(io.LimitReader(r.Body, 4<<20))
	dec.UseNumber()
	var body map[string]any
	if err := dec.Decode(&body); err != nil {
		apiErrors(w, "The request body is not a JSON object")
		return
	}
	rec := e.normalize(body)
	for _, f := range e.fields {
		if f.IsReadOnly {
			delete(rec, f.Name)
		}
	}
	if parentTicket != 0 {
		if _, ok := s.ents["tickets"].byID[parentTicket]; !ok {
			apiErrors(w, fmt.Sprintf("Value does not reference an existing entity for ticketID %d. ", parentTicket))
			return
		}
		if t, ok := rec["ticketID"]; ok && toInt(t) != parentTicket {
			apiErrors(w, "The ticketID in the body does not match the parent ticket in the URL.")
			return
		}
		rec["ticketID"] = parentTicket
	}
	if msg := s.check(e, rec); msg != "" {
		apiErrors(w, msg)
		return
	}
	if msg := s.rules(e, rec); msg != "" {
		apiErrors(w, msg)
		return
	}
	now := s.opts.Now().UTC()
	switch e.name {
	case "Tickets":
		day := now.Format("20060102")
		s.ticketSeq[day]++
		rec["ticketNumber"] = fmt.Sprintf("T%s.%04d", day, s.ticketSeq[day])
		rec["createDate"] = now.Format(time.RFC3339Nano)
	case "TicketNotes":
		rec["createDateTime"] = now.Format(time.RFC3339Nano)
	}
	if imp := r.Header.Get("ImpersonationResourceId"); imp != "" {
		if e.field("impersonatorCreatorResourceID") != nil {
			rec["impersonatorCreatorResourceID"], _ = strconv.ParseInt(imp, 10, 64)
		}
	}
	e.insert(rec)
	writeJSON(w, http.StatusOK, map[string]any{"itemId": rec.id()})
}

// check applies the field metadata: required, types, lengths, picklists,
// references.
func (s *Server) check(e *entity, rec record) string {
	for _, f := range e.fields {
		v, ok := rec[f.Name]
		if f.IsRequired && !f.IsReadOnly && (!ok || v == nil || v == "") {
			return fmt.Sprintf("Missing Required Field: %s", f.Name)
		}
		if !ok || v == nil {
			continue
		}
		switch f.DataType {
		case "string":
			str, isStr := v.(string)
			if !isStr {
				return fmt.Sprintf("Value for %s must be a string", f.Name)
			}
			if f.Length > 0 && len([]rune(str)) > f.Length {
				return fmt.Sprintf("Value for %s exceeds the maximum length of %d", f.Name, f.Length)
			}
		case "integer", "long":
			if _, isInt := v.(int64); !isInt {
				return fmt.Sprintf("Value for %s must be an integer", f.Name)
			}
		case "boolean":
			if !isBool(v) {
				return fmt.Sprintf("Value for %s must be true or false", f.Name)
			}
		case "decimal", "double":
			if _, isNum := toFloat(v); !isNum {
				return fmt.Sprintf("Value for %s must be a number", f.Name)
			}
		case "datetime":
			str, _ := v.(string)
			if _, err := parseTime(str); err != nil {
				return fmt.Sprintf("Value for %s must be a date-time", f.Name)
			}
		}
		if f.IsPickList && !f.picklistHas(v) {
			return fmt.Sprintf("Value %v does not exist in the picklist for %s.", v, f.Name)
		}
		if f.IsReference {
			target := s.ents[strings.ToLower(pluralOf(f.ReferenceEntityType))]
			if target == nil {
				continue
			}
			if _, found := target.byID[toInt(v)]; !found {
				return fmt.Sprintf("Value does not reference an existing entity for %s . ", f.Name)
			}
		}
	}
	return ""
}

func pluralOf(entity string) string {
	switch entity {
	case "Company":
		return "Companies"
	case "TicketNote":
		return "TicketNotes"
	case "TimeEntry":
		return "TimeEntries"
	}
	return entity + "s"
}

// parseTime accepts what Autotask accepts: RFC 3339 with or without a zone.
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02T15:04:05", s)
}

// rules are each entity's business rules beyond the metadata.
func (s *Server) rules(e *entity, rec record) string {
	switch e.name {
	case "Tickets":
		if _, ok := rec["assignedResourceID"]; ok {
			if _, ok := rec["assignedResourceRoleID"]; !ok {
				return "When assigning a Resource, you must assign both a assignedResourceID and assignedResourceRoleID."
			}
		}
		if c, ok := rec["contactID"]; ok {
			contact := s.ents["contacts"].byID[toInt(c)]
			if toInt(contact["companyID"]) != toInt(rec["companyID"]) {
				return "The contact must belong to the ticket's company."
			}
		}
	case "TimeEntries":
		return s.timeEntryRules(rec)
	}
	return ""
}

// timeEntryRules follows the TimeEntries help: ticket time needs a roleID
// valid for the resource, hours in (0, 24], an end after the start.
func (s *Server) timeEntryRules(rec record) string {
	res := s.ents["resources"].byID[toInt(rec["resourceID"])]
	if active, _ := res["isActive"].(bool); !active {
		return "The resource is inactive."
	}
	if _, ok := rec["dateWorked"]; !ok {
		start, ok := rec["startDateTime"]
		if !ok {
			return "Missing Required Field: dateWorked"
		}
		rec["dateWorked"] = start
	}
	if ticketID, ok := rec["ticketID"]; ok {
		roleID, hasRole := rec["roleID"]
		if !hasRole {
			return "TimeEntries for Tickets must have a roleID"
		}
		role := s.ents["roles"].byID[toInt(roleID)]
		active, _ := role["isActive"].(bool)
		if !active || !resourceHasRole(res, toInt(roleID)) {
			return "Role does not exist or is invalid"
		}
		ticket := s.ents["tickets"].byID[toInt(ticketID)]
		if assigned, ok := ticket["assignedResourceRoleID"]; s.opts.StrictRoles && ok && toInt(assigned) != toInt(roleID) {
			return "The roleID must be the same as ticketID.assignedResourceRoleID"
		}
	}
	hours, hasHours := toFloat(rec["hoursWorked"])
	startS, hasStart := rec["startDateTime"].(string)
	endS, hasEnd := rec["endDateTime"].(string)
	if hasStart && hasEnd {
		start, _ := parseTime(startS)
		end, _ := parseTime(endS)
		if !end.After(start) {
			return "endDateTime must be after startDateTime"
		}
		if !hasHours {
			hours, hasHours = end.Sub(start).Hours(), true
			rec["hoursWorked"] = hours
		}
	}
	if !hasHours || hours <= 0 || hours > 24 {
		return "hoursWorked must be greater than 0 and less than or equal to 24"
	}
	return ""
}

// resourceHasRole reads the simulator's own list of a resource's roles
// (kept under a key the API does not expose).
func resourceHasRole(res record, roleID int64) bool {
	roles, _ := res[rolesKey].([]int64)
	for _, r := range roles {
		if r == roleID {
			return true
		}
	}
	return false
}

const rolesKey = "_roles"

// MarshalJSON hides simulator-only keys.
func (r record) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(r))
	for k, v := range r {
		if !strings.HasPrefix(k, "_") {
			m[k] = v
		}
	}
	return json.Marshal(m)
}
