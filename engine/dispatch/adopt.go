package dispatch

import (
	"context"
	"time"

	"switchboard/engine/store"
)

// Claim at insert: the intake stores a routed event's delivery already
// claimed for a worker of this engine that has a free slot (store.
// InsertClaim), and hands it over here once committed, so that the
// delivery needs no claim transaction of its own. The slot is reserved
// inside the insert's transaction (Take), before the delivery is claimed,
// and counted busy and in flight from then on: a loop never claims past
// its limit, and shutdown waits for a reserved slot as for a running
// delivery. A slot whose delivery was not claimed (it waits behind its
// session, or the insert failed) is given back (Give).

// accept opens the slots to claims at insert, for workers under work.
func (d *Dispatcher) accept(work context.Context) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.accepting, d.work = true, work
}

// refuse closes the slots to claims at insert. Deliveries whose slots were
// reserved before they closed still run under the work context, as Run
// drains them.
func (d *Dispatcher) refuse() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.accepting = false
}

// InsertClaim is the claim an insert makes for this engine's workers at
// now, or nil while the dispatcher is not running.
func (d *Dispatcher) InsertClaim(now time.Time) *store.InsertClaim {
	d.mu.Lock()
	accepting := d.accepting
	d.mu.Unlock()
	if !accepting {
		return nil
	}
	return &store.InsertClaim{Owner: d.opts.Owner, Lease: d.opts.Lease, At: now, Take: d.take, Give: d.give}
}

// take reserves a free slot of plugin's loop.
func (d *Dispatcher) take(plugin string) bool {
	l := d.byPlugin[plugin]
	if l == nil {
		return false
	}
	// d.mu orders the reservation before Run's wait for deliveries in
	// flight: once accepting is false no slot is taken.
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.accepting {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.busy >= l.limit {
		return false
	}
	l.busy++
	l.inflight.Add(1)
	return true
}

// give returns a slot take reserved.
func (d *Dispatcher) give(plugin string) { d.byPlugin[plugin].free() }

// Adopt starts the workers of deliveries claimed at insert at claimedAt,
// each in the slot reserved for it, after their insert committed.
func (d *Dispatcher) Adopt(ds []store.Delivery, claimedAt time.Time) {
	if len(ds) == 0 {
		return
	}
	d.mu.Lock()
	work := d.work
	d.mu.Unlock()
	for _, dl := range ds {
		d.byPlugin[dl.Plugin].run1(work, dl, claimedAt)
	}
}
