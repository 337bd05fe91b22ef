package auth

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestAPITokens: a token is shown once, stored only as a hash, admits GET
// requests of the API only, never a write, and gets 401 with no detail
// once revoked, as an unknown or malformed one does. Neither the token nor
// its secret part reaches the log or the audit log.
func TestAPITokens(t *testing.T) {
	t.Parallel()
	e, m, sess := newTestEcho(t)
	var logs bytes.Buffer
	m.log = slog.New(slog.NewTextHandler(&logs, nil))
	ctx := t.Context()
	admin := User{ID: 1, Username: "admin"}

	if _, _, err := m.CreateAPIToken(ctx, admin, "  "); err == nil {
		t.Fatal("a blank name was accepted")
	}
	if _, _, err := m.CreateAPIToken(ctx, admin, "bad\x00name"); err == nil {
		t.Fatal("a name with a control character was accepted")
	}
	tok, secret, err := m.CreateAPIToken(ctx, admin, "SOAR")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "sbt_"+tok.Prefix+"_") || len(secret) != 4+12+1+43 || tok.Scope != ScopeRead {
		t.Fatalf("token %q, %+v", secret, tok)
	}
	rows, _ := m.st.ListAPITokens(ctx)
	if len(rows) != 1 || rows[0].TokenHash == secret || strings.Contains(rows[0].TokenHash, secret[17:]) {
		t.Fatalf("stored: %+v", rows)
	}

	call := func(method, target, authz string, cookie bool) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, target, nil)
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		if cookie {
			req.AddCookie(&http.Cookie{Name: SessionCookie, Value: sess.Token})
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	bearer := "Bearer " + secret
	if rec := call("GET", "/api/configs", bearer, false); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `hello API token "SOAR" (`+tok.Prefix+`)`) {
		t.Fatalf("GET with the token: %d %s", rec.Code, rec.Body)
	}
	if rec := call("GET", "/api/configs", "bearer "+secret, false); rec.Code != http.StatusOK {
		t.Fatalf("the scheme is case-insensitive: %d", rec.Code)
	}
	for _, method := range []string{"POST", "PUT", "DELETE", "PATCH"} {
		if rec := call(method, "/api/configs", bearer, false); rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "read-only") {
			t.Fatalf("%s with a read-only token: %d %s", method, rec.Code, rec.Body)
		}
	}
	if rec := call("GET", "/configs", bearer, false); rec.Code != http.StatusSeeOther {
		t.Fatalf("a token does not open the admin UI: %d", rec.Code)
	}
	if rec := call("GET", "/api/configs", bearer, true); rec.Code != http.StatusBadRequest {
		t.Fatalf("token and cookie at once: %d", rec.Code)
	}
	if got, _ := m.st.ListAPITokens(ctx); got[0].LastUsedAt == 0 {
		t.Fatal("last use not recorded")
	}

	if err := m.RevokeAPIToken(ctx, admin, tok.ID); err != nil {
		t.Fatal(err)
	}
	if err := m.RevokeAPIToken(ctx, admin, tok.ID); err != nil {
		t.Fatalf("revoking twice: %v", err)
	}
	if err := m.RevokeAPIToken(ctx, admin, 999); err == nil {
		t.Fatal("revoking an unknown token succeeded")
	}
	flipped := secret[:len(secret)-1] + "A"
	if strings.HasSuffix(secret, "A") {
		flipped = secret[:len(secret)-1] + "E"
	}
	for name, authz := range map[string]string{
		"revoked": bearer, "unknown": "Bearer " + flipped, "malformed": "Bearer sbt_x",
		"empty": "Bearer ", "other scheme": "Token " + secret,
	} {
		rec := call("GET", "/api/configs", authz, false)
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("%s token: %d %s", name, rec.Code, rec.Body)
		}
		if name != "other scheme" && strings.TrimSpace(rec.Body.String()) != `{"error":"unauthorized"}` {
			t.Fatalf("%s token: the 401 says more than unauthorized: %s", name, rec.Body)
		}
	}

	audit, err := m.st.Audit(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, a := range audit {
		actions = append(actions, a.Action+": "+a.Summary)
	}
	all := strings.Join(actions, "\n")
	if !strings.Contains(all, "apitoken.create") || !strings.Contains(all, "apitoken.revoke") || !strings.Contains(all, tok.Prefix) {
		t.Fatalf("audit: %s", all)
	}
	secretPart := secret[len("sbt_")+13:]
	if strings.Contains(all, secretPart) || strings.Contains(logs.String(), secretPart) {
		t.Fatalf("the token's secret reached the audit log or the log:\n%s\n%s", all, logs.String())
	}
}

// TestAPITokenOfDisabledAdmin: a token speaks for the admin who made it,
// so it stops working when that account is disabled or removed (a
// departing admin keeps no way in), works again when the account is
// enabled, and is not revived by a new account of the same name.
func TestAPITokenOfDisabledAdmin(t *testing.T) {
	t.Parallel()
	e, m, _ := newTestEcho(t)
	ctx := t.Context()
	admin := User{ID: 1, Username: "admin"}
	if err := m.AddAdmin(ctx, admin, "bob", "another long passphrase"); err != nil {
		t.Fatal(err)
	}
	bobID := func() int64 {
		list, err := m.Admins(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range list {
			if u.Username == "bob" {
				return u.ID
			}
		}
		t.Fatal("bob is gone")
		return 0
	}
	bob := User{ID: bobID(), Username: "bob"}
	_, secret, err := m.CreateAPIToken(ctx, bob, "bob's script")
	if err != nil {
		t.Fatal(err)
	}
	get := func() int {
		req := httptest.NewRequest("GET", "/api/configs", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := get(); code != http.StatusOK {
		t.Fatalf("bob's token: %d", code)
	}
	if err := m.SetAdminDisabled(ctx, admin, bob.ID, true); err != nil {
		t.Fatal(err)
	}
	if code := get(); code != http.StatusUnauthorized {
		t.Fatalf("the token of a disabled admin: %d, want 401", code)
	}
	suspended := func() string {
		list, err := m.APITokens(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range list {
			if tok.Name == "bob's script" {
				return tok.Suspended
			}
		}
		t.Fatal("bob's token is not listed")
		return ""
	}
	if why := suspended(); !strings.Contains(why, "bob") || !strings.Contains(why, "disabled") {
		t.Fatalf("the list shows the token of a disabled admin as valid: %q", why)
	}
	if err := m.SetAdminDisabled(ctx, admin, bob.ID, false); err != nil {
		t.Fatal(err)
	}
	if code := get(); code != http.StatusOK {
		t.Fatalf("the token of an admin enabled again: %d", code)
	}
	if why := suspended(); why != "" {
		t.Fatalf("the token of an admin enabled again is listed as %q", why)
	}
	if err := m.RemoveAdmin(ctx, admin, bob.ID); err != nil {
		t.Fatal(err)
	}
	if code := get(); code != http.StatusUnauthorized {
		t.Fatalf("the token of a removed admin: %d, want 401", code)
	}
	time.Sleep(2 * time.Millisecond) // the new account is made in a later millisecond
	if err := m.AddAdmin(ctx, admin, "bob", "a new bob's passphrase"); err != nil {
		t.Fatal(err)
	}
	if code := get(); code != http.StatusUnauthorized {
		t.Fatalf("the token of a removed admin, after a new account took the name: %d, want 401", code)
	}
	if why := suspended(); !strings.Contains(why, "removed") {
		t.Fatalf("the token of a removed admin is listed as %q", why)
	}
}
