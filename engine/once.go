package engine

import (
	"context"
	"errors"

	"switchboard/engine/outbound"
)

// onceTimeoutRetries is how many times Once looks again and creates again
// after a create whose request timed out, within one attempt.
const onceTimeoutRetries = 2

// Once makes one external write at most once, however often the delivery
// runs (invariant 5): the checkpoint first (a write this delivery
// recorded), then find (a write of an earlier attempt whose checkpoint
// was lost, found by the marker the plugin put in it), then, holding the
// lease (CheckLease), create; what find or create returns is checkpointed
// under key before Once returns. existing is true when find found the
// write (it was there before this attempt wrote anything); a value the
// checkpoint holds was written by this delivery and is not existing.
//
// A create whose request timed out may have been carried out, so Once
// looks for it again and creates only if it is not there, a few times
// within the attempt: a slow answer costs a request, not an attempt.
func (j *Job) Once(ctx context.Context, key string, find func(context.Context) (string, bool, error), create func(context.Context) (string, error)) (value string, existing bool, err error) {
	if j.Checkpoint == nil {
		// Without a store behind it (a one-off run), writes are still
		// found again by their markers.
		j.Checkpoint = NewCheckpoint(nil, nil)
	}
	if v, ok := j.Checkpoint.Get(key); ok {
		return v, false, nil
	}
	for try := 0; ; try++ {
		v, found, err := find(ctx)
		if err != nil {
			return "", false, err
		}
		if found {
			if j.Log != nil {
				j.Log.Info("found the write of an earlier attempt", "write", key, "id", v)
			}
		} else {
			if err := j.CheckLease(ctx); err != nil {
				return "", false, err
			}
			v, err = j.create(ctx, key, create)
			if err != nil {
				if try < onceTimeoutRetries && outbound.TimedOut(err) && ctx.Err() == nil && !errors.Is(err, ErrLeaseLost) {
					continue
				}
				return "", false, err
			}
		}
		if found {
			j.Explain("write", "%s is already there (id %s, found by its marker): it would not be written again", key, v)
		}
		if err := j.Checkpoint.Set(ctx, key, v); err != nil {
			return "", false, err
		}
		return v, found, nil
	}
}

// create runs create; in a dry run the write it attempts is planned, not
// sent, and counts as done with an empty value.
func (j *Job) create(ctx context.Context, key string, create func(context.Context) (string, error)) (string, error) {
	if j.Plan == nil {
		return create(ctx)
	}
	defer j.Plan.under(key)()
	v, err := create(ctx)
	if errors.Is(err, outbound.ErrNotSent) {
		return "", nil
	}
	return v, err
}
