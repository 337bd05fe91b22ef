package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
)

// TestQueryJumpItems: the Jump Items of one type come from the
// Configuration API, one appliance page per query page (limit = per_page),
// each once, as {"type", "jump_item"} with the appliance's object as it is;
// the last page has no cursor.
func TestQueryJumpItems(t *testing.T) {
	t.Parallel()
	r := newQueryRig(t, beyondtrust.ProductPRA)
	if p := r.page("/query/jump-items?config=1&type=shell-jump"); p.Count != 0 || p.Items == nil || p.Next != "" || p.Window != nil {
		t.Fatalf("no Jump Items: %+v", p)
	}
	for i := range 7 {
		r.sim.AddConfigJumpItem(bttest.ConfigJumpItem{Type: "shell-jump", Name: fmt.Sprintf("ssh%d", i), JumpointID: 2,
			Hostname: fmt.Sprintf("h%d.example.com", i), JumpGroupID: 3, JumpGroupType: "shared", Tag: "linux"})
	}
	r.sim.AddConfigJumpItem(bttest.ConfigJumpItem{Type: "web-jump", Name: "portal", JumpointID: 2, JumpGroupID: 3, JumpGroupType: "personal"})
	var names []string
	cursor, pages := "", 0
	for {
		p := r.page("/query/jump-items?config=1&type=shell-jump&limit=5&cursor=" + url.QueryEscape(cursor))
		pages++
		if p.Kind != "jump-items" || p.Product != "pra" || p.Window != nil || p.Count != len(p.Items) {
			t.Fatalf("page: %+v", p)
		}
		for _, raw := range p.Items {
			var it struct {
				Type     string `json:"type"`
				JumpItem struct {
					ID            int    `json:"id"`
					Name          string `json:"name"`
					Hostname      string `json:"hostname"`
					JumpointID    int    `json:"jumpoint_id"`
					JumpGroupID   int    `json:"jump_group_id"`
					JumpGroupType string `json:"jump_group_type"`
					Tag           string `json:"tag"`
				} `json:"jump_item"`
			}
			if err := json.Unmarshal(raw, &it); err != nil || it.Type != "shell-jump" || it.JumpItem.ID == 0 || it.JumpItem.Hostname == "" ||
				it.JumpItem.JumpointID != 2 || it.JumpItem.JumpGroupID != 3 || it.JumpItem.JumpGroupType != "shared" || it.JumpItem.Tag != "linux" {
				t.Fatalf("item %s: %v", raw, err)
			}
			names = append(names, it.JumpItem.Name)
		}
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	if strings.Join(names, ",") != "ssh0,ssh1,ssh2,ssh3,ssh4,ssh5,ssh6" || pages != 2 {
		t.Fatalf("Jump Items %v in %d pages", names, pages)
	}
	if n := r.sim.Calls("jump-item/shell-jump"); n != 3 {
		t.Fatalf("%d Configuration API calls for 3 pages", n)
	}
	web := r.page("/query/jump-items?config=1&type=web-jump")
	if web.Count != 1 || strings.Contains(string(web.Items[0]), "hostname") || !strings.Contains(string(web.Items[0]), `"name":"portal"`) {
		t.Fatalf("web-jump: %s", web.Items)
	}
	if n := r.sim.TokensIssued(); n != 1 {
		t.Fatalf("%d tokens minted, want 1 shared by every query", n)
	}
}

// TestQueryJumpItemsRefusals: bad input is a 400 that reaches no appliance;
// an account without the Configuration API, a failing appliance or an
// answer that is not JSON, a 502 or 503 naming it.
func TestQueryJumpItemsRefusals(t *testing.T) {
	t.Parallel()
	r := newQueryRig(t, beyondtrust.ProductPRA)
	from := url.QueryEscape(r.sim.Now().Add(-time.Hour).Format(time.RFC3339))
	for _, tc := range []struct{ path, says string }{
		{"/query/jump-items?config=1", "type is required"},
		{"/query/jump-items?config=1&type=bogus", "type is required"},
		{"/query/jump-items?config=1&type=shell-jump&limit=4", "5 to 100"},
		{"/query/jump-items?config=1&type=shell-jump&limit=101", "5 to 100"},
		{"/query/jump-items?config=1&type=shell-jump&from=" + from, "from is not a parameter of jump-items"},
		{"/query/jump-items?config=1&type=shell-jump&cursor=eHl6", "cursor"},
		{"/query/jump-items?config=1&type=shell-jump&type=web-jump", "more than once"},
		{"/query/sessions?config=1&type=shell-jump&from=" + from, "type is a parameter of the jump-items query"},
	} {
		if code, _, raw := r.get(tc.path); code != http.StatusBadRequest || !strings.Contains(string(raw), tc.says) {
			t.Errorf("GET %s: %d %s, want 400 saying %q", tc.path, code, raw, tc.says)
		}
	}
	if n := r.sim.Calls("jump-item/shell-jump"); n != 0 {
		t.Fatalf("refused queries reached the appliance %d times", n)
	}

	path := "/query/jump-items?config=1&type=shell-jump"
	for _, tc := range []struct {
		fault bttest.Fault
		code  int
		says  string
	}{
		{bttest.Fault{Status: http.StatusInternalServerError}, http.StatusBadGateway, "HTTP 500"},
		{bttest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "4"}, http.StatusServiceUnavailable, "try again in 4s"},
		{bttest.Fault{Status: http.StatusOK, Body: "<html>portal</html>"}, http.StatusBadGateway, "Unexpected answer"},
	} {
		tc.fault.Path, tc.fault.Op, tc.fault.Times = bttest.PathConfig, "jump-item/shell-jump", 1
		r.sim.Inject(tc.fault)
		if code, _, raw := r.get(path); code != tc.code || !strings.Contains(string(raw), tc.says) || !strings.Contains(string(raw), r.sim.Host()) {
			t.Errorf("fault %+v: %d %s", tc.fault, code, raw)
		}
	}
	r.sim.SetAccount(bttest.Account{ClientID: bttest.DefaultClientID, ClientSecret: bttest.DefaultClientSecret, Reporting: true, Command: "full"})
	if code, _, raw := r.get(path); code != http.StatusBadGateway || !strings.Contains(string(raw), "allow this API account to use the Configuration API") {
		t.Fatalf("an account without the Configuration API: %d %s", code, raw)
	}

	rs := newQueryRig(t, beyondtrust.ProductRS)
	if code, _, raw := rs.get("/query/jump-items?config=1&type=web-jump"); code != http.StatusBadRequest || !strings.Contains(string(raw), "Remote Support") {
		t.Fatalf("a PRA-only type on RS: %d %s", code, raw)
	}
	if n := rs.sim.Calls("jump-item/web-jump"); n != 0 {
		t.Fatalf("the refusal reached the appliance %d times", n)
	}
	rs.sim.AddConfigJumpItem(bttest.ConfigJumpItem{Type: "remote-rdp", Name: "desk", Hostname: "desk.example.com", JumpointID: 1, JumpGroupID: 1, JumpGroupType: "shared"})
	if p := rs.page("/query/jump-items?config=1&type=remote-rdp"); p.Count != 1 || p.Product != "rs" {
		t.Fatalf("RS remote-rdp: %+v", p)
	}
}
