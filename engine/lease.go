package engine

import (
	"context"
	"errors"
	"fmt"
)

// ErrLeaseLost means an attempt no longer holds its delivery: its lease ran
// out (a paused process, a plugin that ignored its context) and the
// delivery was rescued or handed back, so another attempt may be running it
// now. An attempt that sees it must stop without writing anything more: the
// store refuses its checkpoint, links and outcome, and a remote write it
// made anyway would be a duplicate the new attempt cannot see.
var ErrLeaseLost = errors.New("the delivery's lease was lost; another attempt may be running it")

// Lease is a running attempt's hold on its delivery, behind the fencing
// token its claim got. The dispatcher extends it (a heartbeat) while the
// plugin works and cancels the plugin's context, with ErrLeaseLost as the
// cause, the moment it is lost.
type Lease interface {
	// Check returns an error wrapping ErrLeaseLost once the attempt no
	// longer holds its delivery, and nil while it does.
	Check(ctx context.Context) error
}

// CheckLease returns an error wrapping ErrLeaseLost when the attempt has
// lost its delivery. A plugin calls it right before every remote write (a
// note, a ticket, a time entry), so that an attempt whose lease ran out
// during a slow step does not write beside the attempt that replaced it.
// It also fails when ctx was cancelled because the lease was lost. A job
// without a Lease (a one-off run outside the dispatcher) always holds it.
//
// A checkpoint written behind is persisted here first, so that the record
// of every earlier write is durable before the next one goes out.
func (j *Job) CheckLease(ctx context.Context) error {
	if errors.Is(context.Cause(ctx), ErrLeaseLost) {
		return context.Cause(ctx)
	}
	if j.Checkpoint != nil {
		if err := j.Checkpoint.Flush(ctx); err != nil {
			return fmt.Errorf("save the checkpoint before the next write: %w", err)
		}
	}
	if j.Lease == nil {
		return nil
	}
	return j.Lease.Check(ctx)
}
