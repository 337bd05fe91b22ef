package beyondtrust

import (
	"strings"
	"time"
)

// Event types of session_details that the derived views read.
const (
	EventChatMessage    = "Chat Message"
	EventNoteAdded      = "Session Note Added"
	EventSystemInfo     = "System Information Retrieved"
	EventFileUpload     = "File Upload"
	EventFileDownload   = "File Download"
	EventFileDeleted    = "File Deleted"
	EventMemberAdded    = "Conference Member Added"
	EventSessionStart   = "Session Start"
	EventSessionEnd     = "Session End"
	ActorSystem         = "system"
	ActorCustomer       = "customer"
	ActorRepresentative = "representative"
)

// ChatLine is one message of the chat transcript.
type ChatLine struct {
	Time        time.Time
	Speaker     string
	SpeakerType string // system | customer | representative
	// To is the recipient's name for a private message, else "".
	To   string
	Text string
}

// System reports whether the appliance itself wrote the line.
func (c ChatLine) System() bool { return c.SpeakerType == ActorSystem }

// Chat returns the chat transcript in order, nil when there is none.
func (s *Session) Chat() []ChatLine {
	// Counted first so that a transcript of hundreds of lines is one
	// allocation, not a dozen growing copies (it is built per session end).
	n := 0
	for _, e := range s.Events {
		if e.Type == EventChatMessage {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]ChatLine, 0, n)
	for _, e := range s.Events {
		if e.Type != EventChatMessage {
			continue
		}
		out = append(out, ChatLine{
			Time:        e.Timestamp,
			Speaker:     e.PerformedBy.Name,
			SpeakerType: e.PerformedBy.Type,
			To:          e.Destination.Name,
			Text:        e.Body,
		})
	}
	return out
}

// Note is one session note a representative added.
type Note struct {
	Time   time.Time
	Author string
	Text   string
}

// Notes returns the session notes in order.
func (s *Session) Notes() []Note {
	var out []Note
	for _, e := range s.Events {
		if e.Type == EventNoteAdded {
			out = append(out, Note{Time: e.Timestamp, Author: e.PerformedBy.Name, Text: e.Body})
		}
	}
	return out
}

// SystemInfo returns the categories of the last system information the
// representative retrieved, or nil.
func (s *Session) SystemInfo() []SystemInfoCategory {
	for i := len(s.Events) - 1; i >= 0; i-- {
		if e := s.Events[i]; e.Type == EventSystemInfo && len(e.SystemInfo) > 0 {
			return e.SystemInfo
		}
	}
	return nil
}

// FileTransfer is one file moved or deleted during the session.
type FileTransfer struct {
	Time   time.Time
	Action string // upload | download | delete
	By     string
	Name   string
	Size   int64
}

// FileTransfers returns the file events in order, one line per file.
func (s *Session) FileTransfers() []FileTransfer {
	var out []FileTransfer
	for _, e := range s.Events {
		var action string
		switch e.Type {
		case EventFileUpload:
			action = "upload"
		case EventFileDownload:
			action = "download"
		case EventFileDeleted:
			action = "delete"
		default:
			continue
		}
		if len(e.Files) == 0 && e.Filename != "" {
			out = append(out, FileTransfer{Time: e.Timestamp, Action: action, By: e.PerformedBy.Name, Name: e.Filename, Size: e.Filesize})
		}
		for _, f := range e.Files {
			out = append(out, FileTransfer{Time: e.Timestamp, Action: action, By: e.PerformedBy.Name, Name: f.Name, Size: f.Size})
		}
	}
	return out
}

// PrimaryCustomerInfo returns the issue-submission details of the primary
// customer (or of the first customer when none is flagged primary).
func (s *Session) PrimaryCustomerInfo() (Customer, bool) {
	for _, c := range s.Customers {
		if c.Primary || (s.PrimaryCustomer.GSNumber != "" && c.GSNumber == s.PrimaryCustomer.GSNumber) {
			return c, true
		}
	}
	if len(s.Customers) > 0 {
		return s.Customers[0], true
	}
	return Customer{}, false
}

// PrimaryRepresentative returns the primary representative as the report's
// primary_rep names them, with their rep_list entry when rep_list holds it
// (matched by gsnumber, else by display name); listed is false when it
// does not, and the entry then holds only what primary_rep says. Where
// primary_rep and rep_list's flags disagree, primary_rep wins. Without a
// primary_rep, the entry flagged primary, else the first, is returned.
func (s *Session) PrimaryRepresentative() (rep Representative, listed bool) {
	p := s.PrimaryRep
	if p.GSNumber != "" {
		for _, r := range s.Reps {
			if r.GSNumber == p.GSNumber {
				return r, true
			}
		}
	}
	if p.Name != "" {
		for _, r := range s.Reps {
			if strings.EqualFold(r.DisplayName, p.Name) {
				return r, true
			}
		}
	}
	if p != (Person{}) {
		return Representative{GSNumber: p.GSNumber, ID: p.ID, DisplayName: p.Name}, false
	}
	for _, r := range s.Reps {
		if r.Primary {
			return r, true
		}
	}
	if len(s.Reps) > 0 {
		return s.Reps[0], true
	}
	return Representative{}, false
}

// SurveyAuthor names who submitted a survey of this session: the customer
// or representative whose gsnumber it carries, as the report names them;
// "" when the report does not say.
func (s *Session) SurveyAuthor(sv Survey) string {
	if sv.GSNumber == "" {
		return ""
	}
	if sv.SubmittedBy == ActorRepresentative {
		for _, r := range s.Reps {
			if r.GSNumber == sv.GSNumber && r.DisplayName != "" {
				return r.DisplayName
			}
		}
		if s.PrimaryRep.GSNumber == sv.GSNumber {
			return s.PrimaryRep.Name
		}
		return ""
	}
	for _, c := range s.Customers {
		if c.GSNumber == sv.GSNumber && c.Info.Name != "" {
			return c.Info.Name
		}
	}
	if s.PrimaryCustomer.GSNumber == sv.GSNumber {
		return s.PrimaryCustomer.Name
	}
	return ""
}

// ProductName is the product's name as reports print it; an unknown
// product prints as reported ("" when the report did not say).
func (s *Session) ProductName() string {
	switch s.Product {
	case ProductRS:
		return "Remote Support"
	case ProductPRA:
		return "Privileged Remote Access"
	}
	return s.Product
}
