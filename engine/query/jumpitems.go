package query

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"switchboard/engine/beyondtrust"
)

// Bounds of a jump-items page: the Configuration API's per_page.
const (
	minJumpItemsLimit = 5
	maxJumpItemsLimit = beyondtrust.MaxConfigPerPage
)

// JumpItem is one item of the jump-items query: the Configuration API's
// object for a Jump Item of Type, as the appliance gave it.
type JumpItem struct {
	Type     string          `json:"type"`
	JumpItem json.RawMessage `json:"jump_item"`
}

// jumpItemsParams checks the parameters of jump-items: type is required,
// limit is a Configuration API page (5 to 100), no window.
func jumpItemsParams(q map[string][]string, p *Params) error {
	for _, name := range []string{"from", "to", "by", "lsid", "team_id"} {
		if _, ok := q[name]; ok {
			return bad("%s is not a parameter of jump-items: it lists the Jump Items configured now", name)
		}
	}
	p.Type = strings.TrimSpace(first(q["type"]))
	if !slices.Contains(beyondtrust.JumpItemTypes[beyondtrust.ProductPRA], p.Type) {
		return bad("type is required: one of %s (remote-rdp, shell-jump and remote-vnc on Remote Support)", strings.Join(beyondtrust.JumpItemTypes[beyondtrust.ProductPRA], ", "))
	}
	if _, given := q["limit"]; given && (p.Limit < minJumpItemsLimit || p.Limit > maxJumpItemsLimit) {
		return bad("limit of jump-items must be %d to %d, the Configuration API's page size", minJumpItemsLimit, maxJumpItemsLimit)
	}
	if p.Cursor != "" {
		if _, _, ok := jumpCursor(p.Cursor); !ok {
			return bad("cursor is not one this API gave; pass next_cursor of the previous page as it is")
		}
	}
	return nil
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// jumpCursor reads "page:skip": the appliance's page to read, and how many
// of its items the previous answer gave already.
func jumpCursor(s string) (page, skip int, ok bool) {
	a, b, found := strings.Cut(s, ":")
	page, err1 := strconv.Atoi(a)
	skip, err2 := strconv.Atoi(b)
	return page, skip, found && err1 == nil && err2 == nil && page >= 1 && skip >= 0 && skip <= maxJumpItemsLimit
}

// jumpItems answers jump-items: one Configuration API call, GET
// /api/config/v1/jump-item/<type> with per_page = limit and current_page
// from the cursor, its items in the appliance's order. The next page is
// the appliance's next one (X-BT-Pagination-Last-Page, else the Link
// header's "next", else a full page); a page cut by the size cap goes on
// within the same appliance page.
func jumpItems(ctx context.Context, c Appliance, p Params, page *Page) error {
	if !slices.Contains(beyondtrust.JumpItemTypes[c.Product()], p.Type) {
		return bad("type %q is not a Jump Item type of Remote Support: one of %s", p.Type, strings.Join(beyondtrust.JumpItemTypes[c.Product()], ", "))
	}
	pageNo, skip := 1, 0
	if p.Cursor != "" {
		pageNo, skip, _ = jumpCursor(p.Cursor)
	}
	cp, err := c.ConfigList(ctx, "jump-item/"+p.Type, nil, p.Limit, pageNo)
	if err != nil {
		return err
	}
	items := make([]keyed, 0, len(cp.Items))
	for i, raw := range cp.Items[min(skip, len(cp.Items)):] {
		items = append(items, keyed{fmt.Sprintf("%d:%d", pageNo, skip+i+1), JumpItem{Type: p.Type, JumpItem: raw}})
	}
	if err := fill(page, items, len(items), false); err != nil {
		return err
	}
	if len(page.Items) < len(items) {
		return nil // cut by the size cap: the cursor resumes within this page
	}
	more := len(cp.Items) == p.Limit || cp.Next
	if cp.LastPage > 0 {
		more = pageNo < cp.LastPage
	}
	page.NextCursor = ""
	if more {
		page.NextCursor = encodeCursor(fmt.Sprintf("%d:0", pageNo+1))
	}
	return nil
}
