package query

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"slices"
	"strconv"
	"strings"

	"switchboard/engine/beyondtrust"
	"switchboard/engine/sources/appliance/activity"
)

// licenseRS is why license-usage is refused on Remote Support: its
// LicenseUsage report is documented only down to the element that holds
// each peak (docs/queries.md cites the page).
const licenseRS = "on Remote Support the answer is the LicenseUsage report, whose vendor page is cut off before the contents of a <license_time_interval>; license-usage reads the PRA EndpointLicenseUsage report only"

// licenseUsage answers license-usage on PRA: one EndpointLicenseUsage call
// (no parameter: the report lists every Jump Item as it is now), a ZIP
// archive whose jump_items.csv activity.ReadEndpointLicenses reads. Items
// are activity.JumpItemLicense, ordered by name, then hostname, Jumpoint
// and Jump Group.
func licenseUsage(ctx context.Context, c Appliance, p Params, page *Page) error {
	var rows []activity.JumpItemLicense
	err := c.Report(ctx, "EndpointLicenseUsage", nil, func(r io.Reader) error {
		var err error
		rows, err = activity.ReadEndpointLicenses(r, "")
		return err
	})
	if err != nil {
		return err
	}
	items := make([]keyed, 0, len(rows))
	seen := make(map[string]int, len(rows))
	for _, r := range rows {
		key := jumpItemKey(r, seen)
		if p.Cursor != "" && key <= p.Cursor {
			continue
		}
		items = append(items, keyed{key, r})
	}
	slices.SortFunc(items, func(a, b keyed) int { return cmp.Compare(a.key, b.key) })
	return fill(page, items, p.Limit, false)
}

// jumpItemKey is a Jump Item's sort key, which its cursor names: its name,
// hostname, Jumpoint and Jump Group (cut to 160 bytes: a cursor is short),
// then a digest of all its columns and of how many identical rows came
// before it, so that every row has its own key and pages neither repeat
// nor skip one.
func jumpItemKey(r activity.JumpItemLicense, seen map[string]int) string {
	const sep = "\x1f"
	all := strings.Join([]string{r.JumpItem, r.Host, r.Jumpoint, r.RemoteApplication, r.License, r.JumpMethod, r.JumpGroup}, sep)
	n := seen[all]
	seen[all] = n + 1
	sum := sha256.Sum256([]byte(all + sep + strconv.Itoa(n)))
	head := strings.Join([]string{r.JumpItem, r.Host, r.Jumpoint, r.JumpGroup}, sep)
	return head[:min(len(head), 160)] + sep + hex.EncodeToString(sum[:16])
}

// isPRA reports whether the appliance is a Privileged Remote Access one.
func isPRA(c Appliance) bool { return c.Product() == beyondtrust.ProductPRA }
