package autotask

import (
	"context"
	"errors"
	"slices"
	"strings"
)

// findMarked finds the record of entity within scope (a ticket's notes,
// say) whose field holds mark: the write of an earlier attempt whose
// checkpoint was lost. It asks Autotask to filter with contains, which the
// reference lists as an operator without saying which fields take it
// (autotask-api.md §4). A tenant that refuses the filter gets the records
// of the scope listed, every page, and matched here; the refusal is
// remembered for the client so later searches list at once.
func (r *run) findMarked(ctx context.Context, entity string, scope []Filter, field, mark string) (int64, bool, error) {
	if !r.at.refusesContains(entity) {
		id, ok, err := r.at.FirstID(ctx, entity, append(slices.Clone(scope), Filter{Op: "contains", Field: field, Value: mark})...)
		var ae *APIError
		// Only a refusal of the query: a failing server is retried, not
		// taken for a tenant without contains.
		if err == nil || !errors.As(err, &ae) || ae.Problem != ProblemRejected {
			return id, ok, err
		}
		r.at.rememberContainsRefused(entity)
		r.log.Warn("autotask: the tenant refused a contains filter; listing the ticket's records instead", "entity", entity, "field", field, "error", err.Error())
	}
	var rows []map[string]any
	if err := r.at.Query(ctx, entity, Query{Filter: scope, IncludeFields: []string{"id", field}}, &rows); err != nil {
		return 0, false, err
	}
	for _, row := range rows {
		var id float64
		var text string
		for k, v := range row {
			switch {
			case strings.EqualFold(k, "id"):
				id, _ = v.(float64)
			case strings.EqualFold(k, field):
				text, _ = v.(string)
			}
		}
		if id > 0 && strings.Contains(text, mark) {
			return int64(id), true, nil
		}
	}
	return 0, false, nil
}

// refusesContains reports whether the tenant refused a contains filter on
// entity before.
func (c *Client) refusesContains(entity string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.noContains[entity]
}

func (c *Client) rememberContainsRefused(entity string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.noContains[entity] = true
}
