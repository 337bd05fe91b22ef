package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/auth"
	"switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/server"
)

// queryRig is an engine with one configuration whose appliance is a
// simulator, and a read-only API token.
type queryRig struct {
	t     *testing.T
	sim   *bttest.Appliance
	srv   *server.Server
	token string
	tok   auth.APIToken
	base  string
}

func newQueryRig(t *testing.T, product string, tune ...func(*server.Options)) *queryRig {
	t.Helper()
	sim := bttest.New(bttest.WithProduct(product))
	t.Cleanup(sim.Close)
	o := server.Options{
		DataDir: t.TempDir(), IntakeAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		Plugins: []engine.Plugin{&failingPlugin{fail: make(chan bool, 1)}}, AdminPassword: "a long admin password",
		ApplianceRootCAs: sim.CertPool(),
	}
	for _, f := range tune {
		f(&o)
	}
	s, err := server.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) }) //nolint:errcheck // test teardown
	opts := sim.Options()
	c := client{t: t, base: s.AdminURL() + "/api/v1"}
	in := map[string]any{"plugin": "fp", "appliance": map[string]any{"name": "A", "host": opts.Host, "client_id": opts.ClientID,
		"client_secret": opts.ClientSecret, "product": product}, "settings": map[string]any{"token": "tok-secret-1"}}
	if code, _, raw := c.do("POST", "/configurations", in); code != http.StatusCreated {
		t.Fatalf("create configuration: %d %s", code, raw)
	}
	tok, secret, err := s.Auth.CreateAPIToken(context.Background(), auth.User{Username: "admin"}, "SOAR")
	if err != nil {
		t.Fatal(err)
	}
	return &queryRig{t: t, sim: sim, srv: s, token: secret, tok: tok, base: s.AdminURL() + "/api/v1"}
}

// get calls the API with the token.
func (r *queryRig) get(path string) (int, http.Header, []byte) {
	r.t.Helper()
	return r.call("GET", path, "Bearer "+r.token)
}

func (r *queryRig) call(method, path, authz string) (int, http.Header, []byte) {
	r.t.Helper()
	req, _ := http.NewRequest(method, r.base+path, nil)
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, raw
}

type page struct {
	Kind      string `json:"kind"`
	Appliance string `json:"appliance"`
	Product   string `json:"product"`
	Window    *struct{ From, To time.Time }
	Count     int               `json:"count"`
	Items     []json.RawMessage `json:"items"`
	Next      string            `json:"next_cursor"`
}

func (r *queryRig) page(path string) page {
	r.t.Helper()
	code, _, raw := r.get(path)
	if code != http.StatusOK {
		r.t.Fatalf("GET %s: %d %s", path, code, raw)
	}
	var p page
	if err := json.Unmarshal(raw, &p); err != nil {
		r.t.Fatalf("GET %s: %v %s", path, err, raw)
	}
	return p
}

