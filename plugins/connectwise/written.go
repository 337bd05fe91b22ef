package connectwise

import (
	"strconv"

	"switchboard/engine"
)

// Kinds of record a delivery reports (engine.Record.Kind).
const (
	recordTicket    = "ticket"
	recordNote      = "note"
	recordTimeEntry = "time_entry"
)

var _ engine.Reporter = (*Plugin)(nil)

// RecordKinds names what the plugin's deliveries record: the ticket they
// used or created, the notes and the time entry they added.
func (p *Plugin) RecordKinds() []engine.RecordKind {
	return []engine.RecordKind{{ID: recordTicket, Label: "Ticket"}, {ID: recordNote, Label: "Note"}, {ID: recordTimeEntry, Label: "Time entry"}}
}

// recordTicket reports the ticket the delivery wrote to; existing is false
// only when the delivery created it. The reference gives no web address
// for a ticket, so the record has no link.
func (r *run) recordTicket(id int64, existing bool) {
	r.job.Record(engine.Record{Kind: recordTicket, ID: strconv.FormatInt(id, 10), Title: "#" + strconv.FormatInt(id, 10), Existing: existing})
}

// recordOn reports a note or time entry added to a ticket.
func (r *run) recordOn(ticket int64, kind, id, title string, existing bool) {
	r.job.Record(engine.Record{Kind: kind, ID: id, Title: title, Ticket: "#" + strconv.FormatInt(ticket, 10), Existing: existing})
}
