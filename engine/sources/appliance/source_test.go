package appliance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/store"
	"switchboard/engine/storetest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	t     *testing.T
	clock *clock
	sim   *bttest.Appliance
	st    *store.Store
	p     *Poller
	tgt   Target
	cfg   int64
}

func newFixture(t *testing.T, product string, opts ...bttest.Option) *fixture {
	t.Helper()
	f := &fixture{t: t, clock: &clock{t: time.Date(2026, 3, 16, 12, 0, 0, 0, time.UTC)}, st: storetest.Open(t)}
	f.sim = bttest.New(append([]bttest.Option{bttest.WithProduct(product), bttest.WithClock(f.clock.Now)}, opts...)...)
	t.Cleanup(f.sim.Close)
	f.cfg = storetest.Config(t, f.st, "siem", "Default")
	set := NewSettings()
	o := f.sim.Options()
	set.Name, set.Host, set.Product, set.ClientID, set.ClientSecret = "pra1", o.Host, product, o.ClientID, engine.NewSecret(o.ClientSecret)
	cs := &Clients{Tokens: beyondtrust.NewTokenCache(), RootCAs: f.sim.CertPool()}
	f.tgt = Target{Settings: set, Client: cs.For(set), EnabledAt: f.clock.Now(),
		Deliveries: []store.NewDelivery{{ConfigID: f.cfg, Plugin: "siem", MaxAttempts: 5}}}
	f.p = &Poller{Store: f.st, Owner: "test", Now: f.clock.Now, TempDir: t.TempDir()}
	return f
}

func (f *fixture) poll(stream string) (Cycle, error) {
	f.t.Helper()
	return f.p.Poll(context.Background(), f.tgt, stream)
}

func (f *fixture) mustPoll(stream string) Cycle {
	f.t.Helper()
	c, err := f.poll(stream)
	if err != nil {
		f.t.Fatalf("poll %s: %v", stream, err)
	}
	return c
}

func (f *fixture) cursor(stream string) *store.SourceCursor {
	f.t.Helper()
	list, err := f.st.ListSourceCursors(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	for _, c := range list {
		if c.SourceID == f.tgt.Settings.ID(stream) {
			return &c
		}
	}
	f.t.Fatalf("no cursor row for %s in %v", stream, list)
	return nil
}

// docs returns the stored documents of a stream, and the deliveries made.
func (f *fixture) docs(stream string) ([]map[string]any, int) {
	f.t.Helper()
	ctx := context.Background()
	var out []map[string]any
	list, err := f.st.ListEvents(ctx, store.EventFilter{Name: EventName[stream], Limit: 10000})
	if err != nil {
		f.t.Fatal(err)
	}
	slices.Reverse(list) // oldest first
	for _, e := range list {
		var m map[string]any
		if err := json.Unmarshal([]byte(e.Values().Get(DocumentField)), &m); err != nil {
			f.t.Fatalf("stored document: %v", err)
		}
		out = append(out, m)
	}
	dl, err := f.st.ListDeliveries(ctx, store.DeliveryFilter{ConfigID: f.cfg, Limit: 10000})
	if err != nil {
		f.t.Fatal(err)
	}
	n := 0
	for _, d := range dl {
		for _, e := range list {
			if d.EventID == e.ID {
				n++
			}
		}
	}
	return out, n
}

func (f *fixture) team(at time.Time, typ string, data ...[2]string) {
	f.sim.AddTeamEvent(bttest.TeamEvent{TeamID: "1", TeamName: "Integration", Time: at, Type: typ,
		PerformedByType: "representative", PerformedBy: "John Doe", Data: data})
}

func (f *fixture) vault(at time.Time, typ string) {
	f.sim.AddVaultActivity(bttest.VaultActivity{Time: at, Type: typ, Account: "1", PerformedByID: "2", PerformedByType: "User", PerformedBy: "John Doe"})
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o644) }

// syslogLine writes one segment as Sekoia's fixtures show it.
func syslogLine(at time.Time, pid, number, part, total int, payload string) string {
	return fmt.Sprintf("%s test BG[%d]: %d:%02d:%02d:%s", at.Format(time.Stamp), pid, number, part, total, payload)
}

