package autotasktest

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Note is a stored ticket note.
type Note struct {
	ID                            int64  `json:"id"`
	TicketID                      int64  `json:"ticketID"`
	Title                         string `json:"title"`
	Description                   string `json:"description"`
	NoteType                      int64  `json:"noteType"`
	Publish                       int64  `json:"publish"`
	CreateDateTime                string `json:"createDateTime"`
	ImpersonatorCreatorResourceID int64  `json:"impersonatorCreatorResourceID"`
}

// Ticket is a stored ticket.
type Ticket struct {
	ID                     int64   `json:"id"`
	TicketNumber           string  `json:"ticketNumber"`
	Title                  string  `json:"title"`
	Description            string  `json:"description"`
	Status                 int64   `json:"status"`
	Priority               int64   `json:"priority"`
	QueueID                int64   `json:"queueID"`
	CompanyID              int64   `json:"companyID"`
	ContactID              int64   `json:"contactID"`
	IssueType              int64   `json:"issueType"`
	Source                 int64   `json:"source"`
	ExternalID             string  `json:"externalID"`
	AssignedResourceID     int64   `json:"assignedResourceID"`
	AssignedResourceRoleID int64   `json:"assignedResourceRoleID"`
	EstimatedHours         float64 `json:"estimatedHours"`
}

// TimeEntry is a stored time entry.
type TimeEntry struct {
	ID            int64   `json:"id"`
	TicketID      int64   `json:"ticketID"`
	ResourceID    int64   `json:"resourceID"`
	RoleID        int64   `json:"roleID"`
	BillingCodeID int64   `json:"billingCodeID"`
	DateWorked    string  `json:"dateWorked"`
	StartDateTime string  `json:"startDateTime"`
	EndDateTime   string  `json:"endDateTime"`
	HoursWorked   float64 `json:"hoursWorked"`
	SummaryNotes  string  `json:"summaryNotes"`
	InternalNotes string  `json:"internalNotes"`
	IsNonBillable bool    `json:"isNonBillable"`
}

// rows copies an entity's rows, optionally of one ticket, into typed values.
func rows[T any](s *Server, entity string, ticketID int64) []T {
	s.mu.Lock()
	e := s.ents[entity]
	src := e.rows
	if ticketID != 0 {
		src = e.byTicket[ticketID]
	}
	raw, err := json.Marshal(src)
	s.mu.Unlock()
	if err != nil {
		panic("autotasktest: " + err.Error())
	}
	var out []T
	if err := json.Unmarshal(raw, &out); err != nil {
		panic("autotasktest: " + err.Error())
	}
	return out
}

// Notes returns the notes of a ticket (0: of all tickets), oldest first.
func (s *Server) Notes(ticketID int64) []Note { return rows[Note](s, "ticketnotes", ticketID) }

// Tickets returns every ticket, fixtures first.
func (s *Server) Tickets() []Ticket { return rows[Ticket](s, "tickets", 0) }

// TimeEntries returns the time entries of a ticket (0: all).
func (s *Server) TimeEntries(ticketID int64) []TimeEntry {
	return rows[TimeEntry](s, "timeentries", ticketID)
}

// Stats are what the simulator saw of one entity endpoint.
type Stats struct {
	Requests       int // all requests, refused ones included
	MaxConcurrent  int // the most requests it served at once
	ThreadRejected int // requests refused by the thread limit
}

// Stats returns the counters of an endpoint (Tickets, TicketNotes, …).
func (s *Server) Stats(endpoint string) Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.requests {
		if strings.EqualFold(k, endpoint) {
			return Stats{Requests: s.requests[k], MaxConcurrent: s.maxSeen[k], ThreadRejected: s.rejected[k]}
		}
	}
	return Stats{}
}

// AllStats returns the counters of every endpoint called so far.
func (s *Server) AllStats() map[string]Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]Stats, len(s.requests))
	for k, n := range s.requests {
		out[k] = Stats{Requests: n, MaxConcurrent: s.maxSeen[k], ThreadRejected: s.rejected[k]}
	}
	return out
}

// AddNotes stores n notes on a ticket directly, titled "<prefix> <i>", so
// a test can give a ticket more notes than one query page holds.
func (s *Server) AddNotes(ticketID int64, prefix string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.ents["ticketnotes"]
	for i := range n {
		e.insert(record{"ticketID": ticketID, "title": prefix + " " + strconv.Itoa(i+1), "description": "filler", "noteType": int64(1), "publish": int64(2)})
	}
}
