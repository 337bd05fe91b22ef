package siem

import (
	"fmt"

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
	case FormatRaw, FormatECS, "":
		var doc map[string]any
		if format == FormatRaw {
			doc = Raw(e, r)
		} else {
			doc = ecs(e, r)
		}
		b, err := engine.MarshalClean(doc)
		if err != nil {
			return out, fmt.Errorf("siem: encode event %s: %w", e.ID, err)
		}
		out.JSON, out.Body = true, b
		return out, nil
	}
	return out, fmt.Errorf("siem: unknown format %q", format)
}
