package adminui

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"switchboard/engine"
	"switchboard/engine/server"
	"switchboard/engine/sources/pmcloud"
	"switchboard/engine/sources/pmcloud/pmcloudtest"
)

// The Polling page lists the configured sources with a Test button; the
// Test, clicked in a real browser, shows its steps (token, events, audits)
// and never the secret.
func TestBrowserSourceTestButton(t *testing.T) {
	t.Parallel()
	const secret = "pm-cloud-secret+=="
	sim := pmcloudtest.New("api-client", secret)
	t.Cleanup(sim.Close)
	if err := sim.Add(pmcloudtest.Event("e-1", time.Now().Add(-time.Minute))); err != nil {
		t.Fatal(err)
	}
	set := pmcloud.NewSettings()
	set.Name, set.ServicesURL, set.ClientID, set.ClientSecret = "acme-epm", sim.ServicesURL(), "api-client", engine.NewSecret(secret)
	set.Streams, set.Disabled = []string{"events", "audits"}, true
	b := newBrowserWith(t, slog.New(slog.DiscardHandler), func(o *server.Options) {
		o.Sources, o.SourcesHTTP = []*pmcloud.Settings{set}, sim.Client()
	})
	b.secret = append(b.secret, secret)
	b.signInThroughSetup()
	b.open("/polling", "#source-acme-epm")
	b.do("click Test",
		chromedp.Click(chromedp.CSS("#source-acme-epm button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#source-test")),
	)
	b.check("source test")
	got := b.text("#source-test")
	for _, want := range []string{"passed", "token", "events", "1 event", "audits", "0 audit"} {
		if !strings.Contains(got, want) {
			t.Errorf("the test result lacks %q: %s", want, got)
		}
	}
	if strings.Contains(got, secret) {
		t.Fatal("the secret is on the page")
	}
}
