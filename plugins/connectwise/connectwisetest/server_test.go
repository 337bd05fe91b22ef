package connectwisetest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// call makes one request as a client with the default keys would.
func call(t *testing.T, s *Server, method, path string, body any, header http.Header) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.APIRoot()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(DefaultCompany+"+"+DefaultPublicKey+":"+DefaultPrivateKey)))
	req.Header.Set("clientId", DefaultClientID)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	defer s.Close()
	basic := func(v string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(v)) }
	for _, c := range []struct {
		name string
		h    http.Header
		want int
	}{
		{"good", nil, 200},
		{"wrong private key", http.Header{"Authorization": {basic(DefaultCompany + "+" + DefaultPublicKey + ":nope")}}, 401},
		{"no company", http.Header{"Authorization": {basic(DefaultPublicKey + ":" + DefaultPrivateKey)}}, 401},
		{"no clientId", http.Header{"Clientid": {""}}, 401},
		{"wrong clientId", http.Header{"Clientid": {"00000000-0000-0000-0000-000000000000"}}, 401},
		{"bearer", http.Header{"Authorization": {"Bearer x"}}, 401},
	} {
		resp, body := call(t, s, "GET", "system/info", nil, c.h)
		if resp.StatusCode != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, resp.StatusCode, body, c.want)
		}
		if c.want == 401 && !strings.Contains(string(body), `"code":"Unauthorized"`) {
			t.Errorf("%s: body %s", c.name, body)
		}
	}
}

func TestCompanyInfo(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	defer s.Close()
	for company, want := range map[string]string{DefaultCompany: `"Codebase":"v4_6_release/"`, "unknown": "null"} {
		resp, err := http.Get(s.URL + "/login/companyinfo/" + company)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), want) {
			t.Errorf("%s: %s, want %s", company, b, want)
		}
	}
}

func TestContactsByChildConditions(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	defer s.Close()
	q := url.Values{"childConditions": {`communicationItems/value like "arnie@acme.com" AND communicationItems/communicationType="Email"`}, "conditions": {"inactiveFlag=false"}}
	_, body := call(t, s, "GET", "company/contacts?"+q.Encode(), nil, nil)
	var got []struct{ ID int64 }
	if err := json.Unmarshal(body, &got); err != nil || len(got) != 1 || got[0].ID != ContactArnie {
		t.Fatalf("contacts = %s (%v)", body, err)
	}
	// The phone number is not an Email item.
	q.Set("childConditions", `communicationItems/value="8139357100" AND communicationItems/communicationType="Email"`)
	if _, body := call(t, s, "GET", "company/contacts?"+q.Encode(), nil, nil); string(bytes.TrimSpace(body)) != "[]" {
		t.Errorf("a phone number matched as e-mail: %s", body)
	}
}

func TestPaging(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	defer s.Close()
	for i := range 7 {
		if resp, body := call(t, s, "POST", fmt.Sprintf("service/tickets/%d/notes", TicketOpen), map[string]any{"text": fmt.Sprint("note ", i)}, nil); resp.StatusCode != 201 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	}
	walk := func(path string, h http.Header) (ids []int64, pages int) {
		next := s.APIRoot() + path
		for next != "" && pages < 10 {
			resp, body := call(t, s, "GET", strings.TrimPrefix(next, s.APIRoot()), nil, h)
			var page []struct{ ID int64 }
			if err := json.Unmarshal(body, &page); err != nil {
				t.Fatalf("%s: %v", body, err)
			}
			for _, p := range page {
				ids = append(ids, p.ID)
			}
			pages++
			next = ""
			for _, l := range strings.Split(resp.Header.Get("Link"), ",") {
				if strings.Contains(l, `rel="next"`) {
					next = strings.Trim(strings.TrimSpace(strings.Split(l, ";")[0]), "<>")
				}
				if h != nil && (strings.Contains(l, `rel="last"`) || strings.Contains(l, "page=")) {
					t.Errorf("forward-only answered a navigable link: %s", l)
				}
			}
		}
		return ids, pages
	}
	ids, pages := walk(fmt.Sprintf("service/tickets/%d/notes?pageSize=3", TicketOpen), nil)
	if len(ids) != 7 || pages != 3 {
		t.Errorf("navigable: %v in %d pages", ids, pages)
	}
	ids, pages = walk(fmt.Sprintf("service/tickets/%d/notes?pageSize=3", TicketOpen), http.Header{"Pagination-Type": {"forward-only"}})
	if len(ids) != 7 || pages != 3 || ids[0] >= ids[6] {
		t.Errorf("forward-only: %v in %d pages", ids, pages)
	}
}

