package siem

import (
	"context"
	"fmt"
	"strings"

	"switchboard/engine"
)

// Checkpoint keys: the slots the destination accepted, and the ones it
// refused for good (so a retry does not send them again).
const (
	keySent     = "sent"
	keyRejected = "rejected"
)

// destination is where a configuration's events go.
type destination interface {
	// name is how errors and results name it ("Splunk HEC").
	name() string
	// maxBytes is the most one request (or write) may carry.
	maxBytes() int
	// size is what one event adds to a request.
	size(e Encoded) int
	// send delivers one batch and says what became of each event.
	send(ctx context.Context, batch []Encoded) outcome
	// plan is the request send would make for batch, for a dry run.
	plan(batch []Encoded) planned
	// close releases connections held for the delivery.
	close()
}

// outcome is what a destination did with a batch, by position in it.
// Events in neither accepted nor rejected were not delivered: deferred
// ones are left for the next attempt (an item-level 429), the others are
// tried again in this attempt unless err says the whole request failed.
type outcome struct {
	accepted []int
	rejected map[int]string
	deferred []int
	// deferErr is why events were deferred.
	deferErr error
	err      error
}

// delivery is what a run delivered, for the job's result line.
type delivery struct {
	sent, skipped, rejected int
	// rejectedBefore were refused in an earlier attempt.
	rejectedBefore int
	firstReject    string
}

// deliver sends events in batches within the destination's limits,
// recording each batch's accepted and refused slots in the checkpoint the
// moment the destination answered, so a retry sends only the rest.
func deliver(ctx context.Context, job *engine.Job, d destination, events []Encoded, perRequest int) (delivery, error) {
	cp := job.Checkpoint
	sentRec, _ := cp.Get(keySent)
	rejRec, _ := cp.Get(keyRejected)
	sent, rejected := parseSlots(sentRec), parseSlots(rejRec)
	var res delivery
	queue := make([]Encoded, 0, len(events))
	for _, e := range events {
		if rejected[e.Index] {
			res.rejectedBefore++
			continue
		}
		if sent[e.Index] {
			res.skipped++
			continue
		}
		queue = append(queue, e)
	}
	var deferErr error
	for len(queue) > 0 {
		n := batchLen(d, queue, perRequest)
		batch := queue[:n]
		if err := job.CheckLease(ctx); err != nil {
			return res, err
		}
		out := d.send(ctx, batch)
		done := map[int]bool{}
		for _, i := range out.accepted {
			sent[batch[i].Index] = true
			done[i] = true
			res.sent++
		}
		for i, why := range out.rejected {
			rejected[batch[i].Index] = true
			done[i] = true
			res.rejected++
			if res.firstReject == "" {
				res.firstReject = fmt.Sprintf("%s: %s", batch[i].ID, why)
			}
		}
		for _, i := range out.deferred {
			done[i] = true
			deferErr = out.deferErr
		}
		if len(out.accepted) > 0 {
			if err := cp.Set(ctx, keySent, sent.String()); err != nil {
				return res, err
			}
		}
		if len(out.rejected) > 0 {
			if err := cp.Set(ctx, keyRejected, rejected.String()); err != nil {
				return res, err
			}
		}
		if out.err != nil {
			return res, out.err
		}
		if len(done) == 0 {
			return res, fmt.Errorf("siem: %s accepted none of %d events and gave no reason", d.name(), len(batch))
		}
		rest := queue[n:]
		if len(done) < len(batch) {
			// Not refused, not accepted: sent again in the next request.
			var again []Encoded
			for i := range batch {
				if !done[i] {
					again = append(again, batch[i])
				}
			}
			rest = append(again, rest...)
		}
		queue = rest
	}
	if deferErr != nil {
		return res, deferErr
	}
	if res.rejected > 0 {
		return res, engine.Permanent(fmt.Errorf("siem: %s refused %d events (first %s)", d.name(), res.rejected, res.firstReject))
	}
	if res.rejectedBefore > 0 {
		// The rest went out on a retry; the delivery still says that
		// some events never will.
		return res, engine.Permanent(fmt.Errorf("siem: %s refused %d events in an earlier attempt; the others are delivered", d.name(), res.rejectedBefore))
	}
	return res, nil
}

// batchLen is how many of queue's first events go into the next request:
// at most perRequest, within the destination's byte limit, at least one.
func batchLen(d destination, queue []Encoded, perRequest int) int {
	n, bytes := 0, 0
	for n < len(queue) && n < perRequest {
		sz := d.size(queue[n])
		if n > 0 && bytes+sz > d.maxBytes() {
			break
		}
		bytes += sz
		n++
	}
	return n
}

// summary is the delivery's result line.
func (r delivery) summary(dest string) string {
	parts := []string{fmt.Sprintf("%d events sent to %s", r.sent, dest)}
	if r.skipped > 0 {
		parts = append(parts, fmt.Sprintf("%d sent before", r.skipped))
	}
	if n := r.rejected + r.rejectedBefore; n > 0 {
		parts = append(parts, fmt.Sprintf("%d refused", n))
	}
	return strings.Join(parts, ", ")
}
