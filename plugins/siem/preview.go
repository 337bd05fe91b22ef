package siem

import (
	"fmt"
	"net/url"

	"switchboard/engine"
	"switchboard/engine/outbound"
)

var _ engine.Previewer = (*Plugin)(nil)

// PreviewEvents are the events a delivery preview ("Preview delivery")
// can plan: all of them.
func (p *Plugin) PreviewEvents() []string { return Events }

// planned is the request a destination would get for a batch, as a dry
// run shows it: no headers (they carry the credential).
type planned struct {
	method, path, contentType string
	body                      []byte
	// refused counts events the destination would be sent none of
	// (Sekoia's event size limit).
	refused int
}

// urlPath is a URL's path and query, as a plan shows it.
func urlPath(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.RequestURI()
}

// planDelivery is Handle for a dry run: it records each request the
// delivery would make, in the batches deliver would make them, and sends
// nothing. Bodies pass through the configuration's redactor, as the
// connector kit's plans do.
func planDelivery(job *engine.Job, set *Settings, d destination, events []Encoded) error {
	red := set.redactor()
	requests, refused := 0, 0
	for queue := events; len(queue) > 0; requests++ {
		n := batchLen(d, queue, set.batchEvents())
		r := d.plan(queue[:n])
		refused += r.refused
		job.Plan.PlanWrite(outbound.PlannedRequest{
			System: ID, Method: r.method, Path: red.String(r.path), Op: d.name(),
			Body: []byte(red.String(string(r.body))), ContentType: r.contentType,
		})
		queue = queue[n:]
	}
	job.Explain("events", "%d events to forward, %s to %s", len(events), events[0].ID, events[len(events)-1].ID)
	job.Explain("destination", "%s: %d requests of at most %d events (Events per Request) within its size limit", d.name(), requests, set.batchEvents())
	if refused > 0 {
		job.Explain("destination", "%d events are over %s's event size limit and would be refused by name", refused, d.name())
	}
	job.SetResult(fmt.Sprintf("would send %d events to %s in %d requests", len(events)-refused, d.name(), requests))
	return nil
}
