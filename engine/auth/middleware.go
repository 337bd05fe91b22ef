package auth

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// Cookie and form names.
const (
	// SessionCookie carries the login session token.
	SessionCookie = "switchboard_session"
	// CSRFCookie carries a random value that the CSRF token of a browser
	// without a session (the login and setup forms) is derived from.
	CSRFCookie = "switchboard_csrf"
	// CSRFField is the hidden form field with the CSRF token.
	CSRFField = "_csrf"
	// CSRFHeader carries the CSRF token on fetch requests.
	CSRFHeader = "X-CSRF-Token"
	// LoginPath is where unauthenticated browsers are sent.
	LoginPath = "/login"

	userKey   = "auth.user"
	csrfKey   = "csrf"
	apiPrefix = "/api/"
)

// Middleware admits requests with a valid session cookie, or (on the JSON
// API under /api/ only) with HTTP Basic credentials of an admin account, for
// the command line, or with an API token (Authorization: Bearer), within
// its scope. Others are refused: a browser asking for a page is sent
// to the login page, an API or fetch client gets 401 with a JSON body. A
// request carrying both a session cookie and an Authorization header is
// refused: which of the two speaks for it would decide whether CSRF
// protection applies.
func (m *Manager) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if err := refuseBoth(c); err != nil {
				return err
			}
			if token, ok := bearerToken(req); ok && strings.HasPrefix(req.URL.Path, apiPrefix) {
				return m.bearer(c, next, token)
			}
			if ck, err := c.Cookie(SessionCookie); err == nil {
				u, err := m.Authenticate(req.Context(), ck.Value)
				switch {
				case err == nil:
					c.Set(userKey, u)
					return next(c)
				case errors.Is(err, ErrNoSession):
					ClearSessionCookie(c)
				default:
					return echo.NewHTTPError(http.StatusServiceUnavailable, "cannot check the login session").SetInternal(err)
				}
			}
			if username, password, ok := req.BasicAuth(); ok && strings.HasPrefix(req.URL.Path, apiPrefix) {
				u, err := m.Verify(req.Context(), username, password, c.RealIP())
				var throttled *ThrottledError
				switch {
				case err == nil:
					c.Set(userKey, u)
					return next(c)
				case errors.As(err, &throttled):
					c.Response().Header().Set("Retry-After", retryAfter(throttled.Wait))
					return c.JSON(http.StatusTooManyRequests, map[string]string{"error": err.Error()})
				case errors.Is(err, ErrInvalidCredentials):
					return c.JSON(http.StatusUnauthorized, map[string]string{"error": err.Error()})
				default:
					return echo.NewHTTPError(http.StatusServiceUnavailable, "cannot check the password").SetInternal(err)
				}
			}
			if WantsJSON(c) {
				return c.JSON(http.StatusUnauthorized, map[string]string{"error": "login required"})
			}
			target := LoginPath
			if req.Method == http.MethodGet && req.URL.Path != "/" {
				target += "?next=" + url.QueryEscape(req.URL.RequestURI())
			}
			return c.Redirect(http.StatusSeeOther, target)
		}
	}
}

// refuseBoth refuses a request that carries a session cookie and an
// Authorization header at once.
func refuseBoth(c echo.Context) error {
	if _, err := c.Cookie(SessionCookie); err != nil || c.Request().Header.Get(echo.HeaderAuthorization) == "" {
		return nil
	}
	return echo.NewHTTPError(http.StatusBadRequest, "Send either a session cookie or an Authorization header, not both.")
}

// retryAfter renders d as whole seconds, rounded up, for Retry-After.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}

// WantsJSON reports whether the client wants a JSON answer rather than a
// page: the JSON API, and the admin UI's own fetch calls.
func WantsJSON(c echo.Context) bool {
	req := c.Request()
	if strings.HasPrefix(req.URL.Path, apiPrefix) {
		return true
	}
	accept := req.Header.Get(echo.HeaderAccept)
	return strings.Contains(accept, echo.MIMEApplicationJSON) && !strings.Contains(accept, echo.MIMETextHTML)
}

// UserFrom returns the admin the middleware admitted.
func UserFrom(c echo.Context) (User, bool) {
	u, ok := c.Get(userKey).(User)
	return u, ok
}

// Actor names the admin behind a request for the audit log.
func Actor(c echo.Context) string {
	if u, ok := UserFrom(c); ok {
		return u.Username
	}
	return ""
}

// SetSessionCookie hands a new login session to the browser. The cookie is
// HttpOnly (scripts cannot read it), SameSite=Strict (other sites cannot
// make the browser send it) and Secure whenever the page came over TLS.
// The browser's pre-login CSRF cookie goes: from now on its CSRF token is
// derived from the new session.
func SetSessionCookie(c echo.Context, s Session) {
	c.SetCookie(&http.Cookie{Name: CSRFCookie, Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: IsTLS(c)})
	c.SetCookie(&http.Cookie{
		Name:     SessionCookie,
		Value:    s.Token,
		Path:     "/",
		Expires:  s.Expires.Add(SessionMax - SessionIdle),
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
		Secure:   IsTLS(c),
	})
}

// ClearSessionCookie removes the session cookie from the browser.
func ClearSessionCookie(c echo.Context) {
	c.SetCookie(&http.Cookie{
		Name:     SessionCookie,
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
		Secure:   IsTLS(c),
	})
}

// IsTLS reports whether the browser reached us over HTTPS, directly or
// through a proxy that says so.
func IsTLS(c echo.Context) bool { return c.Scheme() == "https" }

// SafeNext returns next if it is a path on this site, else "/": the login
// form's redirect must not be a way to send an admin elsewhere.
func SafeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}
