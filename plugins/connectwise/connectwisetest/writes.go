package connectwisetest

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"
)

// decodeBody reads a JSON object body; a body that is not one is a 400.
func decodeBody(w http.ResponseWriter, r *http.Request, resource string) (map[string]any, bool) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	var body map[string]any
	if err == nil {
		err = json.Unmarshal(b, &body)
	}
	if err != nil || body == nil {
		writeError(w, http.StatusBadRequest, "InvalidObject", resource+" object is invalid",
			fieldError{Code: "InvalidObject", Message: "The request body is not a JSON object.", Resource: resource})
		return nil, false
	}
	return body, true
}

// resolve finds the record a reference {id|identifier|name} names, among
// the rows scope keeps; ok false when it names none.
func (s *Server) resolve(name string, ref any, scope func(map[string]any) bool) (map[string]any, bool) {
	m, isObj := ref.(map[string]any)
	if !isObj {
		return nil, false
	}
	for _, row := range s.coll(name).rows {
		if scope != nil && !scope(row) {
			continue
		}
		switch {
		case m["id"] != nil:
			if row["id"] == m["id"] {
				return row, true
			}
		case m["identifier"] != nil:
			if row["identifier"] == m["identifier"] {
				return row, true
			}
		case m["name"] != nil:
			if row["name"] == m["name"] {
				return row, true
			}
		}
	}
	return nil, false
}

// ref is the short form of a record in another record.
func ref(row map[string]any, fields ...string) map[string]any {
	out := map[string]any{"id": row["id"]}
	for _, f := range fields {
		if v, ok := row[f]; ok {
			out[f] = v
		}
	}
	return out
}

func onBoard(board any) func(map[string]any) bool {
	return func(row map[string]any) bool {
		b, _ := row["board"].(map[string]any)
		return b != nil && b["id"] == board
	}
}

// createTicket follows reference §5.3: summary (≤100) and company are
// required; board, status (of the board), priority, type (of the board)
// and contact must exist; externalXRef is at most 100.
func (s *Server) createTicket(w http.ResponseWriter, r *http.Request) {
	body, ok := decodeBody(w, r, "ticket")
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	summary, _ := body["summary"].(string)
	switch {
	case strings.TrimSpace(summary) == "":
		invalid(w, "ticket", "summary", "The summary field is required.")
		return
	case len([]rune(summary)) > 100:
		invalid(w, "ticket", "summary", "The summary field can be at most 100 characters.")
		return
	}
	if x, _ := body["externalXRef"].(string); len([]rune(x)) > 100 {
		invalid(w, "ticket", "externalXRef", "The externalXRef field can be at most 100 characters.")
		return
	}
	company, ok := s.resolve("companies", body["company"], nil)
	if !ok {
		invalid(w, "ticket", "company", "The company field is required and must name an existing company.")
		return
	}
	body["company"] = ref(company, "identifier", "name")
	var board map[string]any
	if body["board"] != nil {
		if board, ok = s.resolve("boards", body["board"], nil); !ok {
			invalid(w, "ticket", "board", "The board was not found.")
			return
		}
		body["board"] = ref(board, "name")
	}
	for _, f := range []struct{ field, coll string }{{"status", "statuses"}, {"type", "types"}} {
		if body[f.field] == nil {
			continue
		}
		if board == nil {
			invalid(w, "ticket", f.field, "The "+f.field+" needs a board.")
			return
		}
		row, ok := s.resolve(f.coll, body[f.field], onBoard(board["id"]))
		if !ok {
			invalid(w, "ticket", f.field, "The "+f.field+" is not valid for the board "+fmt.Sprint(board["name"])+".")
			return
		}
		body[f.field] = ref(row, "name")
	}
	if body["priority"] != nil {
		row, ok := s.resolve("priorities", body["priority"], nil)
		if !ok {
			invalid(w, "ticket", "priority", "The priority was not found.")
			return
		}
		body["priority"] = ref(row, "name")
	}
	if body["contact"] != nil {
		row, ok := s.resolve("contacts", body["contact"], nil)
		if !ok {
			invalid(w, "ticket", "contact", "The contact was not found.")
			return
		}
		body["contact"] = map[string]any{"id": row["id"], "name": fmt.Sprint(row["firstName"], " ", row["lastName"])}
	}
	// initialDescription is POST-only, never returned (§5.3); the
	// simulator keeps it under its own key for tests to read.
	if d, ok := body["initialDescription"]; ok {
		body["_initialDescription"] = d
		delete(body, "initialDescription")
	}
	delete(body, "id")
	body["recordType"] = "ServiceTicket"
	body["closedFlag"] = false
	body["_info"] = map[string]any{"dateEntered": s.opts.Now().UTC().Format(time.RFC3339)}
	writeJSON(w, http.StatusCreated, s.coll("tickets").insert(body))
}

