package autotask

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/plugintest"
	"switchboard/plugins/autotask/autotasktest"
)

func simOptions(sim *autotasktest.Server) Options {
	return Options{
		ZoneInformationURL: sim.ZoneInformationURL(),
		Username:           autotasktest.DefaultUsername,
		Secret:             autotasktest.DefaultSecret,
		IntegrationCode:    autotasktest.DefaultIntegrationCode,
	}
}

func TestClassifyNamesTheSetting(t *testing.T) {
	t.Parallel()
	sim := autotasktest.New(autotasktest.Options{})
	t.Cleanup(sim.Close)
	tests := []struct {
		name string
		edit func(o *Options)
		want string
	}{
		{name: "wrong secret", edit: func(o *Options) { o.Secret = "wrong-secret-123" }, want: "check Autotask Password"},
		{name: "unknown user", edit: func(o *Options) { o.Username = "nobody@example.com" }, want: "check Autotask Username"},
		{name: "wrong code", edit: func(o *Options) { o.IntegrationCode = "WRONG-CODE-123" }, want: "check API Integration Code"},
		{name: "wrong services URL", edit: func(o *Options) { o.ServicesURL = sim.URL + "/login" }, want: "check Autotask Services URL"},
	}
	for _, tc := range tests {
		opts := simOptions(sim)
		tc.edit(&opts)
		c, err := NewClient(opts)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.EntityInfo(context.Background(), "Tickets")
		err = Classify(err)
		if out, _ := engine.Classify(err); out != engine.OutcomePermanent || (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v (%v), want permanent with %q", tc.name, out, err, tc.want)
		}
		plugintest.AssertNoSecret(t, err, opts.Secret, opts.IntegrationCode, autotasktest.DefaultSecret)
	}
}

func TestZoneRediscoveryAfter401(t *testing.T) {
	t.Parallel()
	oldZone := autotasktest.New(autotasktest.Options{})
	t.Cleanup(oldZone.Close)
	newZone := autotasktest.New(autotasktest.Options{})
	t.Cleanup(newZone.Close)
	c, err := NewClient(simOptions(oldZone))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.EntityInfo(ctx, "Tickets"); err != nil {
		t.Fatal(err)
	}
	// The tenant moves: the old zone answers 401 and points to the new one.
	oldZone.MoveTo(newZone.RESTRoot())
	if _, err := c.EntityInfo(ctx, "Tickets"); err != nil {
		t.Fatalf("after the move: %v", err)
	}
	if zone, _ := c.Zone(ctx); zone+"/" != newZone.RESTRoot() {
		t.Errorf("zone = %s, want %s", zone, newZone.RESTRoot())
	}
	if n := newZone.Stats("Tickets").Requests; n != 1 {
		t.Errorf("new zone saw %d requests, want 1", n)
	}
}

// A zone that answers with a redirect must not get the credentials
// forwarded to wherever it points.
func TestCredentialsNeverFollowARedirect(t *testing.T) {
	t.Parallel()
	var leaked atomic.Bool
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Secret") != "" || r.Header.Get("ApiIntegrationCode") != "" {
			leaked.Store(true)
		}
		w.Write([]byte(`{"items":[]}`))
	}))
	defer elsewhere.Close()
	zone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer zone.Close()
	c, err := NewClient(Options{ServicesURL: zone.URL + "/ATServicesRest/", Username: "u@example.com", Secret: "top-secret-value", IntegrationCode: "CODE123456"})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Query(context.Background(), "Tickets", Query{MaxRecords: 1}, &struct{}{})
	if err == nil || !strings.Contains(err.Error(), "redirected") || strings.Contains(err.Error(), "top-secret-value") {
		t.Fatalf("query through a redirecting zone: %v", err)
	}
	if leaked.Load() {
		t.Fatal("the credentials followed the redirect to another server")
	}
}

func TestEndpointOf(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"Tickets/query":                    "Tickets",
		"Tickets/42":                       "Tickets",
		"Tickets/42/Notes":                 "TicketNotes",
		"TicketNotes/query":                "TicketNotes",
		"Tickets/entityInformation/fields": "Tickets",
		"Companies/3/Contacts":             "Contacts",
	}
	for path, want := range tests {
		if got := endpointOf(path); got != want {
			t.Errorf("endpointOf(%s) = %s, want %s", path, got, want)
		}
	}
}

// TestThreadLimitUnderLoad ends 200 sessions at once: the simulator refuses
// a fourth concurrent request per endpoint, and must never have to. The
// sessions are fetched beforehand so that all 200 deliveries reach
// Autotask together instead of queueing at the appliance.
func TestThreadLimitUnderLoad(t *testing.T) {
	t.Parallel()
	h := newHarness(t, autotasktest.Options{})
	h.sim.SetLatency(2 * time.Millisecond)
	h.set.UpdateTimeEntry = true
	h.set.TimeEntryDefaults = `{"defaultDomain": "msp.example", "roleName": "Technician", "summaryNotes": "Remote support"}`
	const sessions = 200
	jobs := make([]*engine.Job, sessions)
	for i := range jobs {
		live := h.app.Begin(bttest.SessionSpec{ExternalKey: autotasktest.TicketOpenNumber, Rep: bttest.Rep{Username: "alice", DisplayName: "Alice Tech"}}).After(time.Minute).End()
		jobs[i] = h.job(engine.EventSessionEnd, live, nil)
	}
	app := h.prefetch(jobs)
	var wg sync.WaitGroup
	errs := make(chan error, sessions)
	for _, job := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.plugin.handle(context.Background(), job, h.set, app); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for endpoint, st := range h.sim.AllStats() {
		if st.ThreadRejected > 0 || st.MaxConcurrent > ThreadLimit {
			t.Errorf("%s: %+v; want no refusals and at most %d at once", endpoint, st, ThreadLimit)
		}
	}
	if n := len(h.sim.Notes(autotasktest.TicketOpen)); n != sessions {
		t.Errorf("%d notes, want %d", n, sessions)
	}
	if n := len(h.sim.TimeEntries(autotasktest.TicketOpen)); n != sessions {
		t.Errorf("%d time entries, want %d", n, sessions)
	}
	if st := h.sim.Stats("TicketNotes"); st.MaxConcurrent < 2 {
		t.Logf("note endpoint concurrency %d: the load did not overlap much", st.MaxConcurrent)
	}
}

func TestGetNotFound(t *testing.T) {
	t.Parallel()
	sim := autotasktest.New(autotasktest.Options{})
	t.Cleanup(sim.Close)
	c, err := NewClient(simOptions(sim))
	if err != nil {
		t.Fatal(err)
	}
	var v struct{}
	if err := c.Get(context.Background(), "Tickets", 1, &v); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get unknown id: %v, want ErrNotFound", err)
	}
}
