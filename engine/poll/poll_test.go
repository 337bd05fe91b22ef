package poll

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/beyondtrust"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/store"
	"switchboard/engine/storetest"
)

const applianceID = "site-1"

type fixture struct {
	t     *testing.T
	st    *store.Store
	clock *bttest.Clock
	app   *bttest.Appliance
	cfg   int64
	tgt   Target
	p     *Poller
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, st: storetest.Open(t), clock: bttest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))}
	f.app = bttest.New(bttest.WithClock(f.clock.Now), bttest.WithApplianceID(applianceID))
	t.Cleanup(f.app.Close)
	f.cfg = storetest.Config(t, f.st, "autotask", applianceID)
	f.tgt = f.target(f.cfg)
	f.p = New(Options{Store: f.st, Owner: "test", Now: f.clock.Now, Targets: func() []Target { return []Target{f.tgt} }})
	return f
}

func (f *fixture) target(id int64) Target {
	a := engine.DefaultApplianceSettings([]string{engine.EventSessionEnd, engine.EventCustomerSurveyDone, engine.EventRepSurveyDone})
	a.ApplianceID = applianceID
	a.OutboundEvents = nil
	a.PollingEvents = []string{engine.EventSessionEnd, engine.EventCustomerSurveyDone}
	return Target{ConfigID: id, Plugin: "autotask", Appliance: a, EnabledAt: f.clock.Now(), Client: beyondtrust.NewClient(f.app.Options(), nil)}
}

// session runs a short session that ends now and returns its lsid.
func (f *fixture) session(key string) string {
	l := f.app.Begin(bttest.SessionSpec{ExternalKey: key, Customer: &bttest.Customer{Name: "Dana"}, Rep: bttest.Rep{ID: "1", DisplayName: "Alex"}})
	l.Chat("Dana", "hi").End()
	return l.LSID()
}

func (f *fixture) poll() error {
	f.t.Helper()
	return f.p.Poll(context.Background(), f.tgt)
}

// deliveries returns, per lsid, how many deliveries the configuration has.
func (f *fixture) deliveries(config int64) map[string]int {
	f.t.Helper()
	ds, err := f.st.ListDeliveries(context.Background(), store.DeliveryFilter{ConfigID: config, Limit: 1000})
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]int{}
	for _, d := range ds {
		out[d.LSID]++
	}
	return out
}

func (f *fixture) cursor() *store.PollCursor {
	f.t.Helper()
	rows, err := f.st.ListPollCursors(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	for _, r := range rows {
		if r.ConfigID == f.cfg {
			return &r
		}
	}
	f.t.Fatalf("no cursor for config %d", f.cfg)
	return nil
}

func TestCursorAdvancesWithOverlapAndDedupes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.clock.Advance(time.Minute)
	a := f.session("T1")
	f.clock.Advance(30 * time.Second)
	if err := f.poll(); err != nil {
		t.Fatal(err)
	}
	first := f.clock.Now()
	if got := f.cursor().Cursor(); !got.Equal(first.Add(-DefaultOverlap)) {
		t.Errorf("cursor %v, want the appliance clock at the poll %v less the overlap", got, first)
	}
	// The session ended 30s before the poll, inside the overlap: the next
	// poll lists it again and must not deliver it twice.
	f.clock.Advance(time.Minute)
	b := f.session("T2")
	f.clock.Advance(time.Minute)
	if err := f.poll(); err != nil {
		t.Fatal(err)
	}
	if got := f.deliveries(f.cfg); got[a] != 1 || got[b] != 1 || len(got) != 2 {
		t.Errorf("deliveries %v, want one each for %s and %s", got, a, b)
	}
	if got := f.cursor(); got.LastError != "" || !got.LastSuccess().Equal(f.clock.Now()) {
		t.Errorf("cursor row %+v after a good poll", got)
	}
	events, err := f.st.ListEvents(context.Background(), store.EventFilter{LSID: a})
	if err != nil || len(events) != 1 || events[0].Source != engine.SourcePoll || events[0].ExternalKey != "T1" {
		t.Errorf("events of %s: %+v, %v", a, events, err)
	}
}

func TestOutageThenRecoveryMissesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if err := f.poll(); err != nil {
		t.Fatal(err)
	}
	before := f.cursor().Cursor()
	f.app.Inject(bttest.Fault{Path: bttest.PathReporting, Status: http.StatusServiceUnavailable, Body: "maintenance"})
	var lsids []string
	for range 4 {
		f.clock.Advance(time.Minute)
		lsids = append(lsids, f.session(""))
		f.clock.Advance(time.Minute)
		if err := f.poll(); err == nil {
			t.Fatal("a poll during the outage succeeded")
		}
	}
	row := f.cursor()
	if !row.Cursor().Equal(before) || row.LastError == "" || !row.LastPoll().Equal(f.clock.Now()) {
		t.Errorf("after failed polls: cursor %v (want %v unmoved), error %q, last poll %v", row.Cursor(), before, row.LastError, row.LastPoll())
	}
	f.app.ClearFaults()
	f.clock.Advance(time.Minute)
	if err := f.poll(); err != nil {
		t.Fatal(err)
	}
	got := f.deliveries(f.cfg)
	for _, l := range lsids {
		if got[l] != 1 {
			t.Errorf("session %s ended during the outage: %d deliveries, want 1", l, got[l])
		}
	}
	if f.cursor().LastError != "" {
		t.Error("the error stays after a good poll")
	}
}

func TestOutboundAndPolledCopiesDeliverOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// A second configuration of the same appliance that only polls.
	other := storetest.Config(t, f.st, "autotask", applianceID)
	otherTarget := f.target(other)
	f.clock.Advance(time.Minute)
	lsid := f.session("T9")
	// The appliance posted the end first, routed to the first configuration.
	fields := url.Values{"event": {engine.EventSessionEnd}, "lsid": {lsid}, "appliance_id": {applianceID}, "timestamp": {"1772442060"}}
	_, err := f.st.InsertEvents(context.Background(), []*store.NewEvent{{
		Event: store.Event{
			DedupeKey:   engine.DedupeKey(applianceID, engine.EventSessionEnd, lsid, fields.Get("timestamp"), fields),
			ApplianceID: applianceID, Name: engine.EventSessionEnd, Source: engine.SourceOutbound, LSID: lsid,
			Fields: fields.Encode(), Routing: store.Routed,
		},
		Deliveries: []store.NewDelivery{{ConfigID: f.cfg, Plugin: "autotask", MaxAttempts: 6}},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	if err := f.poll(); err != nil {
		t.Fatal(err)
	}
	if err := f.p.Poll(context.Background(), otherTarget); err != nil {
		t.Fatal(err)
	}
	if got := f.deliveries(f.cfg)[lsid]; got != 1 {
		t.Errorf("the configuration that got the post has %d deliveries, want 1", got)
	}
	if got := f.deliveries(other)[lsid]; got != 1 {
		t.Errorf("the polling-only configuration has %d deliveries, want 1", got)
	}
	events, err := f.st.ListEvents(context.Background(), store.EventFilter{LSID: lsid})
	if err != nil || len(events) != 1 {
		t.Errorf("%d events for the session (%v), want 1", len(events), err)
	}
}

func TestSurveysAfterTheEnd(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.clock.Advance(time.Minute)
	l := f.app.Begin(bttest.SessionSpec{Customer: &bttest.Customer{Name: "Dana"}, Rep: bttest.Rep{ID: "1", DisplayName: "Alex"}})
	l.End()
	f.clock.Advance(time.Minute)
	if err := f.poll(); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(5 * time.Minute) // the customer fills the survey in late
	l.CustomerSurvey(beyondtrust.SurveyAnswer{Name: "rating", Value: "4"})
	l.RepSurvey("Alex", beyondtrust.SurveyAnswer{Name: "resolution", Value: "ok"})
	for range 2 { // the second poll sees the survey again, inside the overlap
		f.clock.Advance(30 * time.Second)
		if err := f.poll(); err != nil {
			t.Fatal(err)
		}
	}
	events, err := f.st.ListEvents(context.Background(), store.EventFilter{LSID: l.LSID()})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range events {
		names = append(names, e.Name)
	}
	slices.Sort(names)
	// Rep surveys are not among this configuration's polling event types.
	if want := []string{engine.EventCustomerSurveyDone, engine.EventSessionEnd}; !slices.Equal(names, want) {
		t.Errorf("events %v, want %v", names, want)
	}
}

func TestNewConfigurationStartsAtEnableTimeWithBackfill(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		backfill int
		want     int
	}{{0, 0}, {3, 1}} {
		f := newFixture(t)
		old := f.session("old")
		f.clock.Advance(2 * time.Hour)
		f.tgt = f.target(f.cfg) // enabled two hours after the old session
		f.tgt.Appliance.PollingBackfill = tt.backfill
		f.clock.Advance(time.Minute)
		if err := f.poll(); err != nil {
			t.Fatal(err)
		}
		if got := f.deliveries(f.cfg)[old]; got != tt.want {
			t.Errorf("backfill %dh: %d deliveries of a session ended 2h before enabling, want %d", tt.backfill, got, tt.want)
		}
	}
}

func TestOneProcessPollsAConfiguration(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if err := f.poll(); err != nil {
		t.Fatal(err)
	}
	other := New(Options{Store: f.st, Owner: "other", Now: f.clock.Now})
	if err := other.Poll(context.Background(), f.tgt); err != errNotOwner {
		t.Fatalf("second process polled while the lease was held: %v", err)
	}
	// The lease lapses when its holder stops renewing it.
	f.clock.Advance(time.Hour)
	if err := other.Poll(context.Background(), f.tgt); err != nil {
		t.Fatalf("after the lease expired: %v", err)
	}
	if err := f.poll(); err != errNotOwner {
		t.Errorf("the first process polled after losing the lease: %v", err)
	}
}

func TestRunPollsEachIntervalAndReleases(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.p.opts.Tick = 5 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.p.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for f.app.Calls("SupportSessionListing") == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	// Not due again until the interval passes on the poller's clock.
	time.Sleep(50 * time.Millisecond)
	if n := f.app.Calls("SupportSessionListing"); n != 1 {
		t.Errorf("%d polls within one interval, want 1", n)
	}
	f.clock.Advance(time.Duration(f.tgt.Appliance.PollingInterval) * time.Second)
	for f.app.Calls("SupportSessionListing") < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := f.app.Calls("SupportSessionListing"); n != 2 {
		t.Errorf("%d polls after one interval, want 2", n)
	}
	if row := f.cursor(); row.LeaseOwner != "" {
		t.Errorf("lease still held by %q after Run returned", row.LeaseOwner)
	}
}
