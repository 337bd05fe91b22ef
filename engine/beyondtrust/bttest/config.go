package bttest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"switchboard/engine/beyondtrust"
)

// PathConfig is the Configuration API's root.
const PathConfig = "/api/config/v1/"

// ConfigJumpItem is a Jump Item of the Configuration API
// (GET /api/config/v1/jump-item/<Type>). The simulator serves the fields
// every Jump Item type shares in BeyondTrust's OpenAPI description,
// https://github.com/BeyondTrust/terraform-provider-sra
// openapi/bt-pra-configuration.openapi.yaml (RemoteRdpJumpItem,
// ShellJumpItem, RemoteVncJumpItem, WebJumpItem, …): id, name,
// jumpoint_id, hostname (not of a Web Jump), jump_group_id,
// jump_group_type, tag and comments — fewer than the appliance has.
type ConfigJumpItem struct {
	Type          string // the path's type, e.g. "shell-jump"
	ID            int
	Name          string
	JumpointID    int
	Hostname      string // "" leaves it out (a Web Jump has a url instead)
	JumpGroupID   int
	JumpGroupType string // "shared" or "personal"
	Tag, Comments string
}

// AddConfigJumpItem adds Jump Items to the Configuration API's lists; an
// item without an id gets the next one.
func (a *Appliance) AddConfigJumpItem(items ...ConfigJumpItem) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, it := range items {
		if it.ID == 0 {
			it.ID = len(a.configItems) + 1
		}
		a.configItems = append(a.configItems, it)
	}
}

// serveConfig answers GET /api/config/v1/jump-item/<type> with one page
// of that type's Jump Items, in id order, and the pagination headers of the
// OpenAPI description's "Pagination" section.
func (a *Appliance) serveConfig(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, PathConfig)
	if a.inject(w, r, PathConfig, path) {
		return
	}
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	a.mu.Lock()
	defer a.mu.Unlock()
	acc, ok := a.account(tok)
	switch {
	case !ok:
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "access_denied", "message": "The resource owner or authorization server denied the request."})
		return
	case !acc.Config:
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "This API account may not use the Configuration API."})
		return
	case r.Method != http.MethodGet:
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	typ, found := strings.CutPrefix(path, "jump-item/")
	if !found || !slices.Contains(beyondtrust.JumpItemTypes[a.product], typ) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "Not found"})
		return
	}
	q := r.URL.Query()
	for name := range q {
		if name != "per_page" && name != "current_page" {
			// "For a GET operation, [401] indicates you supplied
			// unrecognized query string parameters" (the filters are
			// not simulated).
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unrecognized query parameter " + name})
			return
		}
	}
	perPage, page := 100, 1
	if v := q.Get("per_page"); v != "" {
		perPage, _ = strconv.Atoi(v)
	}
	if v := q.Get("current_page"); v != "" {
		page, _ = strconv.Atoi(v)
	}
	if perPage < 5 || perPage > 100 || page < 1 {
		// The status of a bad page parameter is not documented; 422 is
		// the description's status for malformed data.
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": "per_page must be 5 to 100 and current_page at least 1"})
		return
	}
	var all []ConfigJumpItem
	for _, it := range a.configItems {
		if it.Type == typ {
			all = append(all, it)
		}
	}
	slices.SortFunc(all, func(x, y ConfigJumpItem) int { return x.ID - y.ID })
	last := max(1, (len(all)+perPage-1)/perPage)
	from, to := min(len(all), (page-1)*perPage), min(len(all), page*perPage)
	out := make([]map[string]any, 0, to-from)
	for _, it := range all[from:to] {
		m := map[string]any{"id": it.ID, "name": it.Name, "jumpoint_id": it.JumpointID, "jump_group_id": it.JumpGroupID,
			"jump_group_type": it.JumpGroupType, "tag": it.Tag, "comments": it.Comments}
		if it.Hostname != "" {
			m["hostname"] = it.Hostname
		}
		out = append(out, m)
	}
	link := func(p int, rel string) string {
		return fmt.Sprintf(`<%s%s%s?per_page=%d&current_page=%d>; rel="%s"`, a.srv.URL, PathConfig, path, perPage, p, rel)
	}
	links := []string{link(1, "first")}
	if page > 1 {
		links = append(links, link(page-1, "previous"))
	}
	if page < last {
		links = append(links, link(page+1, "next"))
	}
	links = append(links, link(last, "last"))
	h := w.Header()
	h.Set("Link", strings.Join(links, ", "))
	h.Set("X-BT-Pagination-Current-Page", strconv.Itoa(page))
	h.Set("X-BT-Pagination-Last-Page", strconv.Itoa(last))
	h.Set("X-BT-Pagination-Per-Page", strconv.Itoa(perPage))
	h.Set("X-BT-Pagination-Total", strconv.Itoa(len(all)))
	writeJSON(w, http.StatusOK, out)
}
