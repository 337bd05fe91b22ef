package engine

import (
	"strings"
)

// Record is one object a delivery wrote to the remote system (or found
// written by an earlier attempt): what the admin looks for after a session.
type Record struct {
	// Kind is one of the plugin's RecordKinds ("ticket", "note", ...).
	Kind string `json:"kind"`
	// ID is the remote system's id of the object.
	ID string `json:"id"`
	// Title is what a person recognises it by: a ticket number, a note's
	// title, "1.50 h".
	Title string `json:"title,omitempty"`
	// URL opens the object in the remote system's web UI, when the plugin
	// can build one.
	URL string `json:"url,omitempty"`
	// Existing marks an object that was there before this delivery: the
	// ticket the session named, or a write found again by its marker (a
	// replay). It was not written twice.
	Existing bool `json:"existing,omitempty"`
	// Ticket names the ticket (number or id) the object was added to.
	Ticket string `json:"ticket,omitempty"`
}

// RecordKind names one kind of Record for people.
type RecordKind struct {
	ID    string
	Label string
}

// Reporter is the optional capability of a plugin whose deliveries record
// what they wrote with Job.Record. Declaring it lets the admin UI say that
// a finished delivery with no records wrote nothing, rather than that the
// plugin does not tell.
type Reporter interface {
	// RecordKinds lists the kinds of record the plugin reports, in the
	// order they are shown.
	RecordKinds() []RecordKind
}

// Record notes an object the delivery wrote or found; recording the same
// kind and id again replaces the earlier record. Like the rest of Job it is
// used by the goroutine running Handle (a plugin that records from several
// goroutines serialises them itself).
func (j *Job) Record(r Record) {
	for i := range j.records {
		if j.records[i].Kind == r.Kind && j.records[i].ID == r.ID {
			j.records[i] = r
			return
		}
	}
	j.records = append(j.records, r)
}

// Records returns what Record noted, in the order noted.
func (j *Job) Records() []Record {
	return append([]Record(nil), j.records...)
}

// shortTitle is the longest title a summary line repeats; longer ones (a
// note's title) are on the delivery's page.
const shortTitle = 24

// Summarize is the one-line summary of records for lists:
// "Ticket T20240101.0001 · Note 12 · Time entry 34 (1.50 h)". A ticket is
// named by its title (its number); kinds gives the labels, and a kind it
// does not name is shown by its id.
func Summarize(records []Record, kinds []RecordKind) string {
	parts := make([]string, 0, len(records))
	for _, r := range records {
		label := r.Kind
		for _, k := range kinds {
			if k.ID == r.Kind {
				label = k.Label
				break
			}
		}
		part := label + " " + r.ID
		switch {
		case r.Title == "" || r.Title == r.ID:
		case r.Kind == "ticket":
			part = label + " " + r.Title
		case len([]rune(r.Title)) <= shortTitle:
			part += " (" + r.Title + ")"
		}
		if r.Existing && r.Kind != "ticket" {
			part += ", already there"
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, " · ")
}
