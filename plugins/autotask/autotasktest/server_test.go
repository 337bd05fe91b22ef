package autotasktest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// call makes one authenticated request and returns the status and body.
func call(t *testing.T, s *Server, method, path, body string, edit func(h http.Header)) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, s.RESTRoot()+"V1.0/"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("UserName", DefaultUsername)
	req.Header.Set("Secret", DefaultSecret)
	req.Header.Set("ApiIntegrationCode", DefaultIntegrationCode)
	req.Header.Set("Content-Type", "application/json")
	if edit != nil {
		edit(req.Header)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err) // not Fatal: call runs in goroutines too
		return 0, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	t.Cleanup(s.Close)
	tests := []struct {
		name   string
		edit   func(h http.Header)
		status int
		errSub string
	}{
		{name: "ok", status: 200},
		{name: "unknown user", edit: func(h http.Header) { h.Set("UserName", "nobody@example.com") }, status: 500, errSub: "UserName"},
		{name: "wrong secret", edit: func(h http.Header) { h.Set("Secret", "nope") }, status: 401},
		{name: "wrong integration code", edit: func(h http.Header) { h.Set("ApiIntegrationCode", "X") }, status: 500, errSub: "IntegrationCode"},
		{name: "impersonating a stranger", edit: func(h http.Header) { h.Set("ImpersonationResourceId", "1") }, status: 500, errSub: "adequate permissions"},
	}
	for _, tc := range tests {
		status, body := call(t, s, "GET", "Tickets/entityInformation", "", tc.edit)
		if status != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, status, tc.status)
		}
		if tc.errSub != "" && !strings.Contains(strings.Join(errs(body), " "), tc.errSub) {
			t.Errorf("%s: errors %v, want %q", tc.name, body, tc.errSub)
		}
	}
}

func errs(body map[string]any) []string {
	var out []string
	list, _ := body["errors"].([]any)
	for _, e := range list {
		out = append(out, e.(string))
	}
	return out
}

func TestZoneInformation(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	t.Cleanup(s.Close)
	resp, err := http.Get(s.ZoneInformationURL() + "?user=" + DefaultUsername)
	if err != nil {
		t.Fatal(err)
	}
	var zi map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&zi)
	resp.Body.Close()
	if zi["url"] != s.RESTRoot() {
		t.Errorf("zone url = %v, want %s", zi["url"], s.RESTRoot())
	}
	resp, err = http.Get(s.ZoneInformationURL() + "?user=nobody")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 {
		t.Errorf("unknown user: status %d, want 500", resp.StatusCode)
	}
}

