package adminui

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"switchboard/engine"
	"switchboard/engine/auth"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/server"
	"switchboard/engine/store"
	"switchboard/plugins/autotask"
	"switchboard/plugins/autotask/autotasktest"
)

func TestMain(m *testing.M) {
	// The race detector makes a cost-12 bcrypt check take seconds.
	auth.BcryptCost = bcrypt.MinCost
	os.Exit(m.Run())
}

const (
	adminPassword = "correct horse battery"
	// csrfToken is the CSRF cookie the harness sends, as a browser that
	// loaded a page before signing in would.
	csrfToken = "harness-csrf-token-0123456789abcdef"
)

// harness is the admin UI on an echo instance over a real server's service,
// store and auth, with both simulators behind the autotask plugin.
type harness struct {
	t       testing.TB
	srv     *server.Server
	e       *echo.Echo
	session string
	app     *bttest.Appliance
	sim     *autotasktest.Server
}

// simulators starts the appliance and Autotask simulators and an Autotask
// plugin that finds its zone on the latter.
func simulators(t testing.TB) (*bttest.Appliance, *autotasktest.Server, *autotask.Plugin) {
	t.Helper()
	app := bttest.New()
	t.Cleanup(app.Close)
	sim := autotasktest.New(autotasktest.Options{})
	t.Cleanup(sim.Close)
	p := autotask.New()
	p.ZoneInformationURL = sim.ZoneInformationURL()
	return app, sim, p
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	app, sim, p := simulators(t)
	h := newBareHarness(t, server.Options{Plugins: []engine.Plugin{p}, AdminPassword: adminPassword})
	sess, err := h.srv.Auth.Login(t.Context(), "admin", adminPassword, "127.0.0.1", "harness")
	if err != nil {
		t.Fatal(err)
	}
	h.session, h.app, h.sim = sess.Token, app, sim
	return h
}