// TestQuerySessions: the sessions of a window come in pages of limit, in
// lsid order, each once, with the session model and UTC times; the session
// query gives one session; recordings list screen and command shell
// recordings. Both products, over HTTPS against the simulator.
func TestQuerySessions(t *testing.T) {
	t.Parallel()
	for _, product := range []string{beyondtrust.ProductRS, beyondtrust.ProductPRA} {
		t.Run(product, func(t *testing.T) {
			t.Parallel()
			r := newQueryRig(t, product)
			now := r.sim.Now()
			var want []string
			for i := range 5 {
				s := &beyondtrust.Session{LSID: fmt.Sprintf("lsid%02d", 5-i), Product: product, Type: "support",
					StartTime: now.Add(-time.Duration(50-i) * time.Minute), EndTime: now.Add(-time.Duration(40-i) * time.Minute),
					Duration: 10 * time.Minute, ExternalKey: "T-" + fmt.Sprint(i)}
				if i == 2 {
					s.RecordingViewURL, s.RecordingDownloadURL = "https://bt.example.com/r?view=1", "https://bt.example.com/r"
					s.ShellRecordings = []beyondtrust.ShellRecording{{Instance: "0", ViewURL: "https://bt.example.com/s?view=1", DownloadURL: "https://bt.example.com/s"}}
				}
				r.sim.AddSession(s)
				want = append(want, s.LSID)
			}
			// One ended before the window: not listed.
			r.sim.AddSession(&beyondtrust.Session{LSID: "old", StartTime: now.Add(-5 * time.Hour), EndTime: now.Add(-4 * time.Hour)})
			slices.Sort(want)

			from := url.QueryEscape(now.Add(-2 * time.Hour).Format(time.RFC3339))
			var got []string
			cursor, pages := "", 0
			for {
				p := r.page("/query/sessions?config=1&limit=2&from=" + from + "&cursor=" + cursor)
				pages++
				if p.Kind != "sessions" || p.Product != product || p.Appliance != r.sim.Host() || p.Window == nil || p.Count != len(p.Items) {
					t.Fatalf("page: %+v", p)
				}
				for _, raw := range p.Items {
					var it struct {
						LSID    string         `json:"lsid"`
						EndTime string         `json:"end_time"`
						Session map[string]any `json:"session"`
					}
					if err := json.Unmarshal(raw, &it); err != nil {
						t.Fatal(err)
					}
					if _, err := time.Parse(time.RFC3339, it.EndTime); err != nil || it.Session["lsid"] != it.LSID || it.Session["externalKey"] == "" {
						t.Fatalf("item: %s", raw)
					}
					got = append(got, it.LSID)
				}
				if p.Next == "" {
					break
				}
				cursor = p.Next
			}
			if !slices.Equal(got, want) || pages != 3 {
				t.Fatalf("sessions %v in %d pages, want %v in 3", got, pages, want)
			}

			one := r.page("/query/session?config=1&lsid=lsid03")
			if one.Count != 1 || !strings.Contains(string(one.Items[0]), `"lsid":"lsid03"`) || one.Window != nil {
				t.Fatalf("session: %+v", one)
			}
			rec := r.page("/query/recordings?config=1&from=" + from)
			if rec.Count != 1 {
				t.Fatalf("recordings: %+v", rec)
			}
			var ri struct {
				LSID   string `json:"lsid"`
				Screen struct {
					View string `json:"view_url"`
				} `json:"screen_recording"`
				Shell []struct {
					Instance string `json:"instance"`
					Download string `json:"download_url"`
				} `json:"command_shell_recordings"`
			}
			if err := json.Unmarshal(rec.Items[0], &ri); err != nil || ri.LSID != "lsid03" || ri.Screen.View == "" || len(ri.Shell) != 1 || ri.Shell[0].Download == "" {
				t.Fatalf("recording item: %s", rec.Items[0])
			}
			none := r.page("/query/recordings?config=1&lsid=lsid01")
			if none.Count != 1 || !strings.Contains(string(none.Items[0]), `"screen_recording":null,"command_shell_recordings":[]`) {
				t.Fatalf("a session without recordings: %s", none.Items[0])
			}
			if code, _, raw := r.get("/query/session?config=1&lsid=nosuch"); code != http.StatusNotFound {
				t.Fatalf("unknown lsid: %d %s", code, raw)
			}
			// Every query shares the configuration's cached OAuth token:
			// queries never push the API account towards its 30-token cap.
			if n := r.sim.TokensIssued(); n != 1 {
				t.Fatalf("%d tokens minted for the queries, want 1", n)
			}
		})
	}
}