func TestQueryGrammar(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	t.Cleanup(s.Close)
	tests := []struct {
		name   string
		entity string
		body   string
		ids    []float64
		errSub string
	}{
		{name: "eq ignores field case", entity: "Contacts", body: `{"filter":[{"op":"eq","field":"EmailAddress","value":"JANE.DOE@contoso.example"}]}`, ids: []float64{ContactJane}},
		{name: "noteq", entity: "Tickets", body: `{"filter":[{"op":"noteq","field":"status","value":1}]}`, ids: []float64{TicketOther}},
		{name: "gt", entity: "Tickets", body: `{"filter":[{"op":"gt","field":"id","value":7865}]}`, ids: []float64{TicketOther}},
		{name: "gte", entity: "Tickets", body: `{"filter":[{"op":"gte","field":"id","value":7865}]}`, ids: []float64{TicketOpen, TicketOther}},
		{name: "lt", entity: "Tickets", body: `{"filter":[{"op":"lt","field":"id","value":7866}]}`, ids: []float64{TicketOpen}},
		{name: "lte", entity: "Tickets", body: `{"filter":[{"op":"lte","field":"id","value":7865}]}`, ids: []float64{TicketOpen}},
		{name: "beginsWith", entity: "Roles", body: `{"filter":[{"op":"beginsWith","field":"name","value":"senior"}]}`, ids: []float64{RoleSenior}},
		{name: "endsWith", entity: "Roles", body: `{"filter":[{"op":"endsWith","field":"name","value":"ROLE"}]}`, ids: []float64{RoleInactive}},
		{name: "contains", entity: "Tickets", body: `{"filter":[{"op":"contains","field":"title","value":"sync"}]}`, ids: []float64{TicketOther}},
		{name: "exist", entity: "Contacts", body: `{"filter":[{"op":"exist","field":"emailAddress2"}]}`, ids: []float64{ContactJohn}},
		{name: "notExist", entity: "Tickets", body: `{"filter":[{"op":"notExist","field":"assignedResourceID"}]}`, ids: []float64{TicketOpen}},
		{name: "in", entity: "Roles", body: `{"filter":[{"op":"in","field":"id","value":[29683461,29683463]}]}`, ids: []float64{RoleTechnician, RoleInactive}},
		{name: "notIn", entity: "Roles", body: `{"filter":[{"op":"notIn","field":"id","value":[29683461,29683463]}]}`, ids: []float64{RoleSenior}},
		{name: "or group", entity: "Contacts", body: `{"filter":[{"op":"or","items":[{"op":"eq","field":"emailAddress","value":"jr@fabrikam.example"},{"op":"eq","field":"emailAddress2","value":"jr@fabrikam.example"}]}]}`, ids: []float64{ContactJohn}},
		{name: "and group nested", entity: "Resources", body: `{"filter":[{"op":"and","items":[{"op":"eq","field":"isActive","value":true},{"op":"or","items":[{"op":"eq","field":"userName","value":"alice"},{"op":"eq","field":"userName","value":"carol"}]}]}]}`, ids: []float64{ResourceAlice}},
		{name: "MaxRecords", entity: "Roles", body: `{"filter":[{"op":"exist","field":"id"}],"MaxRecords":1}`, ids: []float64{RoleTechnician}},
		{name: "MaxRecords too big", entity: "Roles", body: `{"filter":[{"op":"exist","field":"id"}],"MaxRecords":501}`, errSub: "between 1 and 500"},
		{name: "MaxRecords zero", entity: "Roles", body: `{"filter":[{"op":"exist","field":"id"}],"maxRecords":0}`, errSub: "between 1 and 500"},
		{name: "unknown op", entity: "Roles", body: `{"filter":[{"op":"startsWith","field":"name","value":"x"}]}`, errSub: "Invalid operator"},
		{name: "unknown field", entity: "Roles", body: `{"filter":[{"op":"eq","field":"nom","value":"x"}]}`, errSub: "Unable to find nom"},
		{name: "missing value", entity: "Roles", body: `{"filter":[{"op":"eq","field":"name"}]}`, errSub: "needs a value"},
		{name: "in without list", entity: "Roles", body: `{"filter":[{"op":"in","field":"id","value":3}]}`, errSub: "needs a list"},
		{name: "group without items", entity: "Roles", body: `{"filter":[{"op":"or"}]}`, errSub: "needs items"},
		{name: "boolean needs true/false", entity: "Resources", body: `{"filter":[{"op":"eq","field":"isActive","value":1}]}`, errSub: "true or false"},
		{name: "no filter", entity: "Roles", body: `{}`, errSub: "filter is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, body := call(t, s, "POST", tc.entity+"/query", tc.body, nil)
			if tc.errSub != "" {
				if status != 500 || !strings.Contains(strings.Join(errs(body), " "), tc.errSub) {
					t.Fatalf("status %d body %v, want 500 with %q", status, body, tc.errSub)
				}
				return
			}
			if status != 200 {
				t.Fatalf("status %d: %v", status, body)
			}
			var ids []float64
			for _, it := range body["items"].([]any) {
				ids = append(ids, it.(map[string]any)["id"].(float64))
			}
			if !equalIDs(ids, tc.ids) {
				t.Errorf("ids %v, want %v", ids, tc.ids)
			}
		})
	}
}

