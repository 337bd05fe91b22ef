package adminui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"switchboard/engine/auth"
	"switchboard/engine/store"
)

// TestAdmins: an admin adds a second account, which signs in; disabling it
// ends its session and refuses its password; nobody disables or removes
// themselves, the last enabled account stays, and every change is in the
// audit log under who made it.
func TestAdmins(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := t.Context()
	const pw = "ops password 1"
	add := func(form url.Values) (int, string) {
		rec := h.post("/admins", form)
		return rec.Code, rec.Body.String()
	}
	for _, tc := range []struct {
		name string
		form url.Values
		want string
	}{
		{"passwords differ", url.Values{"username": {"ops"}, "password": {pw}, "confirm": {"other"}}, "differ"},
		{"short password", url.Values{"username": {"ops"}, "password": {"short"}, "confirm": {"short"}}, "at least 10 characters"},
		{"taken name", url.Values{"username": {"admin"}, "password": {pw}, "confirm": {pw}}, "named admin already"},
		{"bad name", url.Values{"username": {"a b<script>"}, "password": {pw}, "confirm": {pw}}, "sername"},
	} {
		code, body := add(tc.form)
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, tc.want) || strings.Contains(body, pw) || strings.Contains(body, "<script>") {
			t.Errorf("%s: %d\n%s", tc.name, code, body)
		}
	}
	if code, _ := add(url.Values{"username": {"ops"}, "password": {pw}, "confirm": {pw}}); code != http.StatusSeeOther {
		t.Fatalf("add: %d", code)
	}
	if rec := h.post("/admins", url.Values{"username": {"x"}, "password": {pw}, "confirm": {pw}, auth.CSRFField: {""}}, noCSRF); rec.Code != http.StatusForbidden {
		t.Errorf("a forged add: %d", rec.Code)
	}
	sess, err := h.srv.Auth.Login(ctx, "ops", pw, "127.0.0.1", "t")
	if err != nil {
		t.Fatalf("the new admin cannot sign in: %v", err)
	}
	ops, _ := h.srv.Store.AdminUserByName(ctx, "ops")
	me, _ := h.srv.Store.AdminUserByName(ctx, "admin")
	if body := h.get("/admins").Body.String(); !strings.Contains(body, "ops") || !strings.Contains(body, fmt.Sprintf(`/admins/%d/disable`, ops.ID)) || strings.Contains(body, fmt.Sprintf(`/admins/%d/disable`, me.ID)) {
		t.Fatalf("admins page:\n%s", body)
	}

	if rec := h.post(fmt.Sprintf("/admins/%d/disable", me.ID), nil); rec.Code != http.StatusConflict {
		t.Errorf("disabling yourself: %d", rec.Code)
	}
	if rec := h.post(fmt.Sprintf("/admins/%d/disable", ops.ID), nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("disable: %d %s", rec.Code, rec.Body)
	}
	if _, err := h.srv.Auth.Authenticate(ctx, sess.Token); !errors.Is(err, auth.ErrNoSession) {
		t.Errorf("the disabled admin's session still works: %v", err)
	}
	if _, err := h.srv.Auth.Verify(ctx, "ops", pw, "127.0.0.2"); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("the disabled admin's password still works: %v", err)
	}
	// The only enabled account is the last one: not even another admin's
	// session (here, ops re-enabled and then removing admin twice) gets
	// past that.
	if err := h.srv.Store.SetAdminDisabled(ctx, me.ID, true, store.AuditEntry{}); !errors.Is(err, store.ErrLastAdmin) {
		t.Errorf("disabling the last enabled account: %v", err)
	}
	if err := h.srv.Store.DeleteAdminUser(ctx, me.ID, store.AuditEntry{}); !errors.Is(err, store.ErrLastAdmin) {
		t.Errorf("removing the last enabled account: %v", err)
	}
	if rec := h.post(fmt.Sprintf("/admins/%d/enable", ops.ID), nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("enable: %d", rec.Code)
	}
	if _, err := h.srv.Auth.Verify(ctx, "ops", pw, "127.0.0.3"); err != nil {
		t.Errorf("the enabled admin cannot sign in: %v", err)
	}
	if rec := h.get(fmt.Sprintf("/admins/%d/remove", ops.ID)); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Remove ops?") {
		t.Errorf("remove confirmation: %d", rec.Code)
	}
	if rec := h.post(fmt.Sprintf("/admins/%d/remove", ops.ID), nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("remove: %d", rec.Code)
	}
	if _, err := h.srv.Auth.Verify(ctx, "ops", pw, "127.0.0.4"); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("the removed admin can sign in: %v", err)
	}
	entries, err := h.srv.Store.Audit(context.Background(), 50)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		if strings.HasPrefix(e.Action, "admin.") {
			got = append(got, e.Actor+" "+e.Action)
		}
	}
	if want := "admin admin.remove|admin admin.enable|admin admin.disable|admin admin.create"; strings.Join(got, "|") != want {
		t.Errorf("audit %q, want %q", strings.Join(got, "|"), want)
	}
}
