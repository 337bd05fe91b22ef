package siem

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
)

// checkTimeout bounds each Test check; the admin is waiting.
const checkTimeout = 10 * time.Second

// Test checks a configuration: its settings, the appliance, then the
// destination (reach, authentication) and, only when the admin ticked
// "send a test event", one event marked as a test, the only write Test
// ever makes.
func (p *Plugin) Test(ctx context.Context, cfg *engine.TestConfig) []engine.Check {
	out := []engine.Check{settingsCheck(cfg)}
	set, ok := cfg.Settings.(*Settings)
	if !ok {
		return out
	}
	out = append(out, engine.ApplianceChecks(ctx, cfg, false)...)
	if len(cfg.Errors) > 0 {
		return append(out, engine.Check{ID: "siem_reach", Label: "Destination reachable", Status: engine.CheckSkipped, Message: "Skipped: fix the settings first."})
	}
	return append(out, p.testDestination(ctx, cfg, set)...)
}

// testDestination runs the destination's checks; what they say passes
// through the configuration's redactor, since it quotes the destination's
// answers.
func (p *Plugin) testDestination(ctx context.Context, cfg *engine.TestConfig, set *Settings) []engine.Check {
	checks := p.destinationChecks(ctx, cfg, set)
	red := set.redactor()
	for i := range checks {
		checks[i].Message, checks[i].Detail = red.String(checks[i].Message), red.String(checks[i].Detail)
	}
	return checks
}

func (p *Plugin) destinationChecks(ctx context.Context, cfg *engine.TestConfig, set *Settings) []engine.Check {
	var out []engine.Check
	reach := timed(ctx, "siem_reach", "Destination reachable", func(ctx context.Context) (string, string, string) { return p.reach(ctx, set) })
	out = append(out, reach)
	if reach.Status == engine.CheckFail {
		return out
	}
	auth := timed(ctx, "siem_auth", "Destination authentication", func(ctx context.Context) (string, string, string) { return p.auth(ctx, set) })
	out = append(out, auth)
	if auth.Status == engine.CheckFail {
		return out
	}
	if !set.TestSendEvent {
		return append(out, engine.Check{ID: "siem_test_event", Label: "Test event", Status: engine.CheckSkipped, Message: "Not sent: tick \"Test Sends a Test Event\" to send one event marked as a test."})
	}
	return append(out, timed(ctx, "siem_test_event", "Test event", func(ctx context.Context) (string, string, string) { return p.testEvent(ctx, cfg, set) }))
}

func settingsCheck(cfg *engine.TestConfig) engine.Check {
	c := engine.Check{ID: "settings", Label: "Settings", Status: engine.CheckOK, Message: "The settings are valid."}
	if len(cfg.Errors) > 0 {
		c.Status, c.Message, c.Detail = engine.CheckFail, "Some settings are not valid; see the fields marked in the form.", cfg.Errors.Error()
	}
	return c
}

func timed(ctx context.Context, id, label string, run func(ctx context.Context) (string, string, string)) engine.Check {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	start := time.Now()
	status, msg, detail := run(ctx)
	return engine.Check{ID: id, Label: label, Status: status, Message: msg, Detail: detail, Duration: time.Since(start)}
}

// reach connects to the destination: DNS, TCP and TLS (with the client
// certificate for syslog over TLS).
func (p *Plugin) reach(ctx context.Context, set *Settings) (string, string, string) {
	if set.Destination == DestSyslog {
		if set.SyslogTransport == TransportUDP {
			return engine.CheckWarn, "UDP has no handshake: whether " + set.SyslogAddress + " listens cannot be checked. Tick \"Test Sends a Test Event\" and look for it in the SIEM.", ""
		}
		d, err := newSyslog(set)
		if err != nil {
			return engine.CheckFail, err.Error(), ""
		}
		defer d.close()
		if err := d.connect(ctx); err != nil {
			return engine.CheckFail, err.Error(), ""
		}
		return engine.CheckOK, "Connected to " + set.SyslogAddress + " over " + strings.ToUpper(set.SyslogTransport) + ".", ""
	}
	hc, err := p.client(set)
	if err != nil {
		return engine.CheckFail, err.Error(), ""
	}
	u, _ := url.Parse(set.URL)
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, u.Scheme+"://"+u.Host+"/", nil)
	if err != nil {
		return engine.CheckFail, "siem: the URL is not valid", ""
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return engine.CheckFail, fmt.Sprintf("Cannot reach %s: %v", u.Host, err), ""
	}
	resp.Body.Close()
	return engine.CheckOK, fmt.Sprintf("%s answered over %s.", u.Host, u.Scheme), ""
}

