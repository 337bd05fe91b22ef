package httpapi_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
)

// jumpItem is an item of the license-usage query, as docs/queries.md
// documents it.
type jumpItem struct {
	JumpItem          string `json:"jump_item"`
	Host              string `json:"hostname_or_ip"`
	Jumpoint          string `json:"jumpoint"`
	RemoteApplication string `json:"remote_application"`
	License           string `json:"license"`
	Licensed          *bool  `json:"licensed"`
	JumpMethod        string `json:"jump_method"`
	JumpGroup         string `json:"jump_group"`
}

// TestQueryLicenseUsage: on PRA, every Jump Item of the EndpointLicenseUsage
// report comes once, in name order, in pages, with its columns and whether
// it takes a license; identical rows stay two items; no window. One report
// call a page.
func TestQueryLicenseUsage(t *testing.T) {
	t.Parallel()
	r := newQueryRig(t, beyondtrust.ProductPRA)
	empty := r.page("/query/license-usage?config=1")
	if empty.Count != 0 || empty.Items == nil || empty.Next != "" || empty.Window != nil || empty.Kind != "license-usage" {
		t.Fatalf("no Jump Items: %+v", empty)
	}
	rows := []bttest.JumpItemRow{
		{Name: "web01", Host: "10.0.0.5", Jumpoint: "JP-A", License: "yes", JumpMethod: "Remote RDP", JumpGroup: "Ops"},
		{Name: "db, \"primary\"", Host: "db.example.com", Jumpoint: "JP-B", RemoteApplication: "SQL", License: "no", JumpMethod: "Shell Jump", JumpGroup: "DBA"},
		{Name: "app", Host: "app.example.com", Jumpoint: "JP-A", License: "yes", JumpMethod: "Remote VNC", JumpGroup: "Ops"},
		{Name: "app", Host: "app.example.com", Jumpoint: "JP-A", License: "yes", JumpMethod: "Remote VNC", JumpGroup: "Ops"},
		{Name: "zeta", Host: "z", Jumpoint: "JP-C", JumpMethod: "Protocol Tunnel Jump", JumpGroup: "Net"},
	}
	r.sim.AddJumpItem(rows...)
	var got []jumpItem
	cursor, pages := "", 0
	for {
		p := r.page("/query/license-usage?config=1&limit=2&cursor=" + cursor)
		pages++
		if p.Product != "pra" || p.Window != nil || p.Count != len(p.Items) || p.Count > 2 {
			t.Fatalf("page: %+v", p)
		}
		for _, raw := range p.Items {
			var it jumpItem
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&it); err != nil || !strings.Contains(string(raw), `"licensed":`) {
				t.Fatalf("item %s: %v", raw, err)
			}
			got = append(got, it)
		}
		if p.Next == "" {
			break
		}
		cursor = url.QueryEscape(p.Next)
	}
	names := make([]string, 0, len(got))
	for _, it := range got {
		names = append(names, it.JumpItem)
	}
	if want := []string{"app", "app", `db, "primary"`, "web01", "zeta"}; !slices.Equal(names, want) || pages != 3 {
		t.Fatalf("Jump Items %q in %d pages, want %q in 3", names, pages, want)
	}
	db, zeta := got[2], got[4]
	if db.Host != "db.example.com" || db.Jumpoint != "JP-B" || db.RemoteApplication != "SQL" || db.License != "no" ||
		db.Licensed == nil || *db.Licensed || db.JumpMethod != "Shell Jump" || db.JumpGroup != "DBA" {
		t.Fatalf("db item: %+v", db)
	}
	if got[0].Licensed == nil || !*got[0].Licensed || zeta.License != "" || zeta.Licensed != nil {
		t.Fatalf("licensed: %+v %+v", got[0], zeta)
	}
	if n := r.sim.Calls("EndpointLicenseUsage"); n != 4 {
		t.Fatalf("%d EndpointLicenseUsage calls for 4 pages", n)
	}
}

// TestQueryLicenseUsageRefusals: a window or another kind's parameter is a
// 400 that reaches no appliance; Remote Support is a 501 naming the report
// it would need; a failing appliance, or an archive without jump_items.csv,
// a 502 or 503 naming it.
func TestQueryLicenseUsageRefusals(t *testing.T) {
	t.Parallel()
	r := newQueryRig(t, beyondtrust.ProductPRA)
	from := url.QueryEscape(r.sim.Now().Add(-time.Hour).Format(time.RFC3339))
	for _, path := range []string{"/query/license-usage?config=1&from=" + from, "/query/license-usage?config=1&to=" + from,
		"/query/license-usage?config=1&lsid=abc", "/query/license-usage?config=1&team_id=1", "/query/license-usage?config=1&limit=201",
		"/query/license-usage?config=1&cursor=%21", "/query/license-usage?config=1&group_by=day"} {
		if code, _, raw := r.get(path); code != http.StatusBadRequest {
			t.Errorf("GET %s: %d %s", path, code, raw)
		}
	}
	if n := r.sim.Calls("EndpointLicenseUsage"); n != 0 {
		t.Fatalf("refused queries reached the appliance %d times", n)
	}

	path := "/query/license-usage?config=1"
	r.sim.Inject(bttest.Fault{Path: bttest.PathReporting, Op: "EndpointLicenseUsage", Status: http.StatusInternalServerError, Times: 1})
	if code, _, raw := r.get(path); code != http.StatusBadGateway || !strings.Contains(string(raw), "BeyondTrust appliance "+r.sim.Host()) {
		t.Fatalf("appliance 500: %d %s", code, raw)
	}
	r.sim.Inject(bttest.Fault{Path: bttest.PathReporting, Op: "EndpointLicenseUsage", Status: http.StatusTooManyRequests, RetryAfter: "3", Times: 1})
	if code, h, raw := r.get(path); code != http.StatusServiceUnavailable || h.Get("Retry-After") != "3" {
		t.Fatalf("appliance 429: %d %v %s", code, h, raw)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	if w, err := zw.Create("other.csv"); err != nil {
		t.Fatal(err)
	} else if _, err := w.Write([]byte("a,b\n")); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	r.sim.Inject(bttest.Fault{Path: bttest.PathReporting, Op: "EndpointLicenseUsage", Status: http.StatusOK, Body: buf.String(), Times: 1})
	if code, _, raw := r.get(path); code != http.StatusBadGateway || !strings.Contains(string(raw), "Unexpected answer") {
		t.Fatalf("an archive without jump_items.csv: %d %s", code, raw)
	}
	r.sim.Inject(bttest.Fault{Path: bttest.PathReporting, Op: "EndpointLicenseUsage", Status: http.StatusOK,
		Body: `<error xmlns="` + beyondtrust.NamespacePRAReporting + `">You do not have permission to access this report.</error>`, Times: 1})
	if code, _, raw := r.get(path); code != http.StatusBadGateway || !strings.Contains(string(raw), "Permission denied") {
		t.Fatalf("the appliance's refusal: %d %s", code, raw)
	}

	rs := newQueryRig(t, beyondtrust.ProductRS)
	code, _, raw := rs.get(path)
	if code != http.StatusNotImplemented || !strings.Contains(string(raw), "not supported: license-usage: on Remote Support") {
		t.Fatalf("RS: %d %s", code, raw)
	}
	if n := rs.sim.Calls("EndpointLicenseUsage") + rs.sim.Calls("LicenseUsage"); n != 0 {
		t.Fatalf("the RS refusal reached the appliance %d times", n)
	}
}
