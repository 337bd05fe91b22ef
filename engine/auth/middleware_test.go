package auth

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// newTestEcho serves a page, an API route and a form target behind the
// middleware, as the admin listener does.
func newTestEcho(t *testing.T) (*echo.Echo, *Manager, Session) {
	t.Helper()
	m, _ := newTestManager(t)
	if _, err := m.Bootstrap(t.Context(), "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	sess, err := m.Login(t.Context(), "admin", "correct horse battery", "192.0.2.1", "")
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	g := e.Group("", m.CSRF(), m.Middleware())
	hello := func(c echo.Context) error { return c.String(http.StatusOK, "hello "+Actor(c)+" "+CSRFToken(c)) }
	g.GET("/configs", hello)
	g.POST("/configs", hello)
	g.GET("/api/configs", hello)
	g.POST("/api/configs", hello)
	return e, m, sess
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	e, _, sess := newTestEcho(t)
	sessionCookie := &http.Cookie{Name: SessionCookie, Value: sess.Token}

	tests := []struct {
		name       string
		method     string
		target     string
		cookie     *http.Cookie
		basic      []string
		accept     string
		wantStatus int
		wantLoc    string
		wantBody   string
	}{
		{name: "page without login", method: "GET", target: "/configs?plugin=autotask", wantStatus: http.StatusSeeOther, wantLoc: "/login?next=%2Fconfigs%3Fplugin%3Dautotask"},
		{name: "API without login", method: "GET", target: "/api/configs", wantStatus: http.StatusUnauthorized, wantBody: `"error":"login required"`},
		{name: "fetch without login", method: "GET", target: "/configs", accept: "application/json", wantStatus: http.StatusUnauthorized},
		{name: "page with session", method: "GET", target: "/configs", cookie: sessionCookie, wantStatus: http.StatusOK, wantBody: "hello admin"},
		{name: "API with session", method: "GET", target: "/api/configs", cookie: sessionCookie, wantStatus: http.StatusOK, wantBody: "hello admin"},
		{name: "stale session", method: "GET", target: "/configs", cookie: &http.Cookie{Name: SessionCookie, Value: "gone"}, wantStatus: http.StatusSeeOther, wantLoc: "/login?next=%2Fconfigs"},
		{name: "API with Basic", method: "GET", target: "/api/configs", basic: []string{"admin", "correct horse battery"}, wantStatus: http.StatusOK, wantBody: "hello admin"},
		{name: "API POST with Basic needs no CSRF token", method: "POST", target: "/api/configs", basic: []string{"admin", "correct horse battery"}, wantStatus: http.StatusOK},
		{name: "API with wrong Basic", method: "GET", target: "/api/configs", basic: []string{"admin", "nope"}, wantStatus: http.StatusUnauthorized, wantBody: "wrong username or password"},
		{name: "page with Basic", method: "GET", target: "/configs", basic: []string{"admin", "correct horse battery"}, wantStatus: http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.target, nil)
			if tt.cookie != nil {
				req.AddCookie(tt.cookie)
			}
			if tt.basic != nil {
				req.SetBasicAuth(tt.basic[0], tt.basic[1])
			}
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantLoc != "" && rec.Header().Get("Location") != tt.wantLoc {
				t.Errorf("Location = %q, want %q", rec.Header().Get("Location"), tt.wantLoc)
			}
			if !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("body %q does not contain %q", rec.Body, tt.wantBody)
			}
		})
	}
}

