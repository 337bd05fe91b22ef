package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// The trim keeps the newest unrouted events within both caps and deletes
// every older one, and nothing else: routed events and an unrouted event
// that has a delivery stay, wherever they sit among the unrouted ones.
func TestTrimUnroutedKeepsTheNewestWithinBothCaps(t *testing.T) {
	eachDB(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		cfg := newConfig(t, st)
		unrouted := func(key string, size int, ds ...NewDelivery) *NewEvent {
			e := newEvent(key, ds...)
			e.Event.Routing = Unrouted
			// size bytes in all, as the cap counts them: fields, name,
			// lsid and Appliance Id.
			e.Event.Fields = strings.Repeat("f", size-len(e.Event.Name)-len(e.Event.LSID)-len(e.Event.ApplianceID))
			return e
		}
		var batch []*NewEvent
		for i := range 10 {
			batch = append(batch, newEvent(fmt.Sprint("r", i)), unrouted(fmt.Sprint("u", i), 100))
		}
		// An unrouted event with a delivery is not the cap's to delete.
		batch = append(batch[:4:4], append([]*NewEvent{unrouted("kept", 100, NewDelivery{ConfigID: cfg.ID, Plugin: "p", MaxAttempts: 1})}, batch[4:]...)...)
		if _, err := st.InsertEvents(ctx, batch, nil); err != nil {
			t.Fatal(err)
		}
		left := func() string {
			t.Helper()
			evs, err := st.ListEvents(ctx, EventFilter{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, e := range evs {
				keys = append(keys, e.DedupeKey)
			}
			return strings.Join(keys, ",")
		}

		// Nothing past either cap: nothing deleted, the usage exact.
		deleted, usage, err := st.TrimUnrouted(ctx, 10, 1000)
		if err != nil || deleted != 0 || usage != (UnroutedUsage{Events: 10, Bytes: 1000}) {
			t.Fatalf("trim at the caps: deleted %d, usage %+v, %v", deleted, usage, err)
		}
		// The event cap.
		deleted, usage, err = st.TrimUnrouted(ctx, 7, 1<<20)
		if err != nil || deleted != 3 || usage != (UnroutedUsage{Events: 7, Bytes: 700}) {
			t.Fatalf("event cap: deleted %d, usage %+v, %v", deleted, usage, err)
		}
		// The byte cap: 450 bytes hold four events of 100.
		deleted, usage, err = st.TrimUnrouted(ctx, 100, 450)
		if err != nil || deleted != 3 || usage != (UnroutedUsage{Events: 4, Bytes: 400}) {
			t.Fatalf("byte cap: deleted %d, usage %+v, %v", deleted, usage, err)
		}
		want := "u9,r9,u8,r8,u7,r7,u6,r6,r5,r4,r3,r2,kept,r1,r0"
		if got := left(); got != want {
			t.Fatalf("left %s\nwant %s", got, want)
		}
		// One event larger than the byte cap leaves none.
		if _, err := st.InsertEvents(ctx, []*NewEvent{unrouted("huge", 500)}, nil); err != nil {
			t.Fatal(err)
		}
		deleted, usage, err = st.TrimUnrouted(ctx, 100, 450)
		if err != nil || deleted != 5 || usage != (UnroutedUsage{}) {
			t.Fatalf("oversized newest: deleted %d, usage %+v, %v", deleted, usage, err)
		}
		if got, want := left(), "r9,r8,r7,r6,r5,r4,r3,r2,kept,r1,r0"; got != want {
			t.Fatalf("left %s\nwant %s", got, want)
		}
	})
}

// Queries whose cost must follow a partial index, not the table: the
// trim reads and deletes unrouted events through events_unrouted, and the
// purge finds finished deliveries through deliveries_finished (which holds
// only finished ones, so that storing a delivery does not write to it).
func TestQueriesUseTheirPartialIndexes(t *testing.T) {
	t.Parallel()
	st := open(t)
	for q, index := range map[string]string{
		`SELECT COUNT(*), SUM(` + unroutedSize + `) ` + unroutedRows:                                                                         "events_unrouted",
		`SELECT e.id, ` + unroutedSize + ` ` + unroutedRows + ` ORDER BY e.id`:                                                               "events_unrouted",
		`DELETE FROM events WHERE routing = 'unrouted' AND id <= 5 AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = events.id)`: "events_unrouted",
		`SELECT id FROM deliveries WHERE state IN ('done', 'failed', 'skipped') AND finished_at > 0 AND finished_at < 5 LIMIT 500`:           "deliveries_finished",
	} {
		rows, err := st.r.Raw(`EXPLAIN QUERY PLAN ` + q).Rows()
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		all := strings.Join(plan, "; ")
		if !strings.Contains(all, index) || slices.ContainsFunc(plan, func(p string) bool { return strings.HasPrefix(p, "SCAN ") && !strings.Contains(p, " INDEX ") }) {
			t.Errorf("plan of %q:\n%s\nwant the %s index", q, all, index)
		}
	}
}
