package siem

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"switchboard/engine"
	"switchboard/engine/plugintest"
	"switchboard/plugins/siem/siemtest"
)

// failureCase is one way an HTTP destination fails a delivery.
type failureCase struct {
	name  string
	fault siemtest.Fault
	key   string // a wrong credential instead of a fault
	want  engine.Outcome
	after time.Duration
	text  string // in the error
	// stored: the receiver stored the batch although the answer said
	// otherwise; a retry must end with each event once.
	stored bool
}

// receiver is what failure tests need of a siemtest HTTP receiver.
type receiver interface {
	FailNext(fs ...siemtest.Fault)
	Held() int
}

// runFailures delivers a typical session to a fresh receiver per case,
// with a client that gives up after 300 ms.
func runFailures(t *testing.T, prefix string, cases []failureCase, start func(t *testing.T) (receiver, string), settings func(url string) *Settings) {
	t.Helper()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			// Shorter than the 5 s hang the timeout cases inject, long enough
			// for every other answer on a loaded machine.
			h.plugin.HTTPClient = &http.Client{Timeout: 2 * time.Second}
			rec, url := start(t)
			s := h.typical(prefix + strings.Repeat("0", 30-len(prefix)) + string(rune('a'+i)) + "0")
			if c.fault.Status != 0 {
				rec.FailNext(c.fault)
			}
			set := settings(url)
			if c.key != "" {
				set.Credential = engine.NewSecret(c.key)
			}
			job := h.job(set, s.LSID)
			out, after, err := h.handle(job)
			if out != c.want || (c.after != 0 && after != c.after) || err == nil || !strings.Contains(err.Error(), c.text) {
				t.Fatalf("outcome %v after %v: %v", out, after, err)
			}
			plugintest.AssertNoSecret(t, err, set.Credential.Reveal())
			if !c.stored {
				return
			}
			if out, _, err := h.handle(job); out != engine.OutcomeDone {
				t.Fatalf("retry: %v %v", out, err)
			}
			if n := rec.Held(); n != len(s.Events)+1 {
				t.Errorf("after the retry the receiver holds %d events, want %d", n, len(s.Events)+1)
			}
		})
	}
}

// runRetryTable runs the kit's status table against a destination; 503
// pauses it as 429 does.
func runRetryTable(t *testing.T, lsid string, settings func(url string) *Settings, secret string, extra ...plugintest.Answer) {
	t.Helper()
	h := newHarness(t)
	s := h.typical(lsid)
	table := plugintest.RetryTable()
	for i := range table {
		if table[i].Status == 503 {
			table[i].Want, table[i].WantAfter, table[i].AfterFloor = engine.OutcomeRetryAfter, time.Second, true
		}
	}
	plugintest.RunRetryTable(t, append(table, extra...), func(ctx context.Context, url string) error {
		err := New().Handle(ctx, h.job(settings(url), s.LSID))
		plugintest.AssertNoSecret(t, err, secret)
		return err
	})
}
