package adminui

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserAdmins: in a real browser an admin adds a second account
// through the form, disables it, and sees both changes in the audit log
// under their own name.
func TestBrowserAdmins(t *testing.T) {
	b := newBrowser(t)
	b.signInThroughSetup()
	b.open("/admins", "#username")
	b.doFlash("add an admin", "was added",
		chromedp.SetValue(chromedp.CSS("#username"), "ops"),
		chromedp.SetValue(chromedp.CSS("#password"), "ops password 1"),
		chromedp.SetValue(chromedp.CSS("#confirm"), "ops password 1"),
		chromedp.Click(chromedp.CSS("form[action='/admins'] button[type=submit]")),
	)
	if !strings.Contains(b.text("table.admins"), "ops") {
		t.Fatalf("the new admin is not listed: %q", b.text("table.admins"))
	}
	b.doFlash("disable ops", "was disabled",
		chromedp.Click(chromedp.CSS("form[action$='/disable'] button")),
	)
	if table := b.text("table.admins"); !strings.Contains(table, "ops\tdisabled") || !strings.Contains(table, "admin (you)\tenabled") {
		t.Errorf("after disabling ops: %q", table)
	}
	b.check("/admins")
	b.shot("admins", "")
	b.open("/audit", "table.audit")
	if audit := b.text("table.audit"); !strings.Contains(audit, `disabled admin account "ops"`) || !strings.Contains(audit, `added admin account "ops"`) {
		t.Errorf("audit log: %q", audit)
	}
}
