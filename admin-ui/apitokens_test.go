package adminui

import (
	"net/http"
	"strings"
	"testing"

	"switchboard/engine/auth"
)

// The API tokens page says why a token that is not revoked gets 401: the
// admin who made it is disabled.
func TestAPITokensPageShowsSuspended(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := t.Context()
	me := auth.User{ID: 1, Username: "admin"}
	if err := h.srv.Auth.AddAdmin(ctx, me, "bob", "another long passphrase"); err != nil {
		t.Fatal(err)
	}
	list, err := h.srv.Auth.Admins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bob := auth.User{Username: "bob"}
	for _, u := range list {
		if u.Username == "bob" {
			bob.ID = u.ID
		}
	}
	if _, _, err := h.srv.Auth.CreateAPIToken(ctx, bob, "bob's script"); err != nil {
		t.Fatal(err)
	}
	if err := h.srv.Auth.SetAdminDisabled(ctx, me, bob.ID, true); err != nil {
		t.Fatal(err)
	}
	rec := h.get("/api-tokens")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /api-tokens: %d", rec.Code)
	}
	body := rec.Body.String()
	if !strings.Contains(body, "suspended: admin bob, who made it, is disabled") || strings.Contains(body, ">valid<") {
		t.Fatalf("the page does not say that bob's token is suspended:\n%s", body)
	}
}
