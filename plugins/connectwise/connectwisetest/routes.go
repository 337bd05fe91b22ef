package connectwisetest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// collection holds one record type in id order. Records are JSON objects
// as decoded (numbers are float64), so conditions see what a client sees.
type collection struct {
	rows []map[string]any
	seq  float64
}

func (c *collection) insert(rec map[string]any) map[string]any {
	rec = normalize(rec)
	if id, ok := rec["id"].(float64); ok && id > 0 {
		c.seq = max(c.seq, id)
	} else {
		c.seq++
		rec["id"] = c.seq
	}
	c.rows = append(c.rows, rec)
	return rec
}

func (c *collection) byID(id float64) map[string]any {
	for _, r := range c.rows {
		if r["id"] == id {
			return r
		}
	}
	return nil
}

// normalize round-trips a record through JSON.
func normalize(rec map[string]any) map[string]any {
	b, _ := json.Marshal(rec)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// coll returns a collection, creating it empty.
func (s *Server) coll(name string) *collection {
	c := s.data[name]
	if c == nil {
		c = &collection{}
		s.data[name] = c
	}
	return c
}

// listRoutes maps list paths to collections.
var listRoutes = map[string]string{
	"system/members":     "members",
	"service/tickets":    "tickets",
	"time/entries":       "timeentries",
	"service/boards":     "boards",
	"service/priorities": "priorities",
	"company/contacts":   "contacts",
	"company/companies":  "companies",
	"time/worktypes":     "worktypes",
	"time/workroles":     "workroles",
}

// route serves one authenticated request below the API root.
func (s *Server) route(w http.ResponseWriter, r *http.Request, rest string) {
	lower := strings.ToLower(rest)
	parts := strings.Split(lower, "/")
	if lower == "system/info" && r.Method == http.MethodGet {
		writeJSON(w, http.StatusOK, map[string]any{"version": "v2025.1.10000", "isCloud": true, "serverTimeZone": "Eastern Standard Time"})
		return
	}
	if name, ok := listRoutes[lower]; ok {
		switch {
		case r.Method == http.MethodGet:
			s.list(w, r, name, nil)
		case r.Method == http.MethodPost && name == "tickets":
			s.createTicket(w, r)
		case r.Method == http.MethodPost && name == "timeentries":
			s.createTimeEntry(w, r)
		default:
			writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The requested method is not allowed.")
		}
		return
	}
	if base, ok := strings.CutSuffix(lower, "/count"); ok && r.Method == http.MethodGet {
		if name, ok := listRoutes[base]; ok {
			s.count(w, r, name, nil)
			return
		}
	}
	if len(parts) >= 3 {
		id, err := strconv.ParseFloat(parts[2], 64)
		base := parts[0] + "/" + parts[1]
		name, known := listRoutes[base]
		if known && err == nil && id > 0 {
			s.child(w, r, base, name, id, parts[3:])
			return
		}
	}
	writeError(w, http.StatusNotFound, "NotFound", "The requested resource was not found.")
}

// child serves <base>/{id} and its sub-collections.
func (s *Server) child(w http.ResponseWriter, r *http.Request, base, name string, id float64, sub []string) {
	s.mu.Lock()
	rec := s.coll(name).byID(id)
	var board float64
	if rec != nil {
		board, _ = rec["id"].(float64)
	}
	s.mu.Unlock()
	if rec == nil {
		writeError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("%s with id %v was not found.", strings.TrimSuffix(name, "s"), id))
		return
	}
	scope := func(field string) func(map[string]any) bool {
		return func(row map[string]any) bool { return row[field] == id }
	}
	key := strings.Join(sub, "/")
	switch {
	case key == "" && r.Method == http.MethodGet:
		s.mu.Lock()
		out := normalize(rec)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, out)
	case base == "service/tickets" && key == "notes" && r.Method == http.MethodGet:
		s.list(w, r, "notes", scope("ticketId"))
	case base == "service/tickets" && key == "notes/count" && r.Method == http.MethodGet:
		s.count(w, r, "notes", scope("ticketId"))
	case base == "service/tickets" && key == "notes" && r.Method == http.MethodPost:
		s.createNote(w, r, id)
	case base == "service/tickets" && key == "timeentries" && r.Method == http.MethodGet:
		s.list(w, r, "timeentries", scope("chargeToId"))
	case base == "service/boards" && (key == "statuses" || key == "types") && r.Method == http.MethodGet:
		s.list(w, r, key, func(row map[string]any) bool {
			b, _ := row["board"].(map[string]any)
			return b != nil && b["id"] == board
		})
	default:
		writeError(w, http.StatusNotFound, "NotFound", "The requested resource was not found.")
	}
}

