package beyondtrust

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// The Configuration API (/api/config/v1) answers JSON. What the client
// reads of it follows BeyondTrust's own OpenAPI description of it, in
// https://github.com/BeyondTrust/terraform-provider-sra
// (openapi/bt-pra-configuration.openapi.yaml, "Pagination"): a GET of a
// list takes per_page (at most 100) and current_page (1-based) and answers
// a JSON array, with the headers X-BT-Pagination-Current-Page, -Last-Page,
// -Per-Page and -Total and a Link header naming the "next" page when there
// is one. A 403 means the API account may not use the Configuration API.

// configPrefix is the op prefix of Configuration API calls.
const configPrefix = "config "

// ConfigPage is one page of a Configuration API list.
type ConfigPage struct {
	// Items are the list's objects as the appliance gave them.
	Items []json.RawMessage
	// LastPage is X-BT-Pagination-Last-Page; 0 when the header is absent.
	LastPage int
	// Next is whether the Link header names a next page.
	Next bool
}

// JumpItemTypes are the Configuration API's Jump Item lists
// (/api/config/v1/jump-item/<type>) per product, as the OpenAPI
// descriptions bt-pra-configuration and bt-rs-configuration list them.
var JumpItemTypes = map[string][]string{
	ProductPRA: {"remote-rdp", "shell-jump", "remote-vnc", "psql-tunnel-jump", "mysql-tunnel-jump",
		"web-jump", "protocol-tunnel-jump", "network-tunnel-jump"},
	ProductRS: {"remote-rdp", "shell-jump", "remote-vnc"},
}

// MaxConfigPerPage is the Configuration API's largest page.
const MaxConfigPerPage = 100

var linkNext = regexp.MustCompile(`rel="?next"?`)

// ConfigList GETs page (1-based) of perPage items of the Configuration API
// list at path (such as "jump-item/shell-jump"), with query's filters.
func (c *Client) ConfigList(ctx context.Context, path string, query url.Values, perPage, page int) (*ConfigPage, error) {
	if perPage < 1 || perPage > MaxConfigPerPage || page < 1 {
		return nil, fmt.Errorf("beyondtrust: a Configuration API page of %d items, page %d", perPage, page)
	}
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("per_page", strconv.Itoa(perPage))
	q.Set("current_page", strconv.Itoa(page))
	out := &ConfigPage{}
	var header http.Header
	err := c.callMethod(ctx, http.MethodGet, configPrefix+path, "/api/config/v1/"+path, q, func(r io.Reader) error {
		if err := json.NewDecoder(r).Decode(&out.Items); err != nil {
			return &ParseError{Err: fmt.Errorf("the Configuration API's %s answer is not a JSON array: %w", path, err)}
		}
		return nil
	}, &header)
	if err != nil {
		return nil, err
	}
	out.LastPage, _ = strconv.Atoi(strings.TrimSpace(header.Get("X-BT-Pagination-Last-Page")))
	for _, part := range strings.Split(header.Get("Link"), ",") {
		if linkNext.MatchString(part) {
			out.Next = true
		}
	}
	return out, nil
}
