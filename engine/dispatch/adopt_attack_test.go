package dispatch

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/service"
	"switchboard/engine/store"
)

// seenEvents records the event each delivery's job carried.
type seenEvents struct {
	mu   sync.Mutex
	jobs map[int64]engine.Event
	done chan int64
}

func newSeenEvents() *seenEvents {
	return &seenEvents{jobs: map[int64]engine.Event{}, done: make(chan int64, 100)}
}

func (s *seenEvents) plugin() *testPlugin {
	return &testPlugin{id: "test", concurrency: 8, handle: func(_ context.Context, job *engine.Job) error {
		s.mu.Lock()
		s.jobs[job.DeliveryID] = job.Event
		s.mu.Unlock()
		s.done <- job.DeliveryID
		return nil
	}}
}

func (s *seenEvents) wait(t *testing.T) int64 {
	t.Helper()
	select {
	case id := <-s.done:
		return id
	case <-time.After(20 * time.Second): // a hang guard, not a timing assertion
		t.Fatal("no delivery ran")
		return 0
	}
}

// sameAsStored fails t unless got is the event GetEvent reads for the
// delivery: what the plugin writes to a ticket must come from the stored
// row, whichever way the delivery reached its worker.
func sameAsStored(t *testing.T, st *store.Store, deliveryID int64, got engine.Event) {
	t.Helper()
	ctx := context.Background()
	d, err := st.GetDelivery(ctx, deliveryID)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := st.GetEvent(ctx, d.EventID)
	if err != nil {
		t.Fatal(err)
	}
	want := engine.Event{ID: ev.ID, ApplianceID: ev.ApplianceID, Name: ev.Name, Source: ev.Source, LSID: ev.LSID,
		ExternalKey: ev.ExternalKey, Timestamp: ev.Occurred(), ReceivedAt: ev.Received(), Fields: ev.Values()}
	if got.ID != want.ID || got.ApplianceID != want.ApplianceID || got.Name != want.Name || got.Source != want.Source ||
		got.LSID != want.LSID || got.ExternalKey != want.ExternalKey || !got.Timestamp.Equal(want.Timestamp) ||
		!got.ReceivedAt.Equal(want.ReceivedAt) || got.Fields.Encode() != want.Fields.Encode() {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Errorf("delivery %d: the job's event differs from the stored one\n got %.400s\nwant %.400s", deliveryID, g, w)
	}
}

// adoptions records which deliveries the intake handed over in memory.
type adoptions struct {
	*Dispatcher
	mu  sync.Mutex
	ids map[int64]bool
}

func (a *adoptions) Adopt(ds []store.Delivery, claimedAt time.Time) {
	a.mu.Lock()
	for _, d := range ds {
		a.ids[d.ID] = true
	}
	a.mu.Unlock()
	a.Dispatcher.Adopt(ds, claimedAt)
}

func (a *adoptions) adopted(id int64) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ids[id]
}

// adoptingIntake serves the rig's intake with its claims recorded.
func adoptingIntake(t *testing.T, r *rig) (string, *adoptions) {
	t.Helper()
	a := &adoptions{Dispatcher: r.disp, ids: map[int64]bool{}}
	return intakeWith(t, r, a), a
}

func postForm(t *testing.T, u string, form url.Values) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("post %v: status %d", form.Get("lsid"), resp.StatusCode)
	}
}

// Posts of every odd shape, each delivered by a worker that got it at
// insert: the event its job carries is exactly the stored one (fields in
// their stored order and bytes, times at the stored millisecond).
func TestAdoptedJobCarriesTheStoredEvent(t *testing.T) {
	seen := newSeenEvents()
	r := newRigWith(t, seen.plugin(), nil, func(o *Options) { o.MaintenanceInterval = time.Hour })
	r.run(t)
	u, a := adoptingIntake(t, r)
	forms := []url.Values{
		{"event": {engine.EventSessionEnd}, "lsid": {"s-unicode"}, "timestamp": {"1733240467"}, "external_key": {"T2024.01"}, "customer": {"ünï-cødé 東京 ✓"}},
		{"event": {engine.EventMemberAdded}, "lsid": {""}, "timestamp": {"1733240468"}},
		{"event": {engine.EventMemberAdded}, "lsid": {"s-multi"}, "timestamp": {"1733240469"}, "x": {"b", "a", "b"}, "a+b": {"c&d=e;f"}},
		{"event": {engine.EventMemberAdded}, "lsid": {"s-bytes"}, "timestamp": {"not a number"}, "raw": {"\xff\xfe\x00 <<field|custom>>"}},
		{"event": {engine.EventSessionEnd}, "lsid": {"s-big"}, "timestamp": {"1733240470"}, "big": {strings.Repeat("ß", 28<<10)}},
	}
	for _, form := range forms {
		postForm(t, u, form)
		if id := seen.wait(t); !a.adopted(id) {
			t.Errorf("delivery %d (%s) was not claimed at insert; the attack needs it to be", id, form.Get("lsid"))
		}
	}
	seen.mu.Lock()
	defer seen.mu.Unlock()
	if len(seen.jobs) != len(forms) {
		t.Fatalf("%d deliveries ran, want %d", len(seen.jobs), len(forms))
	}
	for id, ev := range seen.jobs {
		sameAsStored(t, r.st, id, ev)
	}
}

// A session end stored unrouted, then posted again once a configuration
// for its appliance exists, with other fields (a later timestamp, another
// external key): it is the same event (a session end is keyed by its
// session), it gains a delivery claimed at insert, and that delivery's
// job carries the stored event, not the second post's fields.
func TestAdoptedDuplicateCarriesTheStoredEvent(t *testing.T) {
	seen := newSeenEvents()
	r := newRigWith(t, seen.plugin(), nil, func(o *Options) { o.MaintenanceInterval = time.Hour })
	r.run(t)
	u, a := adoptingIntake(t, r)
	first := url.Values{"event": {engine.EventSessionEnd}, "lsid": {"late-config"}, "timestamp": {"1733240000"},
		"external_key": {"FIRST"}, "appliance_id": {"Other"}}
	postForm(t, u, first)
	raw, _ := json.Marshal(map[string]any{"name": "second config", "appliance_id": "Other", "host": "other.example.com"})
	if _, err := r.svc.CreateConfig(context.Background(), "test", service.ConfigInput{Plugin: "test", Appliance: raw}); err != nil {
		t.Fatal(err)
	}
	again := url.Values{"event": {engine.EventSessionEnd}, "lsid": {"late-config"}, "timestamp": {"1733249999"},
		"external_key": {"SECOND"}, "appliance_id": {"Other"}, "extra": {"only in the second post"}}
	postForm(t, u, again)
	id := seen.wait(t)
	if !a.adopted(id) {
		t.Errorf("delivery %d was not claimed at insert; the attack needs it to be", id)
	}
	seen.mu.Lock()
	got := seen.jobs[id]
	seen.mu.Unlock()
	sameAsStored(t, r.st, id, got)
	if got.ExternalKey != "FIRST" {
		t.Errorf("the job carries external key %q, want the stored %q", got.ExternalKey, "FIRST")
	}
}
