package siem

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"switchboard/engine"
	"switchboard/engine/plugintest"
	"switchboard/plugins/siem/siemtest"
)

func (h *harness) testConfig(set *Settings) *engine.TestConfig {
	opts := h.app.Options()
	return &engine.TestConfig{
		Appliance: engine.ApplianceSettings{ApplianceID: "Default", Host: opts.Host, ClientID: opts.ClientID, ClientSecret: engine.NewSecret(opts.ClientSecret), Product: "pra"},
		Settings:  set, Errors: engine.Validate(set), Client: h.btc,
	}
}

func checkStatus(checks []engine.Check) map[string]string {
	out := map[string]string{}
	for _, c := range checks {
		out[c.ID] = c.Status
	}
	return out
}

// TestTestWritesOnlyWhenTicked: without "Test Sends a Test Event" the
// Test button connects and authenticates and writes nothing; with it, it
// sends exactly one event marked as a test.
func TestTestWritesOnlyWhenTicked(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	hec := startHEC(t, siemtest.HECOptions{})
	elastic := startElastic(t, false)
	sekoia := startSekoia(t, false)
	syslog := startSyslog(t, siemtest.SyslogOptions{Transport: TransportTCP})
	dests := []struct {
		name  string
		set   *Settings
		held  func() int
		posts func() int
		auth  string
	}{
		{"hec", hecSettings(hec.URL), func() int { return len(hec.Events()) }, nil, engine.CheckOK},
		{"elastic", elasticSettings(elastic.URL), elastic.Held, elastic.Posts, engine.CheckOK},
		{"sekoia", sekoiaSettings(sekoia.URL), sekoia.Held, sekoia.Posts, engine.CheckSkipped},
		{"syslog", syslogSettings(TransportTCP, syslog.Addr), func() int { return len(syslog.Messages()) }, nil, engine.CheckSkipped},
	}
	for _, d := range dests {
		got := checkStatus(h.plugin.Test(context.Background(), h.testConfig(d.set)))
		want := map[string]string{"settings": engine.CheckOK, "siem_reach": engine.CheckOK, "siem_auth": d.auth, "siem_test_event": engine.CheckSkipped}
		for id, st := range want {
			if got[id] != st {
				t.Errorf("%s unticked: %s = %q, want %q (%v)", d.name, id, got[id], st, got)
			}
		}
		if n := d.held(); n != 0 {
			t.Errorf("%s unticked: the receiver holds %d events", d.name, n)
		}
		if d.posts != nil && d.posts() != 0 {
			t.Errorf("%s unticked: %d data requests", d.name, d.posts())
		}
		d.set.TestSendEvent = true
		checks := h.plugin.Test(context.Background(), h.testConfig(d.set))
		if st := checkStatus(checks)["siem_test_event"]; st != engine.CheckOK {
			t.Errorf("%s ticked: test event %q (%+v)", d.name, st, checks)
		}
		if d.name == "syslog" {
			waitMessages(t, syslog, 1)
		}
		if n := d.held(); n != 1 {
			t.Errorf("%s ticked: the receiver holds %d events, want 1", d.name, n)
		}
	}
	if m := syslog.Messages()[0]; !strings.Contains(m.Msg, TestType) {
		t.Errorf("syslog test event %q", m.Msg)
	}
	if ev := hec.Events()[0].Envelope["event"].(map[string]any)["event"].(map[string]any); ev["code"] != TestType {
		t.Errorf("HEC test event %v", ev)
	}
}

// TestTestReportsRefusals: a wrong token fails authentication and sends
// no event; an unreachable destination stops the checks there.
func TestTestReportsRefusals(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	hec := startHEC(t, siemtest.HECOptions{})
	set := hecSettings(hec.URL)
	set.Credential, set.TestSendEvent = engine.NewSecret("00000000-0000-0000-0000-000000000000"), true
	checks := h.plugin.Test(context.Background(), h.testConfig(set))
	got := checkStatus(checks)
	if got["siem_auth"] != engine.CheckFail || got["siem_test_event"] != "" {
		t.Errorf("wrong token: %+v", checks)
	}
	for _, c := range checks {
		if strings.Contains(c.Message+c.Detail, "00000000-0000") {
			t.Errorf("the token shows in %s: %s %s", c.ID, c.Message, c.Detail)
		}
	}
	if len(hec.Events()) != 0 {
		t.Errorf("an event was stored")
	}
	hec.Close()
	got = checkStatus(h.plugin.Test(context.Background(), h.testConfig(set)))
	if got["siem_reach"] != engine.CheckFail || got["siem_auth"] != "" {
		t.Errorf("closed receiver: %v", got)
	}
}

// TestTestElasticAuthWithoutWriting: unticked, Test checks the API key
// with the authenticate API, which writes nothing: a valid key passes, a
// refused one fails naming Elastic, and a cluster without the security API
// is a warning that the key could not be checked, not a pass.
func TestTestElasticAuthWithoutWriting(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, c := range []struct {
		name       string
		key        string
		noSecurity bool
		want, text string
	}{
		{"valid key", elasticKey, false, engine.CheckOK, "Elastic accepts the API key"},
		{"wrong key", "d3Jvbmc6a2V5LXRoYXQtaXMtd3Jvbmc=", false, engine.CheckFail, "Elastic refused the API key"},
		{"no security API", elasticKey, true, engine.CheckWarn, "could not verify credentials without writing"},
	} {
		r, err := siemtest.NewElastic(siemtest.ElasticOptions{APIKey: elasticKey, NoSecurity: c.noSecurity})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(r.Close)
		set := elasticSettings(r.URL)
		set.Credential = engine.NewSecret(c.key)
		checks := h.plugin.Test(context.Background(), h.testConfig(set))
		var auth engine.Check
		for _, ch := range checks {
			if ch.ID == "siem_auth" {
				auth = ch
			}
			plugintest.AssertNoSecret(t, errors.New(ch.Message+" "+ch.Detail), c.key)
		}
		if auth.Status != c.want || !strings.Contains(auth.Message, c.text) {
			t.Errorf("%s: siem_auth %q %q (%s), want %q %q", c.name, auth.Status, auth.Message, auth.Detail, c.want, c.text)
		}
		if r.Posts() != 0 || r.Held() != 0 {
			t.Errorf("%s: %d data requests, %d documents", c.name, r.Posts(), r.Held())
		}
	}
}

// TestTestElasticAuthNeedsAnAnswer: a 2xx that is not the authenticate
// API's answer (a proxy's page) does not pass the key.
func TestTestElasticAuthNeedsAnAnswer(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("<html>Sign in</html>"))
	}))
	t.Cleanup(srv.Close)
	for _, c := range h.plugin.Test(context.Background(), h.testConfig(elasticSettings(srv.URL))) {
		if c.ID == "siem_auth" && (c.Status != engine.CheckWarn || !strings.Contains(c.Message, "not the authenticate API's answer")) {
			t.Errorf("siem_auth %q %q", c.Status, c.Message)
		}
	}
}
