package adminui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"switchboard/engine/auth"
	"switchboard/engine/server"
)

func TestLogin(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	rec := h.get("/login?next=/events", anonymous)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `name="next" value="/events"`) {
		t.Fatalf("login page: %d", rec.Code)
	}
	if strings.Contains(h.get("/login?next=//evil.example", anonymous).Body.String(), "evil") {
		t.Error("the login page carries a foreign redirect")
	}

	tests := []struct {
		name       string
		form       url.Values
		wantStatus int
		wantLoc    string
		wantBody   string
	}{
		{"wrong password", url.Values{"username": {"admin"}, "password": {"nope"}}, http.StatusUnauthorized, "", "Wrong username or password."},
		{"unknown user", url.Values{"username": {"root"}, "password": {adminPassword}}, http.StatusUnauthorized, "", `value="root"`},
		{"right password", url.Values{"username": {"admin"}, "password": {adminPassword}, "next": {"/events?state=failed"}}, http.StatusSeeOther, "/events?state=failed", ""},
		{"foreign next", url.Values{"username": {"admin"}, "password": {adminPassword}, "next": {"https://evil.example/"}}, http.StatusSeeOther, "/", ""},
	}
	for _, tt := range tests {
		rec := h.post("/login", tt.form, anonymous)
		if rec.Code != tt.wantStatus {
			t.Errorf("%s: status %d, want %d", tt.name, rec.Code, tt.wantStatus)
		}
		if tt.wantLoc != "" && rec.Header().Get("Location") != tt.wantLoc {
			t.Errorf("%s: Location %q, want %q", tt.name, rec.Header().Get("Location"), tt.wantLoc)
		}
		if !strings.Contains(rec.Body.String(), tt.wantBody) {
			t.Errorf("%s: body does not contain %q", tt.name, tt.wantBody)
		}
		if tt.wantStatus == http.StatusSeeOther {
			var cookie *http.Cookie
			for _, c := range rec.Result().Cookies() {
				if c.Name == auth.SessionCookie {
					cookie = c
				}
			}
			if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
				t.Errorf("%s: session cookie %+v", tt.name, cookie)
			}
		}
	}
}

