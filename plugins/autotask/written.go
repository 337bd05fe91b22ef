package autotask

import (
	"net/url"
	"strconv"
	"strings"

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

// ticketURL opens a ticket in Autotask's web UI by its number, through the
// ExecuteCommand API (<web URL>Autotask/AutotaskExtend/ExecuteCommand.aspx
// ?Code=OpenTicketDetail&TicketNumber=...); empty when the zone's web
// address is unknown (a configured Services URL) or the number is.
func (r *run) ticketURL(t ticketRef) string {
	web := r.at.WebURL()
	if web == "" || t.Number == "" {
		return ""
	}
	return strings.TrimSuffix(web, "/") + "/Autotask/AutotaskExtend/ExecuteCommand.aspx?Code=OpenTicketDetail&TicketNumber=" + url.QueryEscape(t.Number)
}

// recordTicket reports the ticket the delivery wrote to; existing is false
// only when the delivery created it.
func (r *run) recordTicket(t ticketRef, existing bool) {
	r.job.Record(engine.Record{Kind: recordTicket, ID: strconv.FormatInt(t.ID, 10), Title: t.Number, URL: r.ticketURL(t), Existing: existing})
}

// recordOn reports a note or time entry added to ticket t.
func (r *run) recordOn(t ticketRef, kind, id, title string, existing bool) {
	r.job.Record(engine.Record{Kind: kind, ID: id, Title: title, Ticket: t.String(), URL: r.ticketURL(t), Existing: existing})
}