// TestQueryActivity: team and vault activity of a window, in the documents
// the activity sources store, in time order and in pages.
func TestQueryActivity(t *testing.T) {
	t.Parallel()
	r := newQueryRig(t, beyondtrust.ProductPRA)
	now := r.sim.Now()
	for i := range 3 {
		r.sim.AddTeamEvent(bttest.TeamEvent{TeamID: "1", TeamName: "Ops", Time: now.Add(-time.Duration(30-i) * time.Minute),
			Type: "Conference Member Added", PerformedByType: "representative", PerformedBy: "Admin", Data: [][2]string{{"user_id", fmt.Sprint(i)}}})
	}
	r.sim.AddVaultActivity(bttest.VaultActivity{Time: now.Add(-10 * time.Minute), Type: "Password Changed", Account: "7",
		PerformedByID: "1", PerformedByType: "user", PerformedBy: "Admin", Data: "rotated"})
	from := url.QueryEscape(now.Add(-time.Hour).Format(time.RFC3339))

	first := r.page("/query/team-activity?config=1&limit=2&from=" + from)
	second := r.page("/query/team-activity?config=1&limit=2&from=" + from + "&cursor=" + first.Next)
	if first.Count != 2 || first.Next == "" || second.Count != 1 || second.Next != "" {
		t.Fatalf("team pages: %+v / %+v", first, second)
	}
	var times []string
	for _, raw := range append(first.Items, second.Items...) {
		var d struct {
			Team      struct{ ID, Name string }
			Timestamp string            `json:"timestamp"`
			EventType string            `json:"event_type"`
			Data      map[string]string `json:"data"`
		}
		if err := json.Unmarshal(raw, &d); err != nil || d.Team.Name != "Ops" || d.EventType != "Conference Member Added" || d.Data["user_id"] == "" {
			t.Fatalf("team item: %s", raw)
		}
		times = append(times, d.Timestamp)
	}
	if !slices.IsSorted(times) {
		t.Fatalf("not in time order: %v", times)
	}
	if p := r.page("/query/team-activity?config=1&team_id=1&from=" + from); p.Count != 3 {
		t.Fatalf("team_id: %+v", p)
	}
	vault := r.page("/query/vault-activity?config=1&from=" + from)
	if vault.Count != 1 || !strings.Contains(string(vault.Items[0]), `"event_type":"Password Changed","account_id":"7"`) {
		t.Fatalf("vault: %s", vault.Items)
	}
	// No activity in a window: an empty page, not an error.
	empty := r.page("/query/vault-activity?config=1&from=" + url.QueryEscape(now.Add(-5*time.Hour).Format(time.RFC3339)) + "&to=" + url.QueryEscape(now.Add(-4*time.Hour).Format(time.RFC3339)))
	if empty.Count != 0 || empty.Items == nil {
		t.Fatalf("empty window: %+v", empty)
	}
}

// TestQueryRefusals: bad input gets a 400 that says what to change, a kind
// the reference does not describe a 501, and the appliance's failures a
// 502 or 503 naming it.
func TestQueryRefusals(t *testing.T) {
	t.Parallel()
	r := newQueryRig(t, beyondtrust.ProductRS)
	now := r.sim.Now()
	from := url.QueryEscape(now.Add(-time.Hour).Format(time.RFC3339))
	for _, tc := range []struct {
		path string
		code int
		says string
	}{
		{"/query/nosuch?config=1", 400, "unknown query kind"},
		{"/query/sessions?from=" + from, 400, "config is required"},
		{"/query/sessions?config=x&from=" + from, 400, "config is required"},
		{"/query/sessions?config=9&from=" + from, 404, "not found"},
		{"/query/sessions?config=1", 400, "from is required"},
		{"/query/sessions?config=1&from=yesterday", 400, "RFC 3339"},
		{"/query/sessions?config=1&from=" + url.QueryEscape(now.Add(time.Hour).Format(time.RFC3339)), 400, "in the past"},
		{"/query/sessions?config=1&from=" + from + "&to=" + url.QueryEscape(now.Add(-2*time.Hour).Format(time.RFC3339)), 400, "before to"},
		{"/query/sessions?config=1&from=1", 400, "at most 93 days"},
		{"/query/sessions?config=1&from=" + from + "&limit=1000000", 400, "limit must be"},
		{"/query/sessions?config=1&from=" + from + "&limit=0", 400, "limit must be"},
		{"/query/sessions?config=1&from=" + from + "&by=middle", 400, "by must be"},
		{"/query/sessions?config=1&from=" + from + "&cursor=%21%21", 400, "cursor"},
		{"/query/sessions?config=1&from=" + from + "&bogus=1", 400, "unknown parameter"},
		{"/query/sessions?config=1&from=" + from + "&from=" + from, 400, "more than once"},
		{"/query/session?config=1&lsid=" + url.QueryEscape("a/b"), 400, "lsid must be"},
		{"/query/session?config=1&lsid=" + url.QueryEscape("a,b"), 400, "lsid must be"},
		{"/query/session?config=1", 400, "lsid must be"},
		{"/query/team-activity?config=1&from=" + from + "&team_id=-1", 400, "team_id"},
		{"/query/session-summaries?config=1&from=" + from, 501, "not supported: session-summaries: the reference does not describe"},

		{"/query/license-usage?config=1", 501, "not supported: license-usage: on Remote Support"},
	} {
		code, _, raw := r.get(tc.path)
		if code != tc.code || !strings.Contains(string(raw), tc.says) {
			t.Errorf("GET %s: %d %s, want %d saying %q", tc.path, code, raw, tc.code, tc.says)
		}
	}
	if n := r.sim.Calls("SupportSessionListing"); n != 0 {
		t.Fatalf("refused queries reached the appliance %d times", n)
	}

	path := "/query/sessions?config=1&from=" + from
	r.sim.Inject(bttest.Fault{Path: bttest.PathReporting, Status: http.StatusInternalServerError, Times: 1})
	code, _, raw := r.get(path)
	if code != http.StatusBadGateway || !strings.Contains(string(raw), "BeyondTrust appliance "+r.sim.Host()) || !strings.Contains(string(raw), "HTTP 500") {
		t.Fatalf("appliance 500: %d %s", code, raw)
	}
	r.sim.Inject(bttest.Fault{Path: bttest.PathReporting, Status: http.StatusTooManyRequests, RetryAfter: "7", Times: 1})
	code, h, raw := r.get(path)
	if code != http.StatusServiceUnavailable || h.Get("Retry-After") != "7" || !strings.Contains(string(raw), "rate limiting this API account; try again in 7s") {
		t.Fatalf("appliance 429: %d %v %s", code, h, raw)
	}
	r.sim.Inject(bttest.Fault{Path: bttest.PathReporting, Status: http.StatusOK, Body: "<html>portal</html>", Times: 1})
	if code, _, raw := r.get(path); code != http.StatusBadGateway || strings.Contains(string(raw), r.sim.Options().ClientSecret) {
		t.Fatalf("appliance answers HTML: %d %s", code, raw)
	}
	r.sim.Inject(bttest.Fault{Path: bttest.PathToken, Status: http.StatusUnauthorized, Body: `{"error":"invalid_client"}`})
	r.sim.RevokeTokens()
	if code, _, raw := r.get(path); code != http.StatusBadGateway || !strings.Contains(string(raw), "Authentication failed") {
		t.Fatalf("credentials refused: %d %s", code, raw)
	}
}

