package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard/engine/store/pgtest"
)

// BenchmarkQueue claims and finishes b.N deliveries (distinct sessions)
// with 4 workers per engine: SQLite with one engine, PostgreSQL with 1, 2
// and 3 engines (separate pools on one database). It measures the queue
// alone, without intake or plugins.
func BenchmarkQueue(b *testing.B) {
	for _, c := range []struct {
		name    string
		engines int
		pg      bool
	}{{"sqlite-1", 1, false}, {"postgres-1", 1, true}, {"postgres-2", 2, true}, {"postgres-3", 3, true}} {
		b.Run(c.name, func(b *testing.B) {
			dsn := b.TempDir() + "/sb.db"
			if c.pg {
				dsn = pgtest.URL(b)
			}
			var engines []*Store
			for range c.engines {
				st, err := Open(context.Background(), dsn, Options{})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = st.Close() })
				engines = append(engines, st)
			}
			ctx := context.Background()
			cfg := &Config{Plugin: "p", Name: "c", ApplianceID: "Default", Settings: "{}"}
			if err := engines[0].CreateConfig(ctx, cfg, AuditEntry{Actor: "b", Action: "create", Summary: "s"}, nil); err != nil {
				b.Fatal(err)
			}
			var batch []*NewEvent
			for i := range b.N {
				batch = append(batch, newEvent(fmt.Sprint("q", i), NewDelivery{ConfigID: cfg.ID, Plugin: "p", MaxAttempts: 3}))
			}
			if _, err := engines[0].InsertEvents(ctx, batch, nil); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			var done atomic.Int64
			var wg sync.WaitGroup
			for e, st := range engines {
				for w := range 4 {
					wg.Go(func() {
						owner := fmt.Sprint("e", e, "w", w)
						for done.Load() < int64(b.N) {
							ds, err := st.Claim(ctx, "p", 1, owner, time.Minute, time.Now())
							if err != nil {
								b.Error(err)
								return
							}
							if len(ds) == 0 {
								time.Sleep(time.Millisecond)
								continue
							}
							if err := st.FinishAttempt(ctx, Finish{ID: ds[0].ID, Token: ds[0].LeaseToken, State: StateDone, Outcome: "done", Started: time.Now()}); err != nil {
								b.Error(err)
								return
							}
							done.Add(1)
						}
					})
				}
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}