func (f *fixture) syslog(at time.Time, number int, event string) {
	f.sim.AddSyslog(syslogLine(at, 24183, number, 1, 1,
		fmt.Sprintf("site=test.beyondtrustcloud.com;when=%d;who=JOHN DOE (john.doe@example.org);who_ip=1.2.3.4;event=%s", at.Unix(), event)))
}

func TestEachStreamIsStoredOnceWithItsShape(t *testing.T) {
	t.Parallel()
	f := newFixture(t, beyondtrust.ProductPRA)
	now := f.clock.Now()
	f.team(now.Add(-10*time.Minute), "Conference Member Added", [2]string{"os", "Unknown"}, [2]string{"public_ip", "4.3.2.1:41286"}, [2]string{"user_id", "2"})
	f.team(now.Add(-10*time.Minute), "Conference Member State Changed", [2]string{"state", "connected"})
	f.team(now.Add(-3*24*time.Hour), "Conference Member Added") // before the first-fetch window
	f.vault(now.Add(-9*time.Minute), "Account Created")
	f.vault(now.Add(-8*time.Minute), "Password Changed")
	f.syslog(now.Add(-7*time.Minute), 1427, "setting_changed")
	f.sim.AddSyslog(
		syslogLine(now.Add(-6*time.Minute), 77178, 1430, 2, 3, "event=user_changed;"),
		syslogLine(now.Add(-6*time.Minute), 77178, 1430, 1, 3, fmt.Sprintf("site=test.beyondtrustcloud.com;when=%d;", now.Add(-6*time.Minute).Unix())),
		syslogLine(now.Add(-6*time.Minute), 77178, 1430, 3, 3, "old_username=jane.doe@example.com"),
	)
	f.syslog(now.Add(-30*24*time.Hour), 1, "login") // before the window

	for stream, want := range map[string]int{StreamTeam: 2, StreamVault: 2, StreamSyslog: 2} {
		c := f.mustPoll(stream)
		if c.Fetched != want || c.New != want {
			t.Errorf("%s: cycle %+v, want %d fetched and new", stream, c, want)
		}
		docs, deliveries := f.docs(stream)
		if len(docs) != want || deliveries != want {
			t.Errorf("%s: %d stored, %d delivered, want %d", stream, len(docs), deliveries, want)
		}
		if c := f.mustPoll(stream); c.New != 0 {
			t.Errorf("%s: second poll stored %d again", stream, c.New)
		}
	}
	team, _ := f.docs(StreamTeam)
	first := team[0]
	if first["report"] != "Team" || first["event_type"] != "Conference Member Added" || first["team"].(map[string]any)["name"] != "Integration" ||
		first["performed_by"].(map[string]any)["type"] != "representative" || first["data"].(map[string]any)["public_ip"] != "4.3.2.1:41286" {
		t.Errorf("team document %v", first)
	}
	if want := now.Add(-10 * time.Minute); !f.cursor(StreamTeam).Cursor().Equal(want) {
		t.Errorf("team cursor %s, want the latest event's time %s", f.cursor(StreamTeam).Cursor(), want)
	}
	vault, _ := f.docs(StreamVault)
	if v := vault[1]; v["event_type"] != "Password Changed" || v["account_id"] != "1" || v["performed_by"].(map[string]any)["id"] != "2" {
		t.Errorf("vault document %v", v)
	}
	logs, _ := f.docs(StreamSyslog)
	joined := logs[1]
	if joined["message"] != fmt.Sprintf("site=test.beyondtrustcloud.com;when=%d;event=user_changed;old_username=jane.doe@example.com", now.Add(-6*time.Minute).Unix()) ||
		joined["fields"].(map[string]any)["event"] != "user_changed" || joined["segments"] != float64(3) || joined["incomplete"] != nil {
		t.Errorf("reassembled syslog document %v", joined)
	}
	if logs[0]["fields"].(map[string]any)["who"] != "JOHN DOE (john.doe@example.org)" {
		t.Errorf("syslog fields %v", logs[0]["fields"])
	}
}

func TestAnActivityInTheCursorSecondArrivingLaterIsStored(t *testing.T) {
	t.Parallel()
	f := newFixture(t, beyondtrust.ProductPRA)
	at := f.clock.Now().Add(-time.Minute)
	f.vault(at, "Account Created")
	f.syslog(at, 1, "login")
	f.mustPoll(StreamVault)
	f.mustPoll(StreamSyslog)
	// Sekoia's collectors skip everything at the cursor's second (when <=
	// cursor); a second activity within it would be lost.
	f.vault(at, "Password Changed")
	f.syslog(at, 2, "logout")
	for _, s := range []string{StreamVault, StreamSyslog} {
		if c := f.mustPoll(s); c.New != 1 {
			t.Errorf("%s: %+v, want the late activity of the cursor's second stored", s, c)
		}
	}
}

func TestContinuousCoverageAcrossAnOutage(t *testing.T) {
	t.Parallel()
	f := newFixture(t, beyondtrust.ProductPRA)
	want := map[string]int{}
	add := func() {
		now := f.clock.Now()
		f.team(now.Add(-30*time.Second), "Conference Member Added", [2]string{"user_id", fmt.Sprint(now.Unix())})
		f.vault(now.Add(-20*time.Second), "Password Changed "+fmt.Sprint(now.Unix()))
		f.syslog(now.Add(-10*time.Second), int(now.Unix()%100000), "login")
		for _, s := range []string{StreamTeam, StreamVault, StreamSyslog} {
			want[s]++
		}
	}
	pollAll := func(wantErr bool) {
		for _, s := range []string{StreamTeam, StreamVault, StreamSyslog} {
			before := f.cursor(s).CursorAt
			_, err := f.poll(s)
			if (err != nil) != wantErr {
				t.Fatalf("%s: poll error %v, want error %v (%+v)", s, err, wantErr, f.sim.Calls("Team"))
			}
			if wantErr && (f.cursor(s).CursorAt != before || f.cursor(s).LastError == "") {
				t.Fatalf("%s: a failed poll moved the cursor or kept no error: %+v", s, f.cursor(s))
			}
		}
	}
	add()
	for _, s := range []string{StreamTeam, StreamVault, StreamSyslog} {
		f.mustPoll(s)
	}
	faults := []bttest.Fault{
		{Path: bttest.PathReporting, Status: http.StatusInternalServerError, Body: "<html>oops</html>"},
		{Path: bttest.PathReporting, Status: http.StatusServiceUnavailable},
		{Path: bttest.PathReporting, Status: http.StatusTooManyRequests, RetryAfter: "7"},
		{Path: bttest.PathReporting, Status: http.StatusUnauthorized}, // refused even with a fresh token
	}
	for _, fault := range faults {
		f.clock.Add(5 * time.Minute)
		add()
		f.sim.ClearFaults()
		f.sim.Inject(fault)
		pollAll(true)
	}
	f.sim.ClearFaults()
	f.clock.Add(5 * time.Minute)
	add()
	pollAll(false)
	for s, n := range want {
		docs, deliveries := f.docs(s)
		if len(docs) != n || deliveries != n {
			t.Errorf("%s: %d stored and %d delivered, want %d each: nothing missed, nothing doubled", s, len(docs), deliveries, n)
		}
	}
}

func TestRateLimitedPollKeepsTheCursorAndNamesTheWait(t *testing.T) {
	t.Parallel()
	f := newFixture(t, beyondtrust.ProductPRA)
	f.vault(f.clock.Now().Add(-time.Minute), "Account Created")
	f.sim.Inject(bttest.Fault{Path: bttest.PathReporting, Status: http.StatusTooManyRequests, RetryAfter: "42", Times: 1})
	_, err := f.poll(StreamVault)
	var be *beyondtrust.Error
	if !errors.As(err, &be) || be.Kind != beyondtrust.KindRateLimited || be.RetryAfter != 42*time.Second {
		t.Fatalf("error %v, want rate limited for 42 s", err)
	}
	if docs, _ := f.docs(StreamVault); len(docs) != 0 {
		t.Fatal("stored records from a refused poll")
	}
	r := &Runner{Poller: f.p, Targets: func() []Target { return []Target{f.tgt} }}
	r.after(f.tgt.Settings.ID(StreamVault), f.clock.Now().Add(be.RetryAfter))
	for _, d := range r.due() {
		if d.stream == StreamVault {
			t.Error("the vault stream is due before its Retry-After has passed")
		}
	}
	if c := f.mustPoll(StreamVault); c.New != 1 {
		t.Errorf("after the pause: %+v", c)
	}
}

func TestATimeoutKeepsTheCursor(t *testing.T) {
	t.Parallel()
	f := newFixture(t, beyondtrust.ProductPRA)
	set := *f.tgt.Settings
	opts := set.Options()
	opts.RootCAs, opts.Timeout = f.sim.CertPool(), 300*time.Millisecond
	patient := f.tgt.Client
	f.tgt.Client = beyondtrust.NewClient(opts, nil)
	f.team(f.clock.Now().Add(-time.Minute), "Conference Member Added")
	f.sim.Inject(bttest.Fault{Path: bttest.PathReporting, Hang: true, Times: 1})
	_, err := f.poll(StreamTeam)
	var be *beyondtrust.Error
	if !errors.As(err, &be) || be.Kind != beyondtrust.KindTimeout {
		t.Fatalf("error %v, want a timeout", err)
	}
	if !strings.Contains(f.cursor(StreamTeam).LastError, "timeout") {
		t.Errorf("last error %q", f.cursor(StreamTeam).LastError)
	}
	f.tgt.Client = patient // the default timeout: a loaded machine must not fail the next poll too
	if c := f.mustPoll(StreamTeam); c.New != 1 {
		t.Errorf("after the timeout: %+v", c)
	}
}

func TestPerCycleCapNeverSplitsASecond(t *testing.T) {
	t.Parallel()
	f := newFixture(t, beyondtrust.ProductPRA)
	f.tgt.Settings.MaxPerCycle = 2
	base := f.clock.Now().Add(-time.Hour)
	for i, sec := range []int{0, 1, 1, 1, 2, 3} {
		f.vault(base.Add(time.Duration(sec)*time.Second), fmt.Sprint("Event ", i))
	}
	var got []int
	for range 4 {
		c := f.mustPoll(StreamVault)
		got = append(got, c.New)
	}
	if fmt.Sprint(got) != "[4 2 0 0]" {
		t.Errorf("new per poll %v, want [4 2 0 0]: the cap stops after a whole second", got)
	}
}

func TestAFutureStampDoesNotCarryTheCursorPastNow(t *testing.T) {
	t.Parallel()
	f := newFixture(t, beyondtrust.ProductPRA)
	f.team(f.clock.Now().Add(10*365*24*time.Hour), "Conference Member Added")
	f.mustPoll(StreamTeam)
	if cur := f.cursor(StreamTeam).Cursor(); cur.After(f.clock.Now()) {
		t.Fatalf("cursor %s is past now", cur)
	}
	f.team(f.clock.Now().Add(-time.Second), "Conference Member Departed")
	f.clock.Add(time.Minute)
	if c := f.mustPoll(StreamTeam); c.New != 1 {
		t.Errorf("an event after a future-stamped one: %+v", c)
	}
}

func TestRemoteSupportAsksForSupportTeam(t *testing.T) {
	t.Parallel()
	f := newFixture(t, beyondtrust.ProductRS)
	f.team(f.clock.Now().Add(-time.Minute), "Conference Member Added")
	if c := f.mustPoll(StreamTeam); c.New != 1 {
		t.Fatalf("%+v", c)
	}
	docs, _ := f.docs(StreamTeam)
	if docs[0]["report"] != "SupportTeam" {
		t.Errorf("report %v", docs[0]["report"])
	}
}

