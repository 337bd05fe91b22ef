package outbound

import "github.com/prometheus/client_golang/prometheus"

var (
	budgetFreeDesc = prometheus.NewDesc("switchboard_outbound_budget_free",
		"Request slots of a remote budget not taken now (a timed-out request's slot stays taken for a grace period).", []string{"budget"}, nil)
	budgetWindowDesc = prometheus.NewDesc("switchboard_outbound_budget_window_remaining",
		"Requests a remote budget's current window still allows.", []string{"budget"}, nil)
)

// BudgetCollector exports what is left of each budget of g (nil:
// DefaultGovernor) at scrape time.
func BudgetCollector(g *Governor) prometheus.Collector {
	if g == nil {
		g = DefaultGovernor
	}
	return budgetCollector{g}
}

type budgetCollector struct{ g *Governor }

func (budgetCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- budgetFreeDesc
	ch <- budgetWindowDesc
}

func (b budgetCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range b.g.States() {
		if s.Free >= 0 {
			ch <- prometheus.MustNewConstMetric(budgetFreeDesc, prometheus.GaugeValue, float64(s.Free), s.Key)
		}
		if s.WindowLeft >= 0 {
			ch <- prometheus.MustNewConstMetric(budgetWindowDesc, prometheus.GaugeValue, float64(s.WindowLeft), s.Key)
		}
	}
}
