package adminui

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/labstack/echo/v4"

	"switchboard/engine"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/intake"
	"switchboard/engine/server"
	"switchboard/engine/store"
	"switchboard/plugins/autotask"
	"switchboard/plugins/autotask/autotasktest"
)

var update = flag.Bool("update", false, "rewrite the screenshots in docs/screenshots/")

// screenshotDir is where -update writes the screenshots the README shows.
const screenshotDir = "../docs/screenshots"

// chromiumNames are the executables tried, Debian's first.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// findChromium returns the browser to drive. Without one the browser tests
// skip, except on CI (CI=true), where a missing browser is a broken setup
// that must not pass unnoticed.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range chromiumNames {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium found (tried " + strings.Join(chromiumNames, ", ") + "); on Debian: apt-get install chromium"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// browser drives headless Chromium against a real, started server wired
// to both simulators.
type browser struct {
	t      *testing.T
	ctx    context.Context
	srv    *server.Server
	app    *bttest.Appliance
	sim    *autotasktest.Server
	secret []string
	pages  int
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	return newBrowserLogging(t, slog.New(slog.DiscardHandler))
}

// newBrowserLogging is newBrowser with the server logging to log.
func newBrowserLogging(t *testing.T, log *slog.Logger) *browser {
	t.Helper()
	return newBrowserWith(t, log, func(*server.Options) {})
}

// newBrowserWith is newBrowserLogging with more server options set by more.
func newBrowserWith(t *testing.T, log *slog.Logger, more func(*server.Options)) *browser {
	t.Helper()
	exe := findChromium(t)
	app, sim, p := simulators(t)

	opts := server.Options{
		DataDir: t.TempDir(), IntakeAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		Plugins: []engine.Plugin{p},
		Logger:  log,
		Register: []func(e *echo.Echo, s *server.Server) error{func(e *echo.Echo, s *server.Server) error {
			ui, err := New(Options{Service: s.Service, Auth: s.Auth})
			if err != nil {
				return err
			}
			ui.Register(e)
			return nil
		}},
	}
	more(&opts)
	srv, err := server.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	app.SendOutbound(srv.IntakeURL()+intake.Path+"?appliance="+app.ApplianceID(), bttest.RetryInterval(100*time.Millisecond))

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // the CI container runs as root
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// Names that resolve to this machine, as a DNS-rebinding attacker's
		// would (TestBrowserDNSRebinding).
		chromedp.Flag("host-resolver-rules", "MAP *."+rebindDomain+" 127.0.0.1"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatalf("start Chromium (%s): %v", exe, err)
	}
	return &browser{
		t: t, ctx: ctx, srv: srv, app: app, sim: sim,
		secret: []string{autotasktest.DefaultSecret, autotasktest.DefaultIntegrationCode, bttest.DefaultClientSecret, adminPassword},
	}
}

// do runs steps with a deadline, failing the test with what was doing.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// text reads the text of sel. A read that meets a document being
// replaced (a navigation or a form's answer still landing: the node or the
// script context it found is gone) is read again from the document that
// replaced it; any other failure, or one that lasts 30 s, fails the test.
func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	for {
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err == nil {
			return s
		}
		if !documentReplaced(err) || ctx.Err() != nil {
			b.t.Fatalf("text of %s: %v", sel, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// documentReplaced says whether a DevTools error means the document the
// call started on was replaced under it.
func documentReplaced(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "No node with given id found") ||
		strings.Contains(msg, "Cannot find context with specified id") ||
		strings.Contains(msg, "Execution context was destroyed")
}

func (b *browser) count(sel string) int {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
	if err != nil {
		b.t.Fatalf("count %s: %v", sel, err)
	}
	return n
}

// check reads the page's HTML as the browser holds it now and fails if any
// secret appears in it.
func (b *browser) check(where string) {
	b.t.Helper()
	html, err := chromedp.Run(b.ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		b.t.Fatalf("HTML of %s: %v", where, err)
	}
	b.pages++
	for _, s := range b.secret {
		if strings.Contains(html, s) {
			b.t.Errorf("%s: a secret value appears in the page's HTML", where)
		}
	}
}

// open navigates to a path of the admin UI and waits for sel.
func (b *browser) open(path, sel string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.srv.AdminURL()+path), chromedp.WaitVisible(chromedp.CSS(sel)))
	b.check(path)
}

// waitLimit bounds how long the test waits for background work (an event
// posted by the appliance, a delivery run by the dispatcher). It is
// generous: a loaded CI machine is slow, and waits end as soon as the work
// is done.
const waitLimit = time.Minute

// openUntil reloads path until sel appears: events and deliveries arrive
// in the background.
func (b *browser) openUntil(path, sel string) {
	b.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		b.do("open "+path, chromedp.Navigate(b.srv.AdminURL()+path), chromedp.WaitReady(chromedp.CSS("main")))
		if b.count(sel) > 0 {
			b.check(path)
			return
		}
		if time.Now().After(deadline) {
			ds, _ := b.srv.Store.ListDeliveries(b.ctx, store.DeliveryFilter{})
			for _, d := range ds {
				b.t.Logf("delivery %d of event %d: %s, %d attempts, error %q", d.ID, d.EventID, d.State, d.Attempts, d.LastError)
			}
			b.t.Fatalf("%s: no %s after %s", path, sel, waitLimit)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// shot saves a screenshot of what the window shows for the docs when
// -update is given, scrolled to the element at, if any. The window rather
// than the full page: long forms keep their action bar at the bottom of the
// window, where a full-page capture would cut through the middle.
func (b *browser) shot(name, at string) {
	b.t.Helper()
	if !*update {
		return
	}
	if at != "" {
		b.do("scroll to "+at, chromedp.ScrollIntoView(chromedp.CSS(at)))
	}
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(screenshotDir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// endSession scripts a support session on the appliance that ends, so the
// appliance posts support_conference_end to the intake.
func (b *browser) endSession(ticket string) string {
	s := b.app.Begin(bttest.SessionSpec{
		ExternalKey: ticket,
		Customer:    &bttest.Customer{Name: "Jane Doe", Hostname: "CONTOSO-PC7", OS: "Windows 11", Company: "Contoso", Issue: "Printer", Details: "The printer on floor 2 is offline."},
		Rep:         bttest.Rep{ID: "3", Username: "alice", DisplayName: "Alice Tech"},
	}).After(2*time.Minute).Chat("Jane Doe", "Hi, my printer is offline.").
		After(time.Minute).Chat("Alice Tech", "Restarting the spooler now.").
		After(time.Minute).End()
	return s.LSID()
}

// TestBrowser walks the admin UI as an admin would: first start, sign-in,
// a configuration refused and then saved, Test on unsaved values, copy and
// disable, an ended session's event and delivery, a failed delivery retried.
// Every page's HTML is checked for secrets along the way.
func TestBrowser(t *testing.T) {
	b := newBrowser(t)
	ctx := t.Context()

	// First start: the setup link creates the admin account.
	if b.srv.SetupURL == "" {
		t.Fatal("a fresh server printed no setup link")
	}
	b.open(b.srv.SetupURL, "#password")
	b.shot("setup", "")
	b.doFlash("create the admin account", "you are signed in",
		chromedp.SetValue(chromedp.CSS("#password"), adminPassword),
		chromedp.SetValue(chromedp.CSS("#confirm"), adminPassword),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
	)
	b.check("home after setup")

	// Sign out and in again.
	b.do("sign out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.CSS("#username")))
	b.check("login")
	b.shot("login", "")
	b.do("sign in",
		chromedp.SetValue(chromedp.CSS("#username"), "admin"),
		chromedp.SetValue(chromedp.CSS("#password"), adminPassword),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/plugins/autotask/new"]`)),
	)
	b.check("home")

	// Add an Autotask configuration: refused first, then fixed and saved.
	b.do("open the form", chromedp.Click(chromedp.CSS(`a[href="/plugins/autotask/new"]`)), chromedp.WaitVisible(chromedp.CSS("#f-name")))
	b.do("fill the form with mistakes",
		chromedp.SetValue(chromedp.CSS("#f-name"), "Contoso"),
		chromedp.SetValue(chromedp.CSS("#f-host"), "https://support.example.com/login"),
		chromedp.SetValue(chromedp.CSS("#f-password"), autotasktest.DefaultSecret),
		chromedp.SetValue(chromedp.CSS("#f-ticket_defaults"), `{"title": `),
		chromedp.Click(chromedp.CSS("form[data-config-form] button.primary")),
		chromedp.WaitVisible(chromedp.CSS("#form-errors")),
		chromedp.WaitVisible(chromedp.CSS("#f-username-error")),
	)
	if msg := b.text("#f-host-error"); !strings.Contains(msg, "host name only") {
		t.Errorf("host error = %q", msg)
	}
	if msg := b.text("#f-ticket_defaults-error"); !strings.Contains(msg, "JSON") {
		t.Errorf("JSON error = %q", msg)
	}
	kept, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS("#f-password")))
	if err != nil || kept != autotasktest.DefaultSecret {
		t.Errorf("the typed password was lost on the refused save: %v", err)
	}
	b.check("refused form")
	b.shot("config-errors", "")
	b.doFlash("fix the form and save", "configuration was created",
		chromedp.SetValue(chromedp.CSS("#f-host"), b.app.Host()),
		chromedp.SetValue(chromedp.CSS("#f-appliance_id"), b.app.ApplianceID()),
		chromedp.SetValue(chromedp.CSS("#f-client_id"), bttest.DefaultClientID),
		chromedp.SetValue(chromedp.CSS("#f-client_secret"), bttest.DefaultClientSecret),
		chromedp.Click(chromedp.CSS("#f-allow_invalid_certificates")),
		chromedp.SetValue(chromedp.CSS("#f-username"), autotasktest.DefaultUsername),
		chromedp.SetValue(chromedp.CSS("#f-integration_code"), autotasktest.DefaultIntegrationCode),
		chromedp.SetValue(chromedp.CSS("#f-ticket_defaults"), `{"title": "{{Issue}}", "status": 1}`),
		chromedp.Click(chromedp.CSS("form[data-config-form] button.primary")),
	)
	cfgs, err := b.srv.Service.Configs(ctx, autotask.ID)
	if err != nil || len(cfgs) != 1 {
		t.Fatalf("configurations after save: %v, %v", cfgs, err)
	}
	id := cfgs[0].ID
	b.check("home with a configuration")

	// Test on unsaved values: a note type the tenant does not have fails.
	b.open(fmt.Sprintf("/configs/%d", id), "#f-note_type")
	b.check("edit form")
	b.do("test unsaved values",
		chromedp.SetValue(chromedp.CSS("#f-note_type"), "No Such Note Type"),
		chromedp.Click(chromedp.CSS("button[data-test]")),
		chromedp.WaitVisible(chromedp.CSS("#test-results .checks")),
	)
	failed, passed := b.count("#test-results .check.status-fail"), b.count("#test-results .check.status-ok")
	if failed != 1 || passed < 5 {
		t.Errorf("test results: %d failed, %d passed; want exactly the note type to fail", failed, passed)
	}
	if msg := b.text("#test-results .check.status-fail"); !strings.Contains(msg, "Note type") {
		t.Errorf("failing check = %q, want the note type check", msg)
	}
	b.check("test results")
	b.shot("test", "#test-results")
	if cfg, _ := b.srv.Service.Config(ctx, id); cfg.Settings.(*autotask.Settings).NoteType != "1" {
		t.Error("Test saved the form's values")
	}

	// Copy, then disable and enable the original.
	b.open("/", fmt.Sprintf(`form[action="/configs/%d/copy"] button`, id))
	b.doFlash("copy", "This is a disabled copy", chromedp.Click(chromedp.CSS(fmt.Sprintf(`form[action="/configs/%d/copy"] button`, id))))
	if h := b.text("h1"); h != "Edit Copy of Contoso" {
		t.Errorf("after Copy the page is %q, want the copy's form", h)
	}
	if got := b.text("[data-duplicates]"); !strings.Contains(got, "Contoso") || !strings.Contains(got, "written twice") {
		t.Errorf("the copy's duplicate warning = %q", got)
	}
	b.check("copy's form")
	b.shot("config-duplicate", "")
	b.open("/", fmt.Sprintf(`form[action="/configs/%d/disable"] button`, id))
	if n := b.count(`tbody tr .badge.off`); n != 1 {
		t.Errorf("%d disabled configurations after copy, want the copy", n)
	}
	b.do("disable", chromedp.Click(chromedp.CSS(fmt.Sprintf(`form[action="/configs/%d/disable"] button`, id))),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`form[action="/configs/%d/enable"] button`, id))))
	if n := b.count(`tbody tr .badge.off`); n != 2 {
		t.Errorf("%d disabled configurations after disable, want 2", n)
	}
	b.check("home after disable")
	b.do("enable", chromedp.Click(chromedp.CSS(fmt.Sprintf(`form[action="/configs/%d/enable"] button`, id))),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`form[action="/configs/%d/disable"] button`, id))))

	// A session ends: its event and delivery show up.
	lsid := b.endSession(autotasktest.TicketOpenNumber)
	b.openUntil("/events?type="+engine.EventSessionEnd+"&lsid="+lsid, "tr[data-event]")
	b.do("open the event", chromedp.Click(chromedp.CSS(`tr[data-event] a`)), chromedp.WaitVisible(chromedp.CSS(".delivery")))
	if !strings.Contains(b.text("main"), lsid) {
		t.Errorf("the event page does not show lsid %s", lsid)
	}
	eventPath, _ := chromedp.Run(b.ctx, chromedp.Location())
	eventPath = strings.TrimPrefix(eventPath, b.srv.AdminURL())
	b.openUntil(eventPath, `[data-state="done"]`)
	b.shot("event", "")
	b.open("/events", "tr[data-event]")
	b.shot("events", "")
	b.open("/", "tbody tr")
	b.shot("home", "")

	// Autotask refuses the next note once: the delivery fails; Retry now
	// delivers it.
	b.sim.Inject(autotasktest.Fault{Method: "POST", Endpoint: "TicketNotes", WritesOnly: true, Status: 400, Body: `{"errors":["Simulated refusal of the note"]}`})
	failing := b.endSession(autotasktest.TicketOtherNumber)
	var d store.Delivery
	deadline := time.Now().Add(waitLimit)
	for time.Now().Before(deadline) {
		ds, _ := b.srv.Store.ListDeliveries(ctx, store.DeliveryFilter{State: store.StateFailed})
		if len(ds) > 0 && ds[0].LSID == failing {
			d = ds[0]
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if d.ID == 0 {
		t.Fatal("the refused note did not fail its delivery")
	}
	b.open(fmt.Sprintf("/events/%d", d.EventID), `[data-state="failed"]`)
	if msg := b.text(".delivery pre.error-text"); !strings.Contains(msg, "Simulated refusal of the note") {
		t.Errorf("last error = %q, want the upstream body", msg)
	}
	b.shot("delivery-failed", "")
	b.doFlash("retry now", "delivery will run again", chromedp.Click(chromedp.CSS(fmt.Sprintf(`form[action="/deliveries/%d/retry"] button`, d.ID))))
	b.openUntil(fmt.Sprintf("/events/%d", d.EventID), `[data-state="done"]`)
	if notes := b.sim.Notes(autotasktest.TicketOther); len(notes) != 1 {
		t.Errorf("%d notes on the ticket after Retry now, want 1", len(notes))
	}

	// The remaining pages.
	b.open("/polling", "h1")
	b.open("/templates?name=session_report", "pre.output") // its screenshot: TestBrowserPluginTemplates
	b.open("/audit", "table.audit")
	b.shot("audit", "")
	b.open("/account", "#current")
	if b.pages < 15 {
		t.Errorf("only %d pages were checked for secrets", b.pages)
	}
}
