package bttest

import (
	"sync/atomic"
	"time"
)

// Clock is a clock tests move by hand. Share one between the simulator
// (WithClock) and the code under test so that both agree on "now".
type Clock struct{ ns atomic.Int64 }

// NewClock returns a clock that reads start until moved.
func NewClock(start time.Time) *Clock {
	c := &Clock{}
	c.ns.Store(start.UnixNano())
	return c
}

// Now reads the clock.
func (c *Clock) Now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }
