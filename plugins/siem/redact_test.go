package siem

import (
	"strings"
	"testing"

	"switchboard/engine"
	"switchboard/engine/plugintest"
	"switchboard/plugins/siem/siemtest"
)

// TestDestinationErrorsHideTheirSecret: a destination that echoes the
// credential in its answer, whole or cut where the error's excerpt of the
// answer ends, does not put it into the delivery's error or result.
func TestDestinationErrorsHideTheirSecret(t *testing.T) {
	t.Parallel()
	type dest struct {
		name  string
		start func(t *testing.T, h *harness) (receiver, *Settings)
	}
	dests := []dest{
		{"hec", func(t *testing.T, _ *harness) (receiver, *Settings) {
			r := startHEC(t, siemtest.HECOptions{})
			return r, hecSettings(r.URL)
		}},
		{"elastic", func(t *testing.T, _ *harness) (receiver, *Settings) {
			r := startElastic(t, false)
			return r, elasticSettings(r.URL)
		}},
		{"sekoia", func(t *testing.T, _ *harness) (receiver, *Settings) {
			r := startSekoia(t, false)
			return r, sekoiaSettings(r.URL)
		}},
		{"webhook", func(t *testing.T, h *harness) (receiver, *Settings) {
			r := startWebhook(t, h, webhookSecret)
			return r, webhookSettings(r.URL)
		}},
	}
	for i, d := range dests {
		for j, cut := range []bool{false, true} {
			name := d.name
			if cut {
				name += " cut"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t)
				rec, set := d.start(t, h)
				secret := set.Credential.Reveal()
				body := `{"text":"Invalid token ` + secret + `","code":4,"error":"bad credential ` + secret + `"}`
				if cut {
					// The excerpt of an answer ends after 300 characters:
					// put the secret across that end.
					body = `{"error":"` + strings.Repeat("x", 300-len(`{"error":"`)-len(secret)/2) + secret + `"}`
				}
				rec.FailNext(siemtest.Fault{Status: 400, Body: body})
				s := h.typical("dddd" + strings.Repeat("0", 26) + string(rune('a'+i)) + string(rune('0'+j)))
				job := h.job(set, s.LSID)
				out, _, err := h.handle(job)
				if out != engine.OutcomePermanent {
					t.Fatalf("outcome %v: %v", out, err)
				}
				plugintest.AssertNoSecret(t, err, secret, secret[:8], secret[len(secret)-8:])
				if r := job.Result(); strings.Contains(r, secret[:8]) {
					t.Errorf("the result shows the secret: %s", r)
				}
			})
		}
	}
}
