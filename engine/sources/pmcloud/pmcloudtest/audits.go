package pmcloudtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AuditsPath is the activity audits endpoint (reference §4).
const AuditsPath = "/management-api/v3/ActivityAudits/Details"

// MaxAuditPageSize is the page size the reference says not to exceed.
const MaxAuditPageSize = 200

// AuditRequest is one ActivityAudits/Details call as received.
type AuditRequest struct {
	Query  string // the raw query
	Dates  []string
	Page   string
	Size   string
	Status int
}

type audit struct {
	id      int64
	created time.Time
	doc     json.RawMessage
}

// Audit returns an activity audit in the reference's shape (§4.2) with the
// given id and creation time.
func Audit(id int64, created time.Time) json.RawMessage {
	doc := map[string]any{
		"id": id, "details": fmt.Sprintf("Policy 'Workstations' revision %d assigned to group 'Finance'", id),
		"userId": "5d3c0a1e-7f2b-4c11-9a8e-2f6b1c0d9e44", "user": "admin@example.com", "entity": "Group", "entityName": "Finance",
		"auditType": "Modify", "created": created.UTC().Format("2006-01-02T15:04:05.000Z"), "changedBy": "Portal",
		// §4.2 says only "before/after objects"; their keys are not shown.
		"groupDataAuditing":  map[string]any{"before": map[string]any{}, "after": map[string]any{}},
		"policyDataAuditing": nil,
	}
	b, _ := json.Marshal(doc)
	return b
}

// AddAudits stores activity audits; each must be a JSON object with a
// numeric id and a created time (RFC 3339). They are listed in the order
// added: the reference gives no order.
func (s *Server) AddAudits(docs ...json.RawMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range docs {
		var head struct {
			ID      int64  `json:"id"`
			Created string `json:"created"`
		}
		if err := json.Unmarshal(d, &head); err != nil {
			return fmt.Errorf("pmcloudtest: audit: %w", err)
		}
		at, err := time.Parse(time.RFC3339Nano, head.Created)
		if err != nil {
			return fmt.Errorf("pmcloudtest: audit created %q: %w", head.Created, err)
		}
		s.audits = append(s.audits, audit{id: head.ID, created: at, doc: slices.Clone(d)})
	}
	return nil
}

// AuditRequests returns the ActivityAudits/Details calls received so far.
func (s *Server) AuditRequests() []AuditRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.auditRequests)
}

// filterDate reads a Filter.Created.Dates value in one of the formats the
// reference lists as documented, or the ISO form clients send.
func filterDate(v string) (time.Time, bool) {
	for _, layout := range []string{
		"2006-01-02", "2006-01-02 15:04:05", "2006-01-02 15:04:05.9999999", "2006-01-02 15:04:05.9999999 -07:00",
		"2006-01-02T15:04:05.999Z",
	} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// auditsDetails answers GET ActivityAudits/Details with the dotted
// parameters the reference shows: Pagination.PageSize (≤ 200),
// Pagination.PageNumber (from 1), and Filter.Created.Dates twice with
// Filter.Created.SelectionMode=Range. Anything else (other filters, sorts,
// other selection modes, a page size over 200) is not modelled: the
// reference does not say how PM Cloud answers it, so the simulator answers
// 501 and a test relying on it fails loudly.
func (s *Server) auditsDetails(w http.ResponseWriter, r *http.Request, now time.Time) {
	q := r.URL.Query()
	req := AuditRequest{Query: r.URL.RawQuery, Dates: q["Filter.Created.Dates"], Page: q.Get("Pagination.PageNumber"), Size: q.Get("Pagination.PageSize")}
	answer := func(status int) { req.Status = status; s.auditRequests = append(s.auditRequests, req) }
	if !s.authorized(r, now) {
		answer(http.StatusUnauthorized)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	for k := range q {
		switch k {
		case "Filter.Created.Dates", "Filter.Created.SelectionMode", "Pagination.PageNumber", "Pagination.PageSize":
		default:
			answer(http.StatusNotImplemented)
			notModelled(w, "query parameter "+k)
			return
		}
	}
	size, err1 := strconv.Atoi(req.Size)
	page, err2 := strconv.Atoi(req.Page)
	if err1 != nil || err2 != nil || size < 1 || size > MaxAuditPageSize || page < 1 {
		answer(http.StatusNotImplemented)
		notModelled(w, "Pagination.PageSize 1–200 and Pagination.PageNumber ≥ 1 are modelled")
		return
	}
	if !strings.EqualFold(q.Get("Filter.Created.SelectionMode"), "Range") || len(req.Dates) != 2 {
		answer(http.StatusNotImplemented)
		notModelled(w, "only Filter.Created.SelectionMode=Range with two Filter.Created.Dates is modelled")
		return
	}
	from, ok1 := filterDate(req.Dates[0])
	to, ok2 := filterDate(req.Dates[1])
	if !ok1 || !ok2 {
		answer(http.StatusNotImplemented)
		notModelled(w, "a Filter.Created.Dates value outside the documented formats")
		return
	}
	var match []json.RawMessage
	for _, a := range s.audits {
		if !a.created.Before(from) && !a.created.After(to) {
			match = append(match, a.doc)
		}
	}
	data := []json.RawMessage{}
	if lo := (page - 1) * size; lo < len(match) {
		data = match[lo:min(lo+size, len(match))]
	}
	answer(http.StatusOK)
	writeJSON(w, http.StatusOK, map[string]any{
		"pageNumber": page, "pageSize": size, "totalRecordCount": len(match),
		"pageCount": (len(match) + size - 1) / size, "data": data,
	})
}

// notModelled answers a request the reference does not say how PM Cloud
// answers.
func notModelled(w http.ResponseWriter, what string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusNotImplemented)
	_, _ = w.Write([]byte("pmcloudtest: not modelled (the reference is silent): " + what))
}
