package server

import (
	"context"
	"testing"
	"time"

	"switchboard/engine/service"
	"switchboard/engine/sources/pmcloud"
	"switchboard/engine/sources/pmcloud/pmcloudtest"
	"switchboard/engine/store"
)

// cursorRow returns a source's cursor row, nil when it has none.
func cursorRow(t *testing.T, s *Server, id string) *store.SourceCursor {
	t.Helper()
	rows, err := s.Store.ListSourceCursors(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		if rows[i].SourceID == id {
			return &rows[i]
		}
	}
	return nil
}

// Renaming a stored source keeps its cursor: the poll after the rename
// reads only what came after the poll before it (nothing read again,
// nothing missed), the counts go on, no row is left under the old name,
// and the old name's client is no longer kept.
func TestRenamingAStoredSourceKeepsItsCursor(t *testing.T) {
	t.Parallel()
	sim := pmcloudtest.New("api-client", "pm-secret")
	t.Cleanup(sim.Close)
	for _, id := range []string{"a", "b"} {
		if err := sim.Add(pmcloudtest.Event(id, time.Now().Add(-2*time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	s := startWith(t, Options{DataDir: t.TempDir(), SourcesHTTP: sim.Client()})
	ctx := context.Background()
	settings := func(name string) []byte {
		return []byte(`{"name":"` + name + `","services_url":"` + sim.ServicesURL() +
			`","client_id":"api-client","client_secret":"pm-secret","interval":30,"first_fetch_minutes":60}`)
	}
	sc, err := s.Service.CreateSource(ctx, "ann", service.SourceInput{Kind: pmcloud.Source, Settings: settings("acme")})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first poll", func() bool { c := cursorRow(t, s, "pmcloud/acme"); return c != nil && c.LastSuccessAt != 0 })
	before := cursorRow(t, s, "pmcloud/acme")
	if before.TotalNew != 2 {
		t.Fatalf("first poll stored %d events, want 2", before.TotalNew)
	}
	in := service.SourceInput{Kind: pmcloud.Source, Settings: settings("acme-epm"), Version: sc.Version}
	if _, err := s.Service.UpdateSource(ctx, "ann", sc.ID, in); err != nil {
		t.Fatal(err)
	}
	if err := sim.Add(pmcloudtest.Event("c", time.Now())); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a poll under the new name", func() bool {
		c := cursorRow(t, s, "pmcloud/acme-epm")
		return c != nil && c.LastSuccessAt > before.LastSuccessAt
	})
	after := cursorRow(t, s, "pmcloud/acme-epm")
	if after.LastFetched != 1 || after.LastNew != 1 || after.TotalNew != 3 {
		t.Fatalf("the poll after the rename read %d events (%d new, %d in all), want 1 (1 new, 3 in all): it did not go on from the cursor",
			after.LastFetched, after.LastNew, after.TotalNew)
	}
	if old := cursorRow(t, s, "pmcloud/acme"); old != nil {
		t.Fatalf("a cursor row is left under the old name: %+v", old)
	}
	if s.pmClients.Holds("acme") || !s.pmClients.Holds("acme-epm") {
		t.Fatal("the client of the old name is still kept (or the new one is not)")
	}
	evs, err := s.Store.ListEvents(ctx, store.EventFilter{Name: pmcloud.EventName, Limit: 10})
	if err != nil || len(evs) != 3 {
		t.Fatalf("%d events stored, want 3 (%v)", len(evs), err)
	}
}
