// Package metrics defines what Switchboard reports at /metrics.
package metrics

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"switchboard/engine/outbound"
	"switchboard/engine/store"
)

// Metrics holds the collectors the engine updates.
type Metrics struct {
	Registry *prometheus.Registry
	// EventsReceived counts events the appliance posted, by event type,
	// source and result (routed, unrouted, duplicate).
	EventsReceived *prometheus.CounterVec
	// IntakeRejected counts refused posts by reason.
	IntakeRejected *prometheus.CounterVec
	// Attempts counts delivery attempts by plugin and outcome.
	Attempts *prometheus.CounterVec
	// AttemptDuration observes how long attempts take, by plugin.
	AttemptDuration *prometheus.HistogramVec
	// CommitBatch observes how many events one intake commit held.
	CommitBatch prometheus.Histogram
	// UnroutedEvents and UnroutedBytes are what the events that route
	// nowhere hold after the intake's last trim; UnroutedTrimmed counts the
	// oldest ones removed to stay under the cap.
	UnroutedEvents  prometheus.Gauge
	UnroutedBytes   prometheus.Gauge
	UnroutedTrimmed prometheus.Counter
}

// New creates the collectors on a fresh registry, with Go and process
// metrics, and the queue gauges read from st at scrape time.
func New(st *store.Store, log *slog.Logger) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		EventsReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_events_received_total", Help: "Outbound events the appliance posted, by event type, source and routing result.",
		}, []string{"event", "source", "result"}),
		IntakeRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_intake_rejected_total", Help: "Outbound-event posts refused, by reason.",
		}, []string{"reason"}),
		Attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_delivery_attempts_total", Help: "Delivery attempts, by plugin and outcome.",
		}, []string{"plugin", "outcome"}),
		AttemptDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "switchboard_delivery_attempt_duration_seconds", Help: "Duration of delivery attempts.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 10),
		}, []string{"plugin"}),
		CommitBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "switchboard_intake_commit_batch_size", Help: "Events stored per intake transaction (group commit).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
		UnroutedEvents: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchboard_unrouted_events", Help: "Stored events that route to no configuration (as of the intake's last trim).",
		}),
		UnroutedBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchboard_unrouted_event_bytes", Help: "Bytes of posted fields held by unrouted events (as of the intake's last trim).",
		}),
		UnroutedTrimmed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_unrouted_events_trimmed_total", Help: "Oldest unrouted events deleted to keep them under the intake's cap.",
		}),
	}
	reg.MustRegister(m.EventsReceived, m.IntakeRejected, m.Attempts, m.AttemptDuration, m.CommitBatch,
		m.UnroutedEvents, m.UnroutedBytes, m.UnroutedTrimmed, outbound.BudgetCollector(nil),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if st != nil {
		reg.MustRegister(&queueCollector{st: st, log: log})
	}
	return m
}

var (
	depthDesc = prometheus.NewDesc("switchboard_deliveries", "Deliveries by state.", []string{"state"}, nil)
	ageDesc   = prometheus.NewDesc("switchboard_oldest_due_delivery_age_seconds", "How long the oldest due delivery has waited (0 when none).", nil, nil)
	pollDesc  = prometheus.NewDesc("switchboard_poll_last_success_timestamp_seconds", "When each polling configuration last polled successfully (0: never).", []string{"config"}, nil)
	pollErr   = prometheus.NewDesc("switchboard_poll_failing", "1 while a configuration's last poll failed.", []string{"config"}, nil)
)

// queueCollector reads the queue's state from the store when scraped.
type queueCollector struct {
	st  *store.Store
	log *slog.Logger
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- depthDesc
	ch <- ageDesc
	ch <- pollDesc
	ch <- pollErr
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	now := time.Now()
	st, err := c.st.Stats(ctx, now)
	if err != nil {
		c.log.Warn("metrics: queue stats", "err", err)
		return
	}
	for _, state := range []string{store.StatePending, store.StateRunning, store.StateRetrying, store.StateDone, store.StateFailed, store.StateSkipped} {
		ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(st.ByState[state]), state)
	}
	age := 0.0
	if !st.OldestDue.IsZero() {
		age = now.Sub(st.OldestDue).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(ageDesc, prometheus.GaugeValue, age)
	cursors, err := c.st.ListPollCursors(ctx)
	if err != nil {
		c.log.Warn("metrics: poll cursors", "err", err)
		return
	}
	for _, pc := range cursors {
		id := strconv.FormatInt(pc.ConfigID, 10)
		last := 0.0
		if t := pc.LastSuccess(); !t.IsZero() {
			last = float64(t.Unix())
		}
		failing := 0.0
		if pc.LastError != "" {
			failing = 1
		}
		ch <- prometheus.MustNewConstMetric(pollDesc, prometheus.GaugeValue, last, id)
		ch <- prometheus.MustNewConstMetric(pollErr, prometheus.GaugeValue, failing, id)
	}
}
