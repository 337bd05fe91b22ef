package siem

import (
	"fmt"
	"slices"

	"switchboard/engine"
)

// Formats an event can be written in.
const (
	FormatECS = "ecs"
	FormatCEF = "cef"
	FormatRaw = "raw"
)

// Encoded is one event ready for a destination: a JSON document (ECS or
// raw) or a line of text (CEF).
type Encoded struct {
	ID   string
	Kind string
	// Index is the event's slot in the delivery's record of what was sent.
	Index int
	Event *Event
	JSON  bool
	Body  []byte
}

// Encode formats an event. Every string goes through engine.CleanText,
// so no control character reaches a SIEM.
func Encode(format string, e *Event, r Redaction) (Encoded, error) {
	out := Encoded{ID: e.ID, Kind: e.Kind, Index: e.Index, Event: e}
	switch format {
	case FormatCEF:
		out.Body = []byte(engine.CleanText(CEF(e, r)))
		return out, nil
	case FormatRaw:
		doc := Raw(e, r)
		out.JSON, out.Body = true, encodeJSON(nil, func(w *jsonWriter) { w.value(doc) })
		return out, nil
	case FormatECS, "":
		d := getDoc()
		ecs(d, e, r)
		d.buf = encodeJSON(d.buf[:0], d.appendJSON)
		out.JSON, out.Body = true, slices.Clone(d.buf)
		putDoc(d)
		return out, nil
	}
	return out, fmt.Errorf("siem: unknown format %q", format)
}