func equalIDs(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCreateRules(t *testing.T) {
	t.Parallel()
	s := New(Options{StrictRoles: true})
	t.Cleanup(s.Close)
	tests := []struct {
		name, method, path, body string
		status                   int
		errSub                   string
	}{
		{name: "no POST /TicketNotes", method: "POST", path: "TicketNotes", body: `{"ticketID":7865}`, status: 404},
		{name: "no time entries under tickets", method: "POST", path: "Tickets/7865/TimeEntries", body: `{}`, status: 404},
		{name: "note ok", method: "POST", path: "Tickets/7865/Notes", body: `{"title":"t","description":"d","noteType":1,"publish":2}`, status: 200},
		{name: "note bad picklist", method: "POST", path: "Tickets/7865/Notes", body: `{"title":"t","description":"d","noteType":6,"publish":2}`, status: 500, errSub: "picklist for noteType"},
		{name: "note missing description", method: "POST", path: "Tickets/7865/Notes", body: `{"noteType":1,"publish":2}`, status: 500, errSub: "description"},
		{name: "note unknown ticket", method: "POST", path: "Tickets/1/Notes", body: `{"description":"d","noteType":1,"publish":2}`, status: 500, errSub: "existing entity"},
		{name: "note too long", method: "POST", path: "Tickets/7865/Notes", body: `{"description":"` + strings.Repeat("x", 32001) + `","noteType":1,"publish":2}`, status: 500, errSub: "maximum length"},
		{name: "ticket ok", method: "POST", path: "Tickets", body: `{"companyID":174,"title":"t","status":1,"priority":2,"contactID":30684001}`, status: 200},
		{name: "ticket contact of another company", method: "POST", path: "Tickets", body: `{"companyID":175,"title":"t","status":1,"priority":2,"contactID":30684001}`, status: 500, errSub: "belong"},
		{name: "ticket resource without role", method: "POST", path: "Tickets", body: `{"companyID":174,"title":"t","status":1,"priority":2,"assignedResourceID":29682885}`, status: 500, errSub: "assignedResourceRoleID"},
		{name: "ticket missing status", method: "POST", path: "Tickets", body: `{"companyID":174,"title":"t","priority":2}`, status: 500, errSub: "status"},
		{name: "time entry ok", method: "POST", path: "TimeEntries", body: `{"ticketID":7865,"resourceID":29682885,"roleID":29683461,"startDateTime":"2024-01-01T10:00:00Z","endDateTime":"2024-01-01T10:30:00Z","summaryNotes":"x"}`, status: 200},
		{name: "time entry without role", method: "POST", path: "TimeEntries", body: `{"ticketID":7865,"resourceID":29682885,"hoursWorked":1,"dateWorked":"2024-01-01T00:00:00"}`, status: 500, errSub: "must have a roleID"},
		{name: "time entry role not the resource's", method: "POST", path: "TimeEntries", body: `{"ticketID":7865,"resourceID":29682885,"roleID":29683462,"hoursWorked":1,"dateWorked":"2024-01-01T00:00:00"}`, status: 500, errSub: "Role does not exist or is invalid"},
		{name: "time entry role not the ticket's", method: "POST", path: "TimeEntries", body: `{"ticketID":7866,"resourceID":29682886,"roleID":29683461,"hoursWorked":1,"dateWorked":"2024-01-01T00:00:00"}`, status: 500, errSub: "assignedResourceRoleID"},
		{name: "time entry too long", method: "POST", path: "TimeEntries", body: `{"ticketID":7865,"resourceID":29682885,"roleID":29683461,"hoursWorked":25,"dateWorked":"2024-01-01T00:00:00"}`, status: 500, errSub: "hoursWorked"},
	}
	for _, tc := range tests {
		status, body := call(t, s, tc.method, tc.path, tc.body, nil)
		if status != tc.status || (tc.errSub != "" && !strings.Contains(strings.Join(errs(body), " "), tc.errSub)) {
			t.Errorf("%s: status %d body %v, want %d with %q", tc.name, status, body, tc.status, tc.errSub)
		}
	}
	if n := len(s.Notes(TicketOpen)); n != 1 {
		t.Errorf("notes on the ticket: %d, want 1", n)
	}
	tickets := s.Tickets()
	if last := tickets[len(tickets)-1]; !strings.HasPrefix(last.TicketNumber, "T") || last.CompanyID != CompanyContoso {
		t.Errorf("created ticket = %+v", last)
	}
	if te := s.TimeEntries(TicketOpen); len(te) != 1 || te[0].HoursWorked != 0.5 {
		t.Errorf("time entries = %+v", te)
	}
}

func TestThreadLimitAndFaults(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	t.Cleanup(s.Close)
	s.SetLatency(50 * time.Millisecond)
	var wg sync.WaitGroup
	statuses := make(chan int, 6)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, _ := call(t, s, "GET", "Roles/29683461", "", nil)
			statuses <- status
		}()
	}
	wg.Wait()
	close(statuses)
	refused := 0
	for st := range statuses {
		if st == http.StatusTooManyRequests {
			refused++
		}
	}
	st := s.Stats("Roles")
	if refused == 0 || st.ThreadRejected != refused || st.MaxConcurrent != ThreadLimit {
		t.Errorf("refused %d, stats %+v; want refusals and at most %d at once", refused, st, ThreadLimit)
	}

	s.SetLatency(0)
	s.Inject(Fault{Endpoint: "TicketNotes", Method: "POST", Status: 500, AfterWrite: true})
	status, _ := call(t, s, "POST", "Tickets/7865/Notes", `{"description":"d","noteType":1,"publish":2}`, nil)
	if status != 500 || len(s.Notes(TicketOpen)) != 1 {
		t.Errorf("after-write fault: status %d, %d notes; want 500 and the note stored", status, len(s.Notes(TicketOpen)))
	}
	s.Inject(Fault{Status: 429, RetryAfter: "3", Times: 2})
	for range 2 {
		if status, _ := call(t, s, "GET", "Roles/29683461", "", nil); status != 429 {
			t.Errorf("injected 429: status %d", status)
		}
	}
	if status, _ := call(t, s, "GET", "Roles/29683461", "", nil); status != 200 {
		t.Errorf("after the fault: status %d", status)
	}
}