// TestQueryTokens: a read-only token reads the API and the queries, is
// refused every write endpoint (403) whatever it asks, and once revoked
// gets a bare 401; the admin's session and Basic still work.
func TestQueryTokens(t *testing.T) {
	t.Parallel()
	r := newQueryRig(t, beyondtrust.ProductRS)
	for _, path := range []string{"/configurations", "/configurations/1", "/events", "/audit", "/plugins"} {
		if code, _, raw := r.get(path); code != http.StatusOK {
			t.Fatalf("GET %s with a read-only token: %d %s", path, code, raw)
		}
	}
	for _, w := range [][2]string{
		{"POST", "/configurations"}, {"PUT", "/configurations/1"}, {"DELETE", "/configurations/1"},
		{"POST", "/configurations/1/copy"}, {"POST", "/configurations/1/disable"}, {"POST", "/configurations/1/test"},
		{"POST", "/configurations/1/retry-failed"}, {"POST", "/configurations/import"}, {"POST", "/templates/save"},
		{"POST", "/events/1/replay"}, {"POST", "/deliveries/1/retry"}, {"POST", "/sources/x/test"},
		{"POST", "/configurations/1/preview-delivery"},
	} {
		if code, _, raw := r.call(w[0], w[1], "Bearer "+r.token); code != http.StatusForbidden || !strings.Contains(string(raw), "read-only") {
			t.Fatalf("%s %s with a read-only token: %d %s", w[0], w[1], code, raw)
		}
	}
	c := client{t: t, base: r.base}
	if code, m, _ := c.do("GET", "/configurations/1", nil); code != http.StatusOK || m["disabled"] != false {
		t.Fatalf("the configuration changed: %d %v", code, m)
	}
	if err := r.srv.Auth.RevokeAPIToken(context.Background(), auth.User{Username: "admin"}, r.tok.ID); err != nil {
		t.Fatal(err)
	}
	code, h, raw := r.get("/configurations")
	if code != http.StatusUnauthorized || strings.TrimSpace(string(raw)) != `{"error":"unauthorized"}` || h.Get("WWW-Authenticate") != "Bearer" {
		t.Fatalf("revoked token: %d %v %s", code, h, raw)
	}
	if code, _, _ := c.do("GET", "/configurations", nil); code != http.StatusOK {
		t.Fatalf("Basic after the revocation: %d", code)
	}
}