func TestStaleSessionCookieCleared(t *testing.T) {
	t.Parallel()
	e, _, _ := newTestEcho(t)
	req := httptest.NewRequest("GET", "/configs", nil)
	req.AddCookie(&http.Cookie{Name: SessionCookie, Value: "gone"})
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.Name == SessionCookie && c.MaxAge < 0 {
			return
		}
	}
	t.Errorf("stale session cookie not cleared: %v", rec.Result().Cookies())
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	e, m, sess := newTestEcho(t)
	sessionCookie := &http.Cookie{Name: SessionCookie, Value: sess.Token}

	// A page view hands out the token derived from the session.
	req := httptest.NewRequest("GET", "/configs", nil)
	req.AddCookie(sessionCookie)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	token := m.CSRFTokenFor(req)
	if token == "" || !strings.Contains(rec.Body.String(), token) {
		t.Fatalf("the page did not get the session's CSRF token to put into its forms: %s", rec.Body)
	}
	other, err := m.Login(t.Context(), "admin", "correct horse battery", "192.0.2.1", "")
	if err != nil {
		t.Fatal(err)
	}
	otherReq := httptest.NewRequest("GET", "/", nil)
	otherReq.AddCookie(&http.Cookie{Name: SessionCookie, Value: other.Token})
	otherToken := m.CSRFTokenFor(otherReq)
	if otherToken == token {
		t.Fatal("two logins share a CSRF token")
	}

	tests := []struct {
		name       string
		form       url.Values
		header     map[string]string
		cookies    []*http.Cookie
		basic      bool
		wantStatus int
	}{
		{name: "no token", wantStatus: http.StatusForbidden},
		{name: "wrong token in form", form: url.Values{CSRFField: {"forged"}}, wantStatus: http.StatusForbidden},
		{name: "another login's token", form: url.Values{CSRFField: {otherToken}}, wantStatus: http.StatusForbidden},
		{name: "planted CSRF cookie echoed in the form", form: url.Values{CSRFField: {"planted"}}, cookies: []*http.Cookie{{Name: CSRFCookie, Value: "planted"}}, wantStatus: http.StatusForbidden},
		{name: "token in form", form: url.Values{CSRFField: {token}}, wantStatus: http.StatusOK},
		{name: "token in header", header: map[string]string{CSRFHeader: token}, wantStatus: http.StatusOK},
		{name: "cross-site browser request", form: url.Values{CSRFField: {token}}, header: map[string]string{"Sec-Fetch-Site": "cross-site"}, wantStatus: http.StatusForbidden},
		{name: "same-site browser request (another port)", form: url.Values{CSRFField: {token}}, header: map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "http://example.com:9999"}, wantStatus: http.StatusForbidden},
		{name: "foreign Origin without Sec-Fetch-Site", form: url.Values{CSRFField: {token}}, header: map[string]string{"Origin": "http://example.com:9999"}, wantStatus: http.StatusForbidden},
		{name: "Origin null", form: url.Values{CSRFField: {token}}, header: map[string]string{"Origin": "null"}, wantStatus: http.StatusForbidden},
		{name: "same-origin browser request", form: url.Values{CSRFField: {token}}, header: map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://example.com"}, wantStatus: http.StatusOK},
		{name: "same-origin without the token", header: map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://example.com"}, wantStatus: http.StatusForbidden},
		{name: "session cookie plus Basic", basic: true, wantStatus: http.StatusBadRequest},
	}
	for _, tt := range tests {
		for _, target := range []string{"/configs", "/api/configs"} {
			t.Run(tt.name+" "+target, func(t *testing.T) {
				req := httptest.NewRequest("POST", target, strings.NewReader(tt.form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.AddCookie(sessionCookie)
				for _, c := range tt.cookies {
					req.AddCookie(c)
				}
				if tt.basic {
					req.SetBasicAuth("admin", "correct horse battery")
				}
				for k, v := range tt.header {
					req.Header.Set(k, v)
				}
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, req)
				if rec.Code != tt.wantStatus {
					t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
				}
			})
		}
	}
}

// TestCSRFWithoutSession covers the login form: a browser without a session
// gets a random CSRF cookie and a token derived from it, which a cookie
// planted by another port cannot forge.
func TestCSRFWithoutSession(t *testing.T) {
	t.Parallel()
	m, _ := newTestManager(t)
	e := echo.New()
	e.Group("", m.CSRF()).Match([]string{"GET", "POST"}, "/login", func(c echo.Context) error { return c.String(http.StatusOK, CSRFToken(c)) })

	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
	var ck *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == CSRFCookie {
			ck = c
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
		t.Fatalf("CSRF cookie = %+v", ck)
	}
	token := rec.Body.String()
	if token == "" || token == ck.Value {
		t.Fatalf("token %q must be derived from, not equal to, the cookie", token)
	}
	post := func(cookie, field string) int {
		req := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{CSRFField: {field}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: CSRFCookie, Value: cookie})
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := post(ck.Value, token); code != http.StatusOK {
		t.Errorf("the page's own token: %d", code)
	}
	if code := post("planted", "planted"); code != http.StatusForbidden {
		t.Errorf("a planted cookie echoed in the form: %d, want 403", code)
	}
}

// TestCSRFRefusalsRateLimited floods the listener with forged posts: one
// log line a minute, counting the rest.
func TestCSRFRefusalsRateLimited(t *testing.T) {
	t.Parallel()
	var logs strings.Builder
	m, _ := newTestManager(t)
	m.log = slog.New(slog.NewTextHandler(&logs, nil))
	e := echo.New()
	e.Group("", m.CSRF()).POST("/configs", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
	for range 100 {
		req := httptest.NewRequest("POST", "/configs", nil)
		req.Header.Set("Sec-Fetch-Site", "same-site")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden {
			t.Fatalf("status %d, want 403", rec.Code)
		}
	}
	if n := strings.Count(logs.String(), "refused a cross-site request"); n != 1 {
		t.Errorf("%d log lines for 100 refusals, want 1:\n%s", n, logs.String())
	}
}

func TestSessionCookieFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		proto      string
		wantSecure bool
	}{
		{"plain HTTP", "", false},
		{"behind a TLS proxy", "https", true},
	}
	for _, tt := range tests {
		e := echo.New()
		req := httptest.NewRequest("POST", "/login", nil)
		req.RemoteAddr = "127.0.0.1:40000" // echo trusts forwarding headers from local proxies only
		if tt.proto != "" {
			req.Header.Set("X-Forwarded-Proto", tt.proto)
		}
		rec := httptest.NewRecorder()
		SetSessionCookie(e.NewContext(req, rec), Session{Token: "t"})
		c := rec.Result().Cookies()[0]
		if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure != tt.wantSecure || c.Path != "/" {
			t.Errorf("%s: cookie = %+v", tt.name, c)
		}
	}
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"/events?state=failed": "/events?state=failed",
		"":                     "/",
		"https://evil.example": "/",
		"//evil.example/x":     "/",
		`/\evil.example`:       "/",
		"events":               "/",
		"/configs/3":           "/configs/3",
	}
	for in, want := range tests {
		if got := SafeNext(in); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// A browser that once opened http://admin:pw@host/api/… caches those Basic
// credentials and adds them to later requests, including ones another site
// makes it send. Basic or bearer requests are exempt from the CSRF token,
// not from the origin check: a request the browser says comes from another
// site is refused; a CLI, which sends neither header, is not affected.
func TestBasicOnAPIFromAnotherSiteIsRefused(t *testing.T) {
	t.Parallel()
	e, _, _ := newTestEcho(t)
	for _, tc := range []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"cross-site fetch", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"another port of this host", map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"foreign Origin", map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden},
		{"same origin", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://example.com"}, http.StatusOK},
		{"a CLI", nil, http.StatusOK},
	} {
		req := httptest.NewRequest(http.MethodPost, "/api/configs", nil)
		req.SetBasicAuth("admin", "correct horse battery")
		for k, v := range tc.header {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s: status %d, want %d (%s)", tc.name, rec.Code, tc.want, rec.Body.String())
		}
	}
	// Reading stays open to the API's clients whatever they send.
	req := httptest.NewRequest(http.MethodGet, "/api/configs", nil)
	req.SetBasicAuth("admin", "correct horse battery")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("cross-site GET with Basic: %d", rec.Code)
	}
}
