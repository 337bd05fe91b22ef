package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// CSRF protects every state-changing request (any method but GET, HEAD and
// OPTIONS) in two independent ways:
//
//   - Same origin. A browser that says where the request comes from must
//     say this very origin: Sec-Fetch-Site other than same-origin is
//     refused (same-site too: another port of the same host, or a sibling
//     subdomain, is another origin but the same site, and cookies are not
//     kept apart by port), and so is an Origin header other than the
//     admin's own scheme://host.
//   - A token bound to the login. The _csrf form field or X-CSRF-Token
//     header must carry an HMAC of the session token under a key that
//     lives only in this process, so another page can neither read nor
//     compute it, and every login starts a new one. A browser without a
//     session (the login and setup forms) gets a random cookie instead,
//     and the token is the HMAC of that.
//
// Requests authenticated by HTTP Basic or an API token on the JSON API are
// exempt from the token: a browser never adds those by itself, as
// Switchboard never asks it to. They still get the origin check, because a
// browser does add Basic credentials it cached from a URL that carried
// them; a CLI sends neither header and is not affected. A request carrying both a session cookie and an Authorization
// header is refused (Middleware refuses it too), so a cookie cannot ride
// along with a Basic or Bearer header to skip the check. The middleware does not depend on running
// before or after Middleware. Refusals are logged, at most a few lines a
// minute.
func (m *Manager) CSRF() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := refuseBoth(c); err != nil {
				return err
			}
			req := c.Request()
			if basicOnAPI(req) {
				// Exempt from the token, not from the origin: a browser
				// that once opened http://user:pw@host/api/… adds those
				// credentials to what another site makes it send.
				if unsafeMethod(req.Method) {
					if why := crossOrigin(c); why != "" {
						m.refusals.log(m, "refused a cross-site request with Basic or token credentials", c, why)
						return echo.NewHTTPError(http.StatusForbidden, "This request came from another site and was refused.")
					}
				}
				return next(c)
			}
			token := m.csrfToken(c, true)
			c.Set(csrfKey, token)
			if !unsafeMethod(req.Method) {
				return next(c)
			}
			if why := crossOrigin(c); why != "" {
				m.refusals.log(m, "refused a cross-site request", c, why)
				return echo.NewHTTPError(http.StatusForbidden, "This request came from another site and was refused. Open Switchboard's own page and try again.")
			}
			sent := req.Header.Get(CSRFHeader)
			if sent == "" {
				sent = c.FormValue(CSRFField)
			}
			if token == "" || !hmac.Equal([]byte(sent), []byte(token)) {
				m.refusals.log(m, "refused a request without a valid CSRF token", c, "")
				return echo.NewHTTPError(http.StatusForbidden, "This form has expired or came from another site. Reload the page and try again.")
			}
			return next(c)
		}
	}
}

// unsafeMethod reports whether method may change state.
func unsafeMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// basicOnAPI reports whether HTTP Basic or an API token is what
// authenticates the request: Basic credentials or a bearer token on the
// JSON API and no session cookie. A browser adds neither by itself.
func basicOnAPI(req *http.Request) bool {
	if _, err := req.Cookie(SessionCookie); err == nil {
		return false
	}
	_, _, basic := req.BasicAuth()
	_, bearer := bearerToken(req)
	return (basic || bearer) && strings.HasPrefix(req.URL.Path, apiPrefix)
}

// crossOrigin says why an unsafe request does not come from this origin,
// or "" when nothing says it does not. Clients that send neither header
// (the CLI, old browsers) are judged by the token alone.
func crossOrigin(c echo.Context) string {
	req := c.Request()
	if site := req.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return "Sec-Fetch-Site: " + site
	}
	if origin := req.Header.Get(echo.HeaderOrigin); origin != "" && !strings.EqualFold(origin, c.Scheme()+"://"+req.Host) {
		return "Origin: " + origin
	}
	return ""
}

// CSRFTokenFor returns the CSRF token the server expects from a request
// carrying req's cookies ("" when it carries neither a session nor a CSRF
// cookie). Tests that post forms use it as a page's script would.
func (m *Manager) CSRFTokenFor(req *http.Request) string {
	if ck, err := req.Cookie(SessionCookie); err == nil && ck.Value != "" {
		return m.mac("session", ck.Value)
	}
	if ck, err := req.Cookie(CSRFCookie); err == nil && ck.Value != "" {
		return m.mac("browser", ck.Value)
	}
	return ""
}

// csrfToken is CSRFTokenFor, handing a browser without a session or a CSRF
// cookie a new CSRF cookie when create is set.
func (m *Manager) csrfToken(c echo.Context, create bool) string {
	if t := m.CSRFTokenFor(c.Request()); t != "" || !create {
		return t
	}
	value := newToken()
	c.SetCookie(&http.Cookie{
		Name: CSRFCookie, Value: value, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: IsTLS(c),
	})
	return m.mac("browser", value)
}

func (m *Manager) mac(kind, value string) string {
	h := hmac.New(sha256.New, m.csrfKey)
	h.Write([]byte(kind + ":" + value))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

func newCSRFKey() []byte {
	k := make([]byte, 32)
	rand.Read(k) // never fails: crypto/rand panics rather than return short
	return k
}

// CSRFToken returns the token a page puts into its forms.
func CSRFToken(c echo.Context) string {
	s, _ := c.Get(csrfKey).(string)
	return s
}

// refusalLog limits refusal log lines: a page hammering the admin listener
// must not flood the log. It logs the first refusal of each minute and
// counts the rest into the next line.
type refusalLog struct {
	mu         sync.Mutex
	next       time.Time
	suppressed int
}

const refusalLogEvery = time.Minute

func (r *refusalLog) log(m *Manager, msg string, c echo.Context, why string) {
	r.mu.Lock()
	now := time.Now()
	if now.Before(r.next) {
		r.suppressed++
		r.mu.Unlock()
		return
	}
	suppressed := r.suppressed
	r.next, r.suppressed = now.Add(refusalLogEvery), 0
	r.mu.Unlock()
	req := c.Request()
	m.log.Warn(msg, "method", req.Method, "path", truncate(req.URL.Path, 200), "addr", c.RealIP(),
		"why", truncate(why, 200), "refusals_not_logged", suppressed)
}