func TestLoginThrottled(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var rec = h.post("/login", url.Values{"username": {"admin"}, "password": {"guess"}}, anonymous)
	for range 10 {
		rec = h.post("/login", url.Values{"username": {"admin"}, "password": {"guess"}}, anonymous)
	}
	body := rec.Body.String()
	if rec.Code != http.StatusTooManyRequests || !strings.Contains(body, "Too many failed sign-ins. Try again in ") || strings.Count(body, "Too many failed") != 1 {
		t.Errorf("after many failures: %d\n%s", rec.Code, rec.Body)
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rec := h.post("/logout", nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login?done=logout" {
		t.Fatalf("logout: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if _, err := h.srv.Auth.Authenticate(t.Context(), h.session); err == nil {
		t.Error("the session survived the logout")
	}
	if rec := h.get("/"); rec.Code != http.StatusSeeOther {
		t.Errorf("home after logout: %d", rec.Code)
	}
}

// TestReloginEndsOldSession signs in again from a browser that holds a
// session: the old session token must stop working.
func TestReloginEndsOldSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	old := h.session
	rec := h.post("/login", url.Values{"username": {"admin"}, "password": {adminPassword}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("login: %d", rec.Code)
	}
	if _, err := h.srv.Auth.Authenticate(t.Context(), old); err == nil {
		t.Error("the old session still works after signing in again")
	}
}

func TestAccount(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tests := []struct {
		name       string
		form       url.Values
		wantStatus int
		wantBody   string
	}{
		{"passwords differ", url.Values{"current": {adminPassword}, "password": {"a new long password"}, "confirm": {"another"}}, http.StatusUnprocessableEntity, "differ"},
		{"wrong current", url.Values{"current": {"nope"}, "password": {"a new long password"}, "confirm": {"a new long password"}}, http.StatusUnprocessableEntity, "current password is wrong"},
		{"too short", url.Values{"current": {adminPassword}, "password": {"short"}, "confirm": {"short"}}, http.StatusUnprocessableEntity, "at least 10 characters"},
		{"changed", url.Values{"current": {adminPassword}, "password": {"a new long password"}, "confirm": {"a new long password"}}, http.StatusSeeOther, ""},
	}
	for _, tt := range tests {
		rec := h.post("/account", tt.form)
		if rec.Code != tt.wantStatus || !strings.Contains(rec.Body.String(), tt.wantBody) {
			t.Errorf("%s: %d, want %d with %q\n%s", tt.name, rec.Code, tt.wantStatus, tt.wantBody, rec.Body)
		}
	}
	if _, err := h.srv.Auth.Verify(t.Context(), "admin", "a new long password", "127.0.0.1"); err != nil {
		t.Errorf("new password does not work: %v", err)
	}
}

// TestSetup starts a server without SWITCHBOARD_ADMIN_PASSWORD, as a first
// start does.
func TestSetup(t *testing.T) {
	t.Parallel()
	h := newBareHarness(t, server.Options{})
	srv := h.srv
	if !strings.HasPrefix(srv.SetupURL, "/setup?token=") {
		t.Fatalf("SetupURL = %q", srv.SetupURL)
	}
	token := strings.TrimPrefix(srv.SetupURL, "/setup?token=")

	if rec := h.get("/login", anonymous); !strings.Contains(rec.Body.String(), "setup link") {
		t.Error("the login page does not point to the setup link")
	}
	if rec := h.get("/setup?token=wrong", anonymous); rec.Code != http.StatusNotFound {
		t.Errorf("wrong token: %d", rec.Code)
	}
	rec := h.get(srv.SetupURL, anonymous)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Create the admin account") {
		t.Fatalf("setup page: %d", rec.Code)
	}
	if rec.Header().Get("Referrer-Policy") != "same-origin" {
		t.Error("the setup page may leak its token in a Referer header")
	}

	steps := []struct {
		name       string
		form       url.Values
		wantStatus int
		wantBody   string
	}{
		{"passwords differ", url.Values{"token": {token}, "username": {"admin"}, "password": {"long enough password"}, "confirm": {"other"}}, http.StatusUnprocessableEntity, "differ"},
		{"too short", url.Values{"token": {token}, "username": {"admin"}, "password": {"short"}, "confirm": {"short"}}, http.StatusUnprocessableEntity, "The password must be at least"},
		{"wrong token", url.Values{"token": {"nope"}, "username": {"admin"}, "password": {"long enough password"}, "confirm": {"long enough password"}}, http.StatusNotFound, "not valid"},
		{"created", url.Values{"token": {token}, "username": {"ops"}, "password": {"long enough password"}, "confirm": {"long enough password"}}, http.StatusSeeOther, ""},
		{"used twice", url.Values{"token": {token}, "username": {"mallory"}, "password": {"long enough password"}, "confirm": {"long enough password"}}, http.StatusNotFound, "not valid"},
	}
	for _, s := range steps {
		rec := h.post("/setup", s.form, anonymous)
		if rec.Code != s.wantStatus || !strings.Contains(rec.Body.String(), s.wantBody) {
			t.Errorf("%s: %d, want %d with %q", s.name, rec.Code, s.wantStatus, s.wantBody)
		}
		if s.name == "created" {
			if rec.Header().Get("Location") != "/?done=setup" {
				t.Errorf("after setup: Location %q", rec.Header().Get("Location"))
			}
			signedIn := false
			for _, c := range rec.Result().Cookies() {
				signedIn = signedIn || c.Name == auth.SessionCookie && c.Value != ""
			}
			if !signedIn {
				t.Error("setup did not sign the new admin in")
			}
		}
	}
}