// newBareHarness builds a server (not started: no listeners, no workers)
// with opts and the UI on an echo instance, and signs nobody in.
func newBareHarness(t testing.TB, opts server.Options) *harness {
	t.Helper()
	opts.DataDir = t.TempDir()
	srv, err := server.New(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	ui, err := New(Options{Service: srv.Service, Auth: srv.Auth})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	ui.Register(e)
	return &harness{t: t, srv: srv, e: e}
}

// request options
type reqOpt func(*http.Request)

// withoutCookie leaves the cookie name out of a request.
func withoutCookie(name string) reqOpt {
	return func(r *http.Request) {
		cookies := r.Cookies()
		r.Header.Del("Cookie")
		for _, c := range cookies {
			if c.Name != name {
				r.AddCookie(c)
			}
		}
	}
}

// anonymous sends no session cookie.
var anonymous = withoutCookie(auth.SessionCookie)

// wantJSON asks as the UI's scripts do.
func wantJSON(r *http.Request) { r.Header.Set("Accept", "application/json") }

// noCSRF leaves the CSRF cookie out, as a forged cross-site form would
// (the browser keeps SameSite=Strict cookies to itself).
var noCSRF = withoutCookie(auth.CSRFCookie)

func (h *harness) do(method, target string, form url.Values, opts ...reqOpt) *httptest.ResponseRecorder {
	h.t.Helper()
	req := httptest.NewRequest(method, target, nil)
	req.RemoteAddr = "127.0.0.1:50000"
	req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: h.session})
	req.AddCookie(&http.Cookie{Name: auth.CSRFCookie, Value: csrfToken})
	for _, o := range opts {
		o(req)
	}
	if method == http.MethodPost {
		if form == nil {
			form = url.Values{}
		}
		if _, ok := form[auth.CSRFField]; !ok {
			// What the page the form came from would carry.
			form.Set(auth.CSRFField, h.srv.Auth.CSRFTokenFor(req))
		}
		req.Body = io.NopCloser(strings.NewReader(form.Encode()))
		req.ContentLength = int64(len(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	rec := httptest.NewRecorder()
	h.e.ServeHTTP(rec, req)
	return rec
}

func (h *harness) get(target string, opts ...reqOpt) *httptest.ResponseRecorder {
	h.t.Helper()
	return h.do(http.MethodGet, target, nil, opts...)
}

func (h *harness) post(target string, form url.Values, opts ...reqOpt) *httptest.ResponseRecorder {
	h.t.Helper()
	return h.do(http.MethodPost, target, form, opts...)
}

// validForm is a complete Autotask configuration for the simulators.
func (h *harness) validForm(name string) url.Values {
	return url.Values{
		"appliance.name":                       {name},
		"appliance.appliance_id":               {"Default"},
		"appliance.host":                       {h.app.Host()},
		"appliance.client_id":                  {bttest.DefaultClientID},
		"appliance.client_secret":              {bttest.DefaultClientSecret},
		"appliance.locale":                     {"en-us"},
		"appliance.product":                    {"rs"},
		"appliance.allow_invalid_certificates": {"on"},
		"appliance.outbound_events":            autotask.Events,
		"appliance.polling_interval":           {"60"},
		"appliance.polling_backfill_hours":     {"0"},
		"appliance.retry_attempt_limit":        {"5"},
		"appliance.retry_outbound_events":      autotask.Events,
		"settings.username":                    {autotasktest.DefaultUsername},
		"settings.password":                    {autotasktest.DefaultSecret},
		"settings.integration_code":            {autotasktest.DefaultIntegrationCode},
		"settings.note_type":                   {"1"},
		"settings.report_time_zone":            {"UTC"},
		"settings.time_entry_defaults":         {"{}"},
		"settings.auto_ticket_session_types":   {"issue_submission"},
		"settings.ticket_defaults":             {`{"title": "{{Issue}}", "status": 1}`},
	}
}

// createConfig saves a configuration through the UI and returns its id.
func (h *harness) createConfig(name string) int64 {
	h.t.Helper()
	rec := h.post("/plugins/autotask/new", h.validForm(name))
	if rec.Code != http.StatusSeeOther {
		h.t.Fatalf("create %s: status %d, body:\n%s", name, rec.Code, rec.Body)
	}
	cfgs, err := h.srv.Service.Configs(h.t.Context(), "autotask")
	if err != nil {
		h.t.Fatal(err)
	}
	for _, c := range cfgs {
		if c.Name == name {
			return c.ID
		}
	}
	h.t.Fatalf("configuration %s was not stored", name)
	return 0
}

// addEvent stores an event routed to configID and returns the event and
// delivery ids.
func (h *harness) addEvent(configID int64, lsid string) (int64, int64) {
	h.t.Helper()
	ctx := h.t.Context()
	now := time.Now()
	fields := url.Values{"lsid": {lsid}, "event": {engine.EventSessionEnd}, "appliance": {"Default"}}
	ins, err := h.srv.Store.InsertEvents(ctx, []*store.NewEvent{{
		Event: store.Event{
			DedupeKey: "test:" + lsid, ApplianceID: "Default", Name: engine.EventSessionEnd,
			Source: engine.SourceOutbound, LSID: lsid, OccurredAt: now.UnixMilli(), ReceivedAt: now.UnixMilli(),
			Fields: fields.Encode(), Routing: store.Routed,
		},
		Deliveries: []store.NewDelivery{{ConfigID: configID, Plugin: autotask.ID, MaxAttempts: 1}},
	}}, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	ds, err := h.srv.Store.ListDeliveries(ctx, store.DeliveryFilter{EventID: ins[0].EventID})
	if err != nil || len(ds) != 1 {
		h.t.Fatalf("deliveries of the new event: %v, %v", ds, err)
	}
	return ins[0].EventID, ds[0].ID
}

// failDelivery runs one attempt of a delivery that fails for good, with an
// upstream body in its error.
func (h *harness) failDelivery(id int64) {
	h.t.Helper()
	ctx := h.t.Context()
	now := time.Now()
	claimed, err := h.srv.Store.Claim(ctx, autotask.ID, 10, "harness", time.Minute, now.Add(time.Second))
	if err != nil || len(claimed) == 0 {
		h.t.Fatalf("claim: %v, %v", claimed, err)
	}
	token := ""
	for _, d := range claimed {
		if d.ID == id {
			token = d.LeaseToken
		}
	}
	err = h.srv.Store.FinishAttempt(ctx, store.Finish{
		ID: id, Token: token, State: store.StateFailed, Outcome: "permanent",
		Error:   `autotask: add note to ticket T20240305.0001: 500 {"errors":["simulated upstream failure"]}`,
		Started: now, Duration: 120 * time.Millisecond,
	})
	if err != nil {
		h.t.Fatal(err)
	}
}
