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

// A PM Cloud source made in the form, in a real browser: a bad interval is
// refused and marked on its field, the Test reads the tenant with the
// typed secret, the saved source is polled without a restart and its
// stream shows on the Polling page with what it read.
func TestBrowserSourceForm(t *testing.T) {
	t.Parallel()
	const secret = "pm-cloud-form-secret+=="
	sim := pmcloudtest.New("api-client", secret)
	t.Cleanup(sim.Close)
	if err := sim.Add(pmcloudtest.Event("e-1", time.Now().Add(-time.Minute))); err != nil {
		t.Fatal(err)
	}
	b := newBrowserWith(t, slog.New(slog.DiscardHandler), func(o *server.Options) { o.SourcesHTTP = sim.Client() })
	b.secret = append(b.secret, secret)
	b.signInThroughSetup()
	b.open("/polling", "a[href='/sources/new/pmcloud']")
	b.do("add a PM Cloud source with a bad interval",
		chromedp.Click(chromedp.CSS("a[href='/sources/new/pmcloud']")),
		chromedp.WaitVisible(chromedp.CSS("#f-name")),
		chromedp.SetValue(chromedp.CSS("#f-name"), "acme-epm"),
		chromedp.SetValue(chromedp.CSS("#f-services_url"), sim.ServicesURL()),
		chromedp.SetValue(chromedp.CSS("#f-client_id"), "api-client"),
		chromedp.SetValue(chromedp.CSS("#f-client_secret"), secret),
		chromedp.SetValue(chromedp.CSS("#f-interval"), "5"),
		chromedp.Click(chromedp.CSS("form[data-source-form] button.primary")),
		chromedp.WaitVisible(chromedp.CSS("#form-errors")),
	)
	b.check("refused source form")
	if got := b.text("#form-errors"); !strings.Contains(got, "Polling Interval") {
		t.Errorf("error summary %q", got)
	}
	if b.attr("#f-interval", "aria-invalid") != "true" {
		t.Error("the interval is not marked invalid")
	}
	b.shot("source-errors", "#f-interval")

	b.do("fix it and Test",
		chromedp.SetValue(chromedp.CSS("#f-interval"), "30"),
		chromedp.SetValue(chromedp.CSS("#f-client_secret"), secret),
		chromedp.Click(chromedp.CSS("button[data-source-test]")),
		chromedp.WaitVisible(chromedp.CSS("#source-test")),
	)
	b.check("source Test")
	if got := b.text("#source-test"); !strings.Contains(got, "passed") || !strings.Contains(got, "1 event") {
		t.Errorf("Test says %q", got)
	}
	b.shot("source-test", "#source-test")

	b.doFlash("save", "source was saved",
		chromedp.SetValue(chromedp.CSS("#f-client_secret"), secret),
		chromedp.Click(chromedp.CSS("form[data-source-form] button.primary")),
	)
	deadline := time.Now().Add(waitLimit)
	for !strings.Contains(b.text("main"), "1 / 1") {
		if time.Now().After(deadline) {
			t.Fatalf("the source was not polled: %s", b.text("main"))
		}
		time.Sleep(300 * time.Millisecond)
		b.do("reload", chromedp.Navigate(b.srv.AdminURL()+"/polling"), chromedp.WaitReady(chromedp.CSS("main")))
	}
	b.check("polled source")
	got := b.text("main")
	for _, want := range []string{"acme-epm", "admin UI", "pmcloud/acme-epm"} {
		if !strings.Contains(got, want) {
			t.Errorf("the Polling page lacks %q", want)
		}
	}
	b.shot("source-polled", "#source-acme-epm")
}