func TestBadAnswersStoreNothing(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"html":       "<html><body>Login</body></html>",
		"truncated":  `<?xml version="1.0"?><vault_account_activity_list><vault_account_activity timestamp="1773671926"`,
		"refusal":    `<error xmlns="http://www.beyondtrust.com/sra/namespaces/API/reporting" code="authentication_failed">Authentication failed.</error>`,
		"two roots":  `<vault_account_activity_list></vault_account_activity_list><x/>`,
		"empty":      "",
		"latin1":     `<?xml version="1.0" encoding="ISO-8859-1"?><vault_account_activity_list/>`,
		"entity":     `<!DOCTYPE x [<!ENTITY e "boom">]><vault_account_activity_list><vault_account_activity timestamp="1" event_type="&e;"/></vault_account_activity_list>`,
		"deep":       "<vault_account_activity_list>" + strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100) + "</vault_account_activity_list>",
		"not a zip?": "PK\x03\x04garbage",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, beyondtrust.ProductPRA)
			f.vault(f.clock.Now().Add(-time.Minute), "Account Created")
			f.sim.Inject(bttest.Fault{Path: bttest.PathReporting, Status: http.StatusOK, Body: body, Times: 1})
			_, err := f.poll(StreamVault)
			if err == nil {
				t.Fatal("a bad answer was accepted")
			}
			if docs, _ := f.docs(StreamVault); len(docs) != 0 {
				t.Fatal("stored records from a bad answer")
			}
			if f.cursor(StreamVault).CursorAt != 0 {
				t.Fatal("the cursor moved")
			}
			if c := f.mustPoll(StreamVault); c.New != 1 {
				t.Fatalf("next poll %+v", c)
			}
		})
	}
}

func TestLoadFileTakesApplianceEntriesOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := dir + "/sources.json"
	write := func(s string) {
		if err := writeFile(path, s); err != nil {
			t.Fatal(err)
		}
	}
	env := func(k string) (string, bool) { return map[string]string{"PRA_SECRET": "x"}[k], k == "PRA_SECRET" }
	write(`[{"name":"epm","services_url":"https://a-services.pm.beyondtrustcloud.com","client_id":"c","client_secret_env":"PRA_SECRET"},
	{"kind":"appliance","name":"pra","host":"access.example.com","client_id":"c","client_secret_env":"PRA_SECRET","streams":["team","syslog"],"deliver_to":["SIEM"]}]`)
	got, err := LoadFile(path, env)
	if err != nil || len(got) != 1 {
		t.Fatalf("%v %v", got, err)
	}
	s := got[0]
	if s.Name != "pra" || s.Product != "pra" || fmt.Sprint(s.Selected()) != "[team syslog]" || s.Interval != DefaultInterval || s.ClientSecret.Reveal() != "x" {
		t.Errorf("settings %+v", s)
	}
	for bad, want := range map[string]string{
		`[{"kind":"appliance","name":"p","host":"https://a","client_id":"c","client_secret_env":"PRA_SECRET"}]`:                "without https://",
		`[{"kind":"appliance","name":"p","host":"a","client_id":"c","client_secret_env":"PRA_SECRET","streams":["sessions"]}]`: "not a stream",
		`[{"kind":"appliance","name":"p","host":"a","client_id":"c","client_secret_env":"NOPE"}]`:                              "NOPE is not set",
		`[{"kind":"appliance","name":"p","host":"a","client_id":"c","client_secret_env":"PRA_SECRET","typo":1}]`:               "typo",
		`[{"kind":"appliance","name":"p","host":"a","client_id":"c","client_secret_env":"PRA_SECRET","product":"pm"}]`:         "product",
		`[{"kind":"appliances","name":"p"}]`:                                                    `kind "appliances" is neither`,
		`[{"kind":"appliance","name":"p","host":"a","client_id":"c","client_secret":"inline"}]`: "chmod 600",
		`[{"kind":"appliance","name":"p","host":"a","client_id":"c","client_secret_env":"PRA_SECRET"},{"kind":"appliance","name":"p","host":"b","client_id":"c","client_secret_env":"PRA_SECRET"}]`: "two sources",
	} {
		write(bad)
		if _, err := LoadFile(path, env); err == nil || !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(want)) {
			t.Errorf("%s: error %v, want one naming %q", bad, err, want)
		}
	}
}
