package autotask

import (
	"context"
	"encoding/json"
	"time"
)

// refTTL is how long an id found by name is reused: a resource by its
// e-mail, a role by its name. They change as rarely as picklists
// (fieldsTTL), and every time entry needs both: looked up per session,
// they were two of its seven requests, spent against the tenant's 10,000
// an hour.
const refTTL = fieldsTTL

type refEntry struct {
	at time.Time
	id int64
}

// RefID is FirstID for reference data: an id it found is remembered for
// refTTL and returned without a request meanwhile. A miss is not
// remembered, so that a resource or role the admin adds is seen at once.
func (c *Client) RefID(ctx context.Context, entity string, filters ...Filter) (int64, bool, error) {
	b, err := json.Marshal(filters)
	if err != nil {
		return 0, false, err
	}
	key := entity + " " + string(b)
	c.mu.Lock()
	e, ok := c.refs[key]
	c.mu.Unlock()
	if ok && time.Since(e.at) < refTTL {
		return e.id, true, nil
	}
	id, found, err := c.FirstID(ctx, entity, filters...)
	if err != nil || !found {
		return id, found, err
	}
	c.mu.Lock()
	c.refs[key] = refEntry{at: time.Now(), id: id}
	c.mu.Unlock()
	return id, true, nil
}

// ForgetRefs drops every remembered id, after Autotask refused a write
// that named them: one may have been deactivated meanwhile, and the
// retry must look again.
func (c *Client) ForgetRefs() {
	c.mu.Lock()
	clear(c.refs)
	c.mu.Unlock()
}
