package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/alert"
	"switchboard/engine/outbound"
)

// failingPlugin refuses every delivery for good.
type failingPlugin struct{ countingPlugin }

func (p *failingPlugin) Info() engine.Info {
	i := p.countingPlugin.Info()
	i.ID, i.Name = "fail", "Failing"
	return i
}

func (p *failingPlugin) Handle(context.Context, *engine.Job) error {
	return engine.Permanent(errors.New("remote: 403 the API user may not write notes"))
}

// TestFailedDeliveryIsAlerted: a configuration with an alert webhook is
// told, by a signed POST, when its delivery fails for good; the webhook
// secret never comes back from the API.
func TestFailedDeliveryIsAlerted(t *testing.T) {
	t.Parallel()
	got := make(chan alert.Notice, 4)
	hook := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts, _ := strconv.ParseInt(r.Header.Get(outbound.HeaderTimestamp), 10, 64)
		if r.Header.Get(outbound.HeaderSignature) != outbound.Sign("hook-secret-value", ts, body) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var n alert.Notice
		_ = json.Unmarshal(body, &n)
		got <- n
	}))
	t.Cleanup(hook.Close)
	s := startWith(t, Options{DataDir: t.TempDir(), Plugins: []engine.Plugin{&failingPlugin{}}, AlertHTTP: hook.Client(), AlertCheck: 50 * time.Millisecond})

	status, body := api(t, s, http.MethodPost, "/api/v1/configurations", map[string]any{
		"plugin": "fail",
		"appliance": map[string]any{"name": "Acme", "host": "support.example.com",
			"alert_webhook_url": "http://example.com/hook", "alert_webhook_secret": "hook-secret-value"},
	})
	if status != http.StatusUnprocessableEntity || !strings.Contains(string(body), "alert_webhook_url") {
		t.Fatalf("plain http to another host: %d %s", status, body)
	}
	status, body = api(t, s, http.MethodPost, "/api/v1/configurations", map[string]any{
		"plugin": "fail",
		"appliance": map[string]any{"name": "Acme", "host": "support.example.com",
			"alert_webhook_url": hook.URL + "/hook", "alert_webhook_secret": "hook-secret-value"},
	})
	if status != http.StatusCreated || strings.Contains(string(body), "hook-secret-value") {
		t.Fatalf("create: %d %s", status, body)
	}
	if code := postEvent(t, http.DefaultClient, s.IntakeURL()+"/ERSPost?appliance=Default", "L1", nil); code != http.StatusOK {
		t.Fatalf("post: %d", code)
	}
	select {
	case n := <-got:
		if n.Kind != alert.KindDeliveriesFailed || n.Configuration != "Acme" || n.Count != 1 || !strings.Contains(n.LastError, "may not write notes") {
			t.Fatalf("alert %+v", n)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no alert within 30 s of a failed delivery")
	}
}
