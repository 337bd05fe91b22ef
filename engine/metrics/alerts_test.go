package metrics

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestAlertRulesNameExportedMetrics keeps deploy/prometheus's alert rules
// true: every switchboard_* series they query is one this package exports.
func TestAlertRulesNameExportedMetrics(t *testing.T) {
	rules, err := os.ReadFile("../../deploy/prometheus/switchboard-alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	exported := map[string]bool{}
	m := New(nil, nil)
	ch := make(chan *prometheus.Desc, 64)
	for _, c := range []prometheus.Collector{m.EventsReceived, m.IntakeRejected, m.Attempts, m.AttemptDuration, m.CommitBatch, &queueCollector{}} {
		c.Describe(ch)
	}
	close(ch)
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range ch {
		if sm := fqName.FindStringSubmatch(d.String()); sm != nil {
			exported[sm[1]] = true
		}
	}
	used := regexp.MustCompile(`switchboard_[a-z_]+`).FindAllString(string(rules), -1)
	if len(used) == 0 {
		t.Fatal("the alert rules name no switchboard metric")
	}
	for _, name := range used {
		base := name
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			base = strings.TrimSuffix(base, suffix)
		}
		if !exported[name] && !exported[base] {
			t.Errorf("alert rules query %s, which the engine does not export", name)
		}
	}
}