func TestValidationErrors(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	defer s.Close()
	cases := []struct {
		path  string
		body  any
		field string
	}{
		{"service/tickets", map[string]any{"company": map[string]any{"identifier": "ACME"}}, "summary"},
		{"service/tickets", map[string]any{"summary": strings.Repeat("x", 101), "company": map[string]any{"identifier": "ACME"}}, "summary"},
		{"service/tickets", map[string]any{"summary": "x"}, "company"},
		{"service/tickets", map[string]any{"summary": "x", "company": map[string]any{"id": CompanyACME}, "board": map[string]any{"name": BoardName}, "status": map[string]any{"name": "Nope"}}, "status"},
		{"time/entries", map[string]any{"chargeToId": TicketOpen, "chargeToType": "ServiceTicket", "member": map[string]any{"identifier": "jdoe"}}, "timeStart"},
		{"time/entries", map[string]any{"chargeToId": TicketNoTime, "chargeToType": "ServiceTicket", "member": map[string]any{"identifier": "jdoe"}, "timeStart": "2024-11-28T16:02:15Z"}, "chargeToId"},
		{"time/entries", map[string]any{"chargeToId": TicketOpen, "chargeToType": "ServiceTicket", "member": map[string]any{"identifier": "carol"}, "timeStart": "2024-11-28T16:02:15Z"}, "member"},
		{"time/entries", map[string]any{"chargeToId": TicketOpen, "chargeToType": "ServiceTicket", "member": map[string]any{"identifier": "jdoe"}, "timeStart": "2024-11-28T16:02:15Z", "billableOption": "Maybe"}, "billableOption"},
		{fmt.Sprintf("service/tickets/%d/notes", TicketOpen), map[string]any{"text": ""}, "text"},
	}
	for _, c := range cases {
		resp, body := call(t, s, "POST", c.path, c.body, nil)
		var e struct {
			Code   string
			Errors []struct{ Field string }
		}
		_ = json.Unmarshal(body, &e)
		if resp.StatusCode != 400 || e.Code != "InvalidObject" || len(e.Errors) != 1 || e.Errors[0].Field != c.field {
			t.Errorf("%s %v: %d %s, want 400 on %s", c.path, c.body, resp.StatusCode, body, c.field)
		}
	}
	if resp, body := call(t, s, "GET", "service/tickets?conditions="+url.QueryEscape(`summary = unquoted`), nil, nil); resp.StatusCode != 400 {
		t.Errorf("bad conditions: %d %s", resp.StatusCode, body)
	}
	if resp, _ := call(t, s, "GET", "service/tickets/999", nil, nil); resp.StatusCode != 404 {
		t.Errorf("unknown ticket: %d", resp.StatusCode)
	}
	if resp, _ := call(t, s, "POST", "service/tickets/999/notes", map[string]any{"text": "x"}, nil); resp.StatusCode != 404 {
		t.Errorf("note on an unknown ticket: %d", resp.StatusCode)
	}
}

func TestFaultsAndThrottle(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	defer s.Close()
	s.Inject(Fault{Method: "GET", Path: "system/members", Status: 429, RetryAfter: "7"})
	s.Inject(Fault{Method: "GET", Path: "system/members", Status: 429})
	s.Inject(Fault{Method: "GET", Path: "system/members", Status: 403})
	resp, _ := call(t, s, "GET", "system/members", nil, nil)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" {
		t.Errorf("first: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	resp, _ = call(t, s, "GET", "system/members", nil, nil)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "" {
		t.Errorf("second: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp, _ = call(t, s, "GET", "system/members", nil, nil); resp.StatusCode != 403 {
		t.Errorf("third: %d", resp.StatusCode)
	}
	s.Inject(Fault{Method: "POST", Path: "time/entries", Status: 500, AfterWrite: true})
	resp, _ = call(t, s, "POST", "time/entries", map[string]any{"chargeToId": TicketOpen, "chargeToType": "ServiceTicket", "member": map[string]any{"identifier": "jdoe"}, "timeStart": "2024-11-28T16:02:15Z"}, nil)
	if resp.StatusCode != 500 || len(s.TimeEntries(TicketOpen)) != 1 {
		t.Errorf("after write: %d, %d entries", resp.StatusCode, len(s.TimeEntries(TicketOpen)))
	}

	limited := New(Options{MaxInFlight: 2})
	defer limited.Close()
	limited.SetLatency(20e6)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { call(t, limited, "GET", "system/info", nil, nil) })
	}
	wg.Wait()
	if limited.MaxInFlight() > 2 || limited.Throttled() == 0 {
		t.Errorf("max in flight %d, throttled %d", limited.MaxInFlight(), limited.Throttled())
	}
}
