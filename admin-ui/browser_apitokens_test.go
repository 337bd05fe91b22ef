package adminui

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"switchboard/engine/beyondtrust/bttest"
)

// TestBrowserAPITokens: in a real browser an admin creates an API token,
// sees it once, a script reads an investigation query with it (and is
// refused a write), the admin revokes it through the confirmation, and the
// same request then gets 401. The audit log names the token, never shows it.
func TestBrowserAPITokens(t *testing.T) {
	b := newBrowser(t)
	b.signInThroughSetup()
	id := b.configure("Ops appliance", nil)
	b.app.AddVaultActivity(bttest.VaultActivity{Time: b.app.Now().Add(-10 * time.Minute), Type: "Password Changed", Account: "7",
		PerformedByID: "1", PerformedByType: "user", PerformedBy: "Admin", Data: "rotated"})

	b.open("/api-tokens", "#token-name")
	if !strings.Contains(b.text("table.tokens"), "No API tokens yet") {
		t.Fatalf("empty list: %q", b.text("table.tokens"))
	}
	b.do("create a token with no name",
		chromedp.Click(chromedp.CSS("form[action='/api-tokens'] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#token-error")),
	)
	b.do("create a token",
		chromedp.SetValue(chromedp.CSS("#token-name"), "XSOAR playbooks"),
		chromedp.Click(chromedp.CSS("form[action='/api-tokens'] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#new-token")),
	)
	token, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector('#new-token').value`))
	if err != nil || !strings.HasPrefix(token, "sbt_") {
		t.Fatalf("the token shown: %q %v", token, err)
	}
	b.check("/api-tokens (created)")
	b.shot("api-tokens", "#created-title")
	prefix := token[len("sbt_") : len("sbt_")+12] // base64url: it may hold "_" itself
	if table := b.text("table.tokens"); !strings.Contains(table, "XSOAR playbooks\t"+prefix+"\tread-only\tvalid") {
		t.Fatalf("the list: %q", table)
	}

	call := func(method, path string) (int, string) {
		req, _ := http.NewRequest(method, b.srv.AdminURL()+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	query := "/api/v1/query/vault-activity?config=" + strconv.FormatInt(id, 10) + "&from=" + url.QueryEscape(b.app.Now().Add(-time.Hour).Format(time.RFC3339))
	if code, body := call("GET", query); code != http.StatusOK || !strings.Contains(body, `"event_type":"Password Changed"`) {
		t.Fatalf("query with the token: %d %s", code, body)
	}
	if code, body := call("POST", "/api/v1/configurations/"+strconv.FormatInt(id, 10)+"/disable"); code != http.StatusForbidden {
		t.Fatalf("a write with the read-only token: %d %s", code, body)
	}

	// Shown once: the list page does not show it again.
	b.open("/api-tokens", "table.tokens")
	if html, _ := chromedp.Run(b.ctx, chromedp.OuterHTML(chromedp.CSS("html"))); strings.Contains(html, token) {
		t.Fatal("the token is shown a second time")
	}
	b.doFlash("revoke", "token was revoked",
		chromedp.Click(chromedp.CSS("a[href$='/revoke']")),
		chromedp.WaitVisible(chromedp.CSS("#revoke-title")),
		chromedp.Click(chromedp.CSS("form[action$='/revoke'] button.danger")),
	)
	if table := b.text("table.tokens"); !strings.Contains(table, "revoked") {
		t.Fatalf("after revoking: %q", table)
	}
	if code, body := call("GET", query); code != http.StatusUnauthorized || strings.TrimSpace(body) != `{"error":"unauthorized"}` {
		t.Fatalf("query with the revoked token: %d %s", code, body)
	}
	b.open("/audit", "table.audit")
	audit := b.text("table.audit")
	if !strings.Contains(audit, `created read-only API token "XSOAR playbooks" (`+prefix+`)`) || !strings.Contains(audit, `revoked API token "XSOAR playbooks" (`+prefix+`)`) {
		t.Errorf("audit log: %q", audit)
	}
	if strings.Contains(audit, token[len("sbt_")+len(prefix)+1:]) {
		t.Error("the token's secret is in the audit log")
	}
}