// filtered applies scope, conditions and childConditions; a condition the
// simulator cannot read is the caller's 400.
func (s *Server) filtered(r *http.Request, name string, scope func(map[string]any) bool) ([]map[string]any, error) {
	q := r.URL.Query()
	conds, err := parseConditions(q.Get("conditions"))
	if err != nil {
		return nil, fmt.Errorf("conditions: %w", err)
	}
	if s.opts.RefuseContains && (name == "notes" || name == "timeentries") && strings.Contains(strings.ToLower(q.Get("conditions")), "contains") {
		return nil, fmt.Errorf("conditions: contains is not supported on this field")
	}
	var child cond
	if text := q.Get("childConditions"); text != "" {
		if child, err = parseConditions(text); err != nil {
			return nil, fmt.Errorf("childConditions: %w", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, row := range s.coll(name).rows {
		if (scope == nil || scope(row)) && conds.match(row) && (child == nil || childMatch(child, row)) {
			out = append(out, normalize(row))
		}
	}
	return out, nil
}

// childMatch evaluates childConditions against each element of the
// record's arrays: a contact matches when one communication item does.
func childMatch(c cond, row map[string]any) bool {
	for k, v := range row {
		items, ok := v.([]any)
		if !ok {
			continue
		}
		for _, it := range items {
			if c.match(map[string]any{k: it}) {
				return true
			}
		}
	}
	return false
}

func (s *Server) count(w http.ResponseWriter, r *http.Request, name string, scope func(map[string]any) bool) {
	rows, err := s.filtered(r, name, scope)
	if err != nil {
		invalid(w, name, "conditions", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(rows)})
}

// list answers a bare JSON array with a Link header (reference §4):
// navigable paging by page, or with "pagination-type: forward-only" by
// pageId (an extra id > pageId), with only rel="next" links.
func (s *Server) list(w http.ResponseWriter, r *http.Request, name string, scope func(map[string]any) bool) {
	rows, err := s.filtered(r, name, scope)
	if err != nil {
		invalid(w, name, "conditions", err.Error())
		return
	}
	q := r.URL.Query()
	size := 25
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			invalid(w, name, "pageSize", "pageSize must be a positive number.")
			return
		}
		size = min(n, 1000)
	}
	self := &url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path}
	link := func(set func(url.Values), rel string) string {
		v := r.URL.Query()
		set(v)
		u := *self
		u.RawQuery = v.Encode()
		return "<" + u.String() + ">; rel=\"" + rel + "\""
	}
	var page []map[string]any
	var links []string
	if strings.EqualFold(r.Header.Get("pagination-type"), "forward-only") {
		after := 0.0
		if v := q.Get("pageId"); v != "" {
			if after, err = strconv.ParseFloat(v, 64); err != nil {
				invalid(w, name, "pageId", "pageId must be a record id.")
				return
			}
		}
		slices.SortFunc(rows, func(a, b map[string]any) int { return cmpFloat(a["id"].(float64), b["id"].(float64)) })
		rows = slices.DeleteFunc(rows, func(row map[string]any) bool { return row["id"].(float64) <= after })
		page = rows[:min(size, len(rows))]
		if len(rows) > size {
			last := strconv.FormatFloat(page[len(page)-1]["id"].(float64), 'f', -1, 64)
			links = append(links, link(func(v url.Values) { v.Set("pageId", last); v.Del("page") }, "next"))
		}
	} else {
		n := 1
		if v := q.Get("page"); v != "" {
			if n, err = strconv.Atoi(v); err != nil || n < 1 {
				invalid(w, name, "page", "page must be 1 or more.")
				return
			}
		}
		lastPage := max(1, (len(rows)+size-1)/size)
		from := min((n-1)*size, len(rows))
		page = rows[from:min(from+size, len(rows))]
		pageLink := func(p int, rel string) string {
			return link(func(v url.Values) { v.Set("page", strconv.Itoa(p)); v.Set("pageSize", strconv.Itoa(size)) }, rel)
		}
		if n > 1 {
			links = append(links, pageLink(1, "first"), pageLink(n-1, "prev"))
		}
		if n < lastPage {
			links = append(links, pageLink(n+1, "next"), pageLink(lastPage, "last"))
		}
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	if page == nil {
		page = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, page)
}
