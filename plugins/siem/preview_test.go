package siem

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"switchboard/engine"
	"switchboard/plugins/siem/siemtest"
)

// TestPreviewPlansWithoutSending: a dry run of a session end lists each
// request the delivery would make, with the events in it, and sends
// nothing to any destination.
func TestPreviewPlansWithoutSending(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if _, ok := any(h.plugin).(engine.Previewer); !ok {
		t.Fatal("the siem plugin offers no preview")
	}
	hec := startHEC(t, siemtest.HECOptions{})
	elastic := startElastic(t, false)
	syslog := startSyslog(t, siemtest.SyslogOptions{Transport: TransportTCP})
	s := h.typical("eeee0000000000000000000000000001")
	for _, c := range []struct {
		name   string
		set    *Settings
		method string
		path   string
		held   func() int
	}{
		{"hec", hecSettings(hec.URL), "POST", "/services/collector/event", hec.Held},
		{"elastic", elasticSettings(elastic.URL), "POST", "/logs-beyondtrust.session-default/_bulk", func() int { return elastic.Held() + elastic.Posts() }},
		{"syslog", syslogSettings(TransportTCP, syslog.Addr), "TCP", syslog.Addr, func() int { return len(syslog.Messages()) }},
	} {
		c.set.MaxBatchEvents = 4 // 7 events: two requests
		plan, err := engine.DryRun(context.Background(), h.job(c.set, s.LSID), nil, h.plugin.Handle)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		w := plan.Writes()
		if len(w) != 2 {
			t.Fatalf("%s: %d planned writes, want 2: %+v", c.name, len(w), w)
		}
		for i, x := range w {
			if x.System != ID || x.Method != c.method || x.Path != c.path {
				t.Errorf("%s: write %d is %s %s %s", c.name, i, x.System, x.Method, x.Path)
			}
		}
		all := string(w[0].Body) + string(w[1].Body)
		for i := range len(s.Events) {
			if id := s.LSID + ":" + strconv.Itoa(i) + ":"; !strings.Contains(all, id) {
				t.Errorf("%s: the plan lacks event %s", c.name, id)
			}
		}
		if !strings.Contains(all, s.LSID+":") || strings.Contains(all, hecToken) || strings.Contains(all, elasticKey) {
			t.Errorf("%s: plan body %.300s", c.name, all)
		}
		if len(plan.Steps()) == 0 {
			t.Errorf("%s: the plan explains nothing", c.name)
		}
		sleepBrief()
		if n := c.held(); n != 0 {
			t.Errorf("%s: the preview reached the destination (%d)", c.name, n)
		}
	}
}