// auth checks the credential without writing, where the destination has
// a way: HEC answers an empty post with "No data" (code 5) only to a
// valid token; Elastic has an authenticate API. Sekoia and a webhook are
// only checked by a test event.
func (p *Plugin) auth(ctx context.Context, set *Settings) (string, string, string) {
	switch set.Destination {
	case DestHEC:
		hc, err := p.client(set)
		if err != nil {
			return engine.CheckFail, err.Error(), ""
		}
		h := newHEC(hc, set)
		a, err := post(ctx, hc, h.name(), h.url+"/services/collector/event", h.header(), nil)
		if err != nil {
			return engine.CheckFail, err.Error(), ""
		}
		var ans hecAnswer
		_ = json.Unmarshal(a.body, &ans)
		detail := fmt.Sprintf("HTTP %d %s", a.status, snippet(h.red, a.body))
		switch {
		case ans.Code == 5:
			return engine.CheckOK, "Splunk accepts the token (it answered \"No data\" to an empty request).", detail
		case ans.Code == 10:
			return engine.CheckFail, "The token has indexer acknowledgement on: turn Indexer Acknowledgement on and give a channel GUID.", detail
		case a.status == http.StatusUnauthorized || a.status == http.StatusForbidden:
			return engine.CheckFail, fmt.Sprintf("Splunk refused the token: %q (code %d).", h.red.String(ans.Text), ans.Code), detail
		}
		return engine.CheckWarn, "Splunk gave an unexpected answer to an empty request.", detail
	case DestElastic:
		return p.elasticAuth(ctx, set)
	case DestSyslog:
		if set.SyslogTransport == TransportTLS && set.TLSClientCert != "" {
			return engine.CheckOK, "The receiver accepted the client certificate.", ""
		}
		return engine.CheckSkipped, "Syslog has no authentication beyond TLS client certificates.", ""
	}
	return engine.CheckSkipped, "This destination can only check the credential by accepting an event: tick \"Test Sends a Test Event\".", ""
}

// elasticAuth asks Elastic who the API key is, which writes nothing:
// GET /_security/_authenticate answers 401 to credentials that do not
// authenticate (https://www.elastic.co/guide/en/elasticsearch/reference/8.19/security-api-authenticate.html).
// A cluster without the security API answers 404 or 405: the key could
// not be checked, which is a warning, not a pass.
func (p *Plugin) elasticAuth(ctx context.Context, set *Settings) (string, string, string) {
	hc, err := p.client(set)
	if err != nil {
		return engine.CheckFail, err.Error(), ""
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(set.URL, "/")+"/_security/_authenticate", nil)
	if err != nil {
		return engine.CheckFail, "siem: the URL is not valid", ""
	}
	req.Header.Set("Authorization", "ApiKey "+set.Credential.Reveal())
	resp, err := hc.Do(req)
	if err != nil {
		return engine.CheckFail, fmt.Sprintf("Elastic: %v", redactURL(err)), ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	detail := fmt.Sprintf("GET /_security/_authenticate: HTTP %d %s", resp.StatusCode, snippet(set.redactor(), body))
	switch {
	case resp.StatusCode/100 == 2:
		// The documented answer names the user; a proxy's page would not.
		var who struct {
			Username *string `json:"username"`
		}
		if json.Unmarshal(body, &who) != nil || who.Username == nil {
			return engine.CheckWarn, "Elastic answered 2xx with something that is not the authenticate API's answer (a proxy?): the key is not checked.", detail
		}
		return engine.CheckOK, fmt.Sprintf("Elastic accepts the API key (authenticate API, nothing written); it belongs to %q. Whether it may create documents in the index shows only with a test event.", *who.Username), detail
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return engine.CheckFail, fmt.Sprintf("Elastic refused the API key (HTTP %d): paste the key's encoded value.", resp.StatusCode), detail
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed:
		if set.TestSendEvent {
			return engine.CheckSkipped, "The cluster has no authenticate API (security off?): the test event below checks the key.", detail
		}
		return engine.CheckWarn, "Elastic could not verify credentials without writing: the cluster has no authenticate API (security off?). Tick \"Test Sends a Test Event\" to check the key with one event.", detail
	}
	return engine.CheckWarn, fmt.Sprintf("Elastic gave an unexpected answer (HTTP %d) to the authenticate API.", resp.StatusCode), detail
}

// testEvent sends one event marked as a test and reports the answer.
func (p *Plugin) testEvent(ctx context.Context, cfg *engine.TestConfig, set *Settings) (string, string, string) {
	now := p.Now().UTC()
	e := Event{
		ID: "switchboard-test:" + fmt.Sprint(now.Unix()) + ":test", Kind: "test", Index: -1, Time: now, Type: TestType,
		ApplianceID: cfg.Appliance.ApplianceID, Host: cfg.Appliance.Host, Test: true,
		Session: &bt.Session{LSID: "switchboard-test", Product: cfg.Appliance.Product},
	}
	enc, err := Encode(set.Format, &e, set.redaction())
	if err != nil {
		return engine.CheckFail, err.Error(), ""
	}
	enc.Index = 0
	d, err := p.destination(set)
	if err != nil {
		return engine.CheckFail, err.Error(), ""
	}
	defer d.close()
	out := d.send(ctx, []Encoded{enc})
	switch {
	case out.err != nil:
		return engine.CheckFail, "The destination did not accept the test event.", out.err.Error()
	case len(out.rejected) > 0:
		return engine.CheckFail, "The destination refused the test event.", out.rejected[0]
	case len(out.deferred) > 0:
		return engine.CheckWarn, "The destination asked to send the test event later.", fmt.Sprint(out.deferErr)
	}
	return engine.CheckOK, fmt.Sprintf("%s accepted the test event %s (event code %q).", d.name(), e.ID, TestType), ""
}
