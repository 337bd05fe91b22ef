package connectwisetest

import "encoding/json"

// Ticket is a stored service ticket, as tests read it.
type Ticket struct {
	ID           int64  `json:"id"`
	Summary      string `json:"summary"`
	ExternalXRef string `json:"externalXRef"`
	Board        Ref    `json:"board"`
	Status       Ref    `json:"status"`
	Priority     Ref    `json:"priority"`
	Type         Ref    `json:"type"`
	Company      Ref    `json:"company"`
	Contact      Ref    `json:"contact"`
	// InitialDescription is what the ticket was created with.
	InitialDescription string `json:"_initialDescription"`
}

// Ref is a reference to another record.
type Ref struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	Identifier string `json:"identifier"`
}

// Note is a stored ticket note.
type Note struct {
	ID                    int64  `json:"id"`
	TicketID              int64  `json:"ticketId"`
	Text                  string `json:"text"`
	DetailDescriptionFlag bool   `json:"detailDescriptionFlag"`
	InternalAnalysisFlag  bool   `json:"internalAnalysisFlag"`
	ResolutionFlag        bool   `json:"resolutionFlag"`
	Member                Ref    `json:"member"`
}

// TimeEntry is a stored time entry.
type TimeEntry struct {
	ID             int64   `json:"id"`
	ChargeToID     int64   `json:"chargeToId"`
	ChargeToType   string  `json:"chargeToType"`
	Member         Ref     `json:"member"`
	TimeStart      string  `json:"timeStart"`
	TimeEnd        string  `json:"timeEnd"`
	ActualHours    float64 `json:"actualHours"`
	BillableOption string  `json:"billableOption"`
	Notes          string  `json:"notes"`
	InternalNotes  string  `json:"internalNotes"`
	WorkType       Ref     `json:"workType"`
	WorkRole       Ref     `json:"workRole"`
}

// snapshot decodes the rows of a collection that keep returns true for.
func snapshot[T any](s *Server, name string, keep func(map[string]any) bool) []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []T
	for _, row := range s.coll(name).rows {
		if keep != nil && !keep(row) {
			continue
		}
		b, _ := json.Marshal(row)
		var v T
		_ = json.Unmarshal(b, &v)
		out = append(out, v)
	}
	return out
}

// Tickets lists every ticket in id order.
func (s *Server) Tickets() []Ticket { return snapshot[Ticket](s, "tickets", nil) }

// Notes lists a ticket's notes in the order they were added.
func (s *Server) Notes(ticket int64) []Note {
	return snapshot[Note](s, "notes", func(r map[string]any) bool { return r["ticketId"] == float64(ticket) })
}

// TimeEntries lists the time entries charged to a ticket.
func (s *Server) TimeEntries(ticket int64) []TimeEntry {
	return snapshot[TimeEntry](s, "timeentries", func(r map[string]any) bool { return r["chargeToId"] == float64(ticket) })
}

// AddTicket stores a ticket as given (fields as in a ticket's JSON) and
// returns its id.
func (s *Server) AddTicket(fields map[string]any) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := map[string]any{"recordType": "ServiceTicket", "closedFlag": false}
	for k, v := range fields {
		rec[k] = v
	}
	return int64(s.coll("tickets").insert(rec)["id"].(float64))
}
