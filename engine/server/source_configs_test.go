package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"switchboard/engine/service"
	"switchboard/engine/sources/pmcloud"
	"switchboard/engine/sources/pmcloud/pmcloudtest"
	"switchboard/engine/store"
)

// Two engines on one PostgreSQL database: a source saved through one is
// polled without a restart, its events stored once, and the other engine
// learns of it, and of its being disabled, through the configuration watch.
func TestASourceSavedInOneEngineReachesTheOther(t *testing.T) {
	t.Parallel()
	sim := pmcloudtest.New("api-client", "pm-secret")
	t.Cleanup(sim.Close)
	now := time.Now()
	for _, id := range []string{"a", "b"} {
		if err := sim.Add(pmcloudtest.Event(id, now.Add(-time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	opts := clusterOptions(t)
	mk := func() Options { o := opts(); o.SourcesHTTP = sim.Client(); return o }
	first, second := startWith(t, mk()), startWith(t, mk())
	ctx := context.Background()
	sc, err := first.Service.CreateSource(ctx, "ann", service.SourceInput{Kind: pmcloud.Source, Settings: []byte(
		`{"name":"acme","services_url":"` + sim.ServicesURL() + `","client_id":"api-client","client_secret":"pm-secret","interval":30}`)})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the other engine to list the source", func() bool { return len(second.Service.StoredSources(pmcloud.Source)) == 1 })
	waitFor(t, "the source's events to be stored", func() bool {
		evs, err := first.Store.ListEvents(ctx, store.EventFilter{Name: pmcloud.EventName, Limit: 10})
		return err == nil && len(evs) == 2
	})
	if err := first.Service.SetSourceDisabled(ctx, "ann", sc.ID, true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the other engine to see it disabled", func() bool {
		l := second.Service.StoredSources(pmcloud.Source)
		return len(l) == 1 && l[0].Settings.SourceDisabled()
	})
	views, err := second.Service.Sources(ctx)
	if err != nil || len(views) != 1 || views[0].ID != sc.ID || !strings.Contains(views[0].Origin, "database") {
		t.Fatalf("second engine's view %+v %v", views, err)
	}
}

// waitFor waits (a minute at most: a loaded machine is slow) for cond.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after a minute", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