// createNote follows reference §5.1. Whether a note without any flag is
// refused is unverified, so it is taken.
func (s *Server) createNote(w http.ResponseWriter, r *http.Request, ticket float64) {
	body, ok := decodeBody(w, r, "ticketNote")
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, _ := body["text"].(string); strings.TrimSpace(t) == "" {
		invalid(w, "ticketNote", "text", "The text field is required.")
		return
	}
	if body["member"] != nil {
		m, ok := s.resolve("members", body["member"], nil)
		if !ok {
			invalid(w, "ticketNote", "member", "The member was not found.")
			return
		}
		body["member"] = ref(m, "identifier", "name")
	}
	delete(body, "id")
	body["ticketId"] = ticket
	now := s.opts.Now().UTC().Format(time.RFC3339)
	body["dateCreated"] = now
	body["createdBy"] = s.opts.PublicKey
	body["_info"] = map[string]any{"lastUpdated": now, "updatedBy": s.opts.PublicKey}
	writeJSON(w, http.StatusCreated, s.coll("notes").insert(body))
}

var (
	chargeToTypes   = []string{"ServiceTicket", "ProjectTicket", "ChargeCode", "Activity"}
	billableOptions = []string{"Billable", "DoNotBill", "NoCharge", "NoDefault"}
)

// createTimeEntry follows reference §5.2: timeStart is required, a
// service ticket must exist and its status must allow time, the member,
// work type and work role must exist, billableOption is one of four.
func (s *Server) createTimeEntry(w http.ResponseWriter, r *http.Request) {
	body, ok := decodeBody(w, r, "timeEntry")
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	start, err := time.Parse(time.RFC3339, fmt.Sprint(body["timeStart"]))
	if err != nil {
		invalid(w, "timeEntry", "timeStart", "The timeStart field is required (UTC ISO-8601).")
		return
	}
	if ct, ok := body["chargeToType"].(string); ok && !slices.Contains(chargeToTypes, ct) {
		invalid(w, "timeEntry", "chargeToType", "chargeToType must be one of "+strings.Join(chargeToTypes, ", ")+".")
		return
	}
	if bo, ok := body["billableOption"].(string); ok && !slices.Contains(billableOptions, bo) {
		invalid(w, "timeEntry", "billableOption", "billableOption must be one of "+strings.Join(billableOptions, ", ")+".")
		return
	}
	if body["chargeToType"] == "ServiceTicket" {
		t := s.coll("tickets").byID(toFloat(body["chargeToId"]))
		if t == nil {
			invalid(w, "timeEntry", "chargeToId", "The chargeToId field must name an existing ticket.")
			return
		}
		st, _ := t["status"].(map[string]any)
		if st != nil {
			if row := s.coll("statuses").byID(toFloat(st["id"])); row != nil && row["timeEntryNotAllowed"] == true {
				invalid(w, "timeEntry", "chargeToId", "Time entries are not allowed on tickets in status "+fmt.Sprint(row["name"])+".")
				return
			}
		}
		body["ticket"] = ref(t, "summary")
		body["company"] = t["company"]
	}
	m, ok := s.resolve("members", body["member"], nil)
	if !ok || m["inactiveFlag"] == true {
		invalid(w, "timeEntry", "member", "The member field must name an active member.")
		return
	}
	body["member"] = ref(m, "identifier", "name")
	for _, f := range []struct{ field, coll string }{{"workType", "worktypes"}, {"workRole", "workroles"}} {
		if body[f.field] == nil {
			continue
		}
		row, ok := s.resolve(f.coll, body[f.field], nil)
		if !ok {
			invalid(w, "timeEntry", f.field, "The "+f.field+" was not found.")
			return
		}
		body[f.field] = ref(row, "name")
	}
	if end, err := time.Parse(time.RFC3339, fmt.Sprint(body["timeEnd"])); err == nil && body["actualHours"] == nil {
		body["actualHours"] = math.Round(end.Sub(start).Hours()*100) / 100
	}
	delete(body, "id")
	body["status"] = "Open"
	body["enteredBy"] = s.opts.PublicKey
	body["dateEntered"] = s.opts.Now().UTC().Format(time.RFC3339)
	writeJSON(w, http.StatusCreated, s.coll("timeentries").insert(body))
}

func toFloat(v any) float64 {
	f, _ := v.(float64)
	return f
}
