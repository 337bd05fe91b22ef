// Package adminui is Switchboard's admin web UI: server-rendered pages to
// configure, copy, disable and test plugin configurations, and to follow
// events and deliveries, retry and replay them, preview report templates and
// read the audit log. It works through the engine API (package service), as
// the JSON API and the CLI do, and it is served on the admin listener only.
//
// Everything it needs ships inside the binary (templates, CSS, a little
// vanilla JavaScript), so it works offline. Pages work without JavaScript;
// scripts add the Test button's live results, keep what was typed when a
// save is refused, and check JSON fields as they are typed.
package adminui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"switchboard/engine"
	"switchboard/engine/auth"
	"switchboard/engine/beyondtrust"
	"switchboard/engine/render"
	"switchboard/engine/service"
)

//go:embed templates static
var assets embed.FS

// Options are the UI's dependencies.
type Options struct {
	Service *service.Service
	Auth    *auth.Manager
	Logger  *slog.Logger
	// RecipientURL builds the outbound event URL a configuration's page
	// shows (none shown when nil).
	RecipientURL func(applianceID string, token engine.Secret) string
}

// UI serves the admin pages.
type UI struct {
	svc  *service.Service
	auth *auth.Manager
	log  *slog.Logger
	// recipientURL is Options.RecipientURL.
	recipientURL func(applianceID string, token engine.Secret) string
	pages        pageCache
	// assetVersion changes whenever the embedded CSS or JS does, so that
	// browsers can cache them for long and still never run a stale script.
	assetVersion string
	static       fs.FS
}

// New parses the embedded templates.
func New(opts Options) (*UI, error) {
	if opts.Service == nil || opts.Auth == nil {
		return nil, errors.New("adminui: Service and Auth are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	static, err := fs.Sub(assets, "static")
	if err != nil {
		return nil, fmt.Errorf("adminui: %w", err)
	}
	version, err := hashFS(static)
	if err != nil {
		return nil, fmt.Errorf("adminui: %w", err)
	}
	ui := &UI{svc: opts.Service, auth: opts.Auth, log: opts.Logger, recipientURL: opts.RecipientURL, assetVersion: version, static: static}
	// Every page is parsed once here, so that a broken template stops the
	// start, and then dropped: the parsed set is 4 MiB of live heap that
	// an engine whose admin UI nobody opens would carry (and at GOGC=100
	// twice that in heap goal). A page is parsed again when first shown.
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	ui.pages = pageCache{known: make(map[string]bool, len(pages)), parsed: map[string]*template.Template{}}
	for name := range pages {
		ui.pages.known[name] = true
	}
	return ui, nil
}

// pageCache holds the page templates parsed so far.
type pageCache struct {
	mu     sync.Mutex
	known  map[string]bool
	parsed map[string]*template.Template
}

// get returns page name, parsing it on first use.
func (c *pageCache) get(name string) (*template.Template, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.parsed[name]; ok {
		return t, nil
	}
	if !c.known[name] {
		return nil, fmt.Errorf("adminui: no page template %q", name)
	}
	t, err := parsePage("templates/" + name + ".html")
	if err != nil {
		return nil, err
	}
	c.parsed[name] = t
	return t, nil
}

func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("adminui: templates: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		base := path.Base(name)
		if base == "layout.html" {
			continue
		}
		t, err := parsePage(name)
		if err != nil {
			return nil, err
		}
		pages[strings.TrimSuffix(base, ".html")] = t
	}
	return pages, nil
}

// parsePage parses the page template at name with the layout and parts.
func parsePage(name string) (*template.Template, error) {
	base := path.Base(name)
	t, err := template.New(base).Funcs(funcs).ParseFS(assets, name, "templates/layout.html", "templates/parts/*.html")
	if err != nil {
		return nil, fmt.Errorf("adminui: template %s: %w", base, err)
	}
	return t, nil
}

func hashFS(fsys fs.FS) (string, error) {
	h := sha256.New()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		h.Write([]byte(p))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash static assets: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// Register adds the UI's routes to the admin listener's echo instance. Every
// route gets CSRF protection; all but the login, setup and static routes
// need a signed-in admin.
func (ui *UI) Register(e *echo.Echo) {
	e.GET("/static/*", ui.serveStatic)

	public := e.Group("", ui.headers, ui.errorPages, ui.auth.CSRF())
	public.GET(auth.LoginPath, ui.loginPage)
	public.POST(auth.LoginPath, ui.login)
	public.GET("/setup", ui.setupPage)
	public.POST("/setup", ui.setup)

	g := e.Group("", ui.headers, ui.errorPages, ui.auth.CSRF(), ui.auth.Middleware())
	g.POST("/logout", ui.logout)
	g.GET("/account", ui.accountPage)
	g.POST("/account", ui.changePassword)

	g.GET("/", ui.home)
	g.GET("/plugins/:plugin/new", ui.newConfig)
	g.POST("/plugins/:plugin/new", ui.createConfig)
	g.POST("/plugins/:plugin/test", ui.testConfig)
	g.GET("/configs/:id", ui.editConfig)
	g.POST("/configs/:id", ui.updateConfig)
	g.POST("/configs/:id/test", ui.testSavedConfig)
	g.GET("/configs/:id/preview", ui.previewForm)
	g.POST("/configs/:id/preview", ui.previewDelivery)
	g.POST("/configs/:id/copy", ui.copyConfig)
	g.POST("/configs/:id/disable", ui.disableConfig)
	g.POST("/configs/:id/enable", ui.enableConfig)
	g.GET("/configs/:id/delete", ui.confirmDelete)
	g.POST("/configs/:id/delete", ui.deleteConfig)

	g.GET("/events", ui.events)
	g.GET("/events/:id", ui.event)
	g.POST("/events/:id/replay", ui.replayEvent)
	g.POST("/deliveries/:id/retry", ui.retryDelivery)
	g.GET("/configs/:id/retry-failed", ui.confirmRetryFailed)
	g.POST("/configs/:id/retry-failed", ui.retryFailed)
	g.GET("/polling", ui.polling)
	g.POST("/polling/sources/test", ui.testSource)
	ui.registerSources(g)

	g.GET("/templates", ui.templates)
	ui.registerTemplateEditor(e)
	g.GET("/audit", ui.audit)
	g.GET("/api-tokens", ui.apiTokens)
	g.POST("/api-tokens", ui.createAPIToken)
	g.GET("/api-tokens/:id/revoke", ui.confirmRevokeAPIToken)
	g.POST("/api-tokens/:id/revoke", ui.revokeAPIToken)
	g.GET("/admins", ui.admins)
	g.POST("/admins", ui.addAdmin)
	g.POST("/admins/:id/disable", ui.disableAdmin)
	g.POST("/admins/:id/enable", ui.enableAdmin)
	g.GET("/admins/:id/remove", ui.confirmRemoveAdmin)
	g.POST("/admins/:id/remove", ui.removeAdmin)
}

// headers sets the security headers of every page: scripts and styles only
// from this origin, never framed, no referrer to other origins (a setup
// link carries its token in the URL; same-origin keeps the Origin header
// of the UI's own posts, which the CSRF check compares, from reading
// "null"), and never cached, as pages show live state.
func (ui *UI) headers(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		return next(c)
	}
}

func (ui *UI) serveStatic(c echo.Context) error {
	name := c.Param("*")
	b, err := fs.ReadFile(ui.static, name)
	if err != nil {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	h.Set("X-Content-Type-Options", "nosniff")
	if c.QueryParam("v") == ui.assetVersion {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	}
	ctype := mimeTypes[path.Ext(name)]
	if ctype == "" {
		ctype = http.DetectContentType(b)
	}
	return c.Blob(http.StatusOK, ctype, b)
}

var mimeTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
}

// page is what every template gets.
type page struct {
	Title        string
	Nav          string // the active navigation entry
	User         string
	CSRF         string
	CSRFField    string
	Flash        string
	AssetVersion string
	Data         any
}

// render writes a page with the layout around it.
func (ui *UI) render(c echo.Context, status int, name, title, nav string, data any) error {
	t, err := ui.pages.get(name)
	if err != nil {
		return err
	}
	p := page{
		Title: title, Nav: nav, User: auth.Actor(c), CSRF: auth.CSRFToken(c), CSRFField: auth.CSRFField,
		Flash: flashMessage(c), AssetVersion: ui.assetVersion, Data: data,
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return fmt.Errorf("adminui: render %s: %w", name, err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// fragment renders one named template without the layout, for the Test
// button's results that a script inserts into the page.
func (ui *UI) fragment(page, name string, data any) (string, error) {
	t, err := ui.pages.get(page)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		return "", fmt.Errorf("adminui: render %s/%s: %w", page, name, err)
	}
	return buf.String(), nil
}

// flashes are the messages a redirect after a change can ask for. Only
// these fixed texts can appear, so a crafted link cannot put words on the
// page.
var flashes = map[string]string{
	"created":        "The configuration was created. It is enabled unless you disabled it.",
	"saved":          "Your changes were saved.",
	"copied":         "This is a disabled copy. Point it at its appliance or tenant and save, then enable it.",
	"disabled":       "The configuration was disabled: it receives no deliveries and is not polled.",
	"enabled":        "The configuration was enabled.",
	"deleted":        "The configuration and its delivery history were deleted.",
	"retried":        "The delivery will run again in a moment.",
	"retried-failed": "The failed deliveries will run again in a moment.",
	"replayed":       "The event was handed again to every configuration that takes it.",
	"password":       "Your password was changed. Other browsers signed in as you were signed out.",
	"logout":         "You signed out.",
	"setup":          "The admin account was created and you are signed in.",
	"admin-added":    "The admin account was added.",
	"admin-disabled": "The admin account was disabled and signed out everywhere.",
	"admin-enabled":  "The admin account was enabled.",
	"admin-removed":  "The admin account was removed.",
	"token-revoked":  "The API token was revoked: it gets 401 from now on.",
}

func flashMessage(c echo.Context) string { return flashes[c.QueryParam("done")] }

// errorPages turns errors from the UI's handlers into pages (or JSON for
// the UI's own fetch calls) and decides the status from the error's kind.
func (ui *UI) errorPages(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if err == nil || c.Response().Committed {
			return err
		}
		status, msg := ui.classify(c, err)
		if auth.WantsJSON(c) {
			return c.JSON(status, map[string]string{"error": msg})
		}
		return ui.render(c, status, "error", http.StatusText(status), "", map[string]any{"Status": status, "Message": msg})
	}
}

// classify picks the status and the message an admin sees. Unexpected
// errors are logged in full and shown only as a short message: their text
// is for the operator's log.
func (ui *UI) classify(c echo.Context, err error) (int, string) {
	var he *echo.HTTPError
	var fe engine.FieldErrors
	switch {
	case errors.As(err, &he):
		msg, _ := he.Message.(string)
		if msg == "" {
			msg = http.StatusText(he.Code)
		}
		if he.Code >= 500 {
			ui.log.Error("admin UI request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		}
		return he.Code, msg
	case errors.Is(err, service.ErrNotFound):
		return http.StatusNotFound, "It does not exist (any more): " + err.Error()
	case errors.Is(err, service.ErrConflict):
		return http.StatusConflict, service.ErrConflict.Error()
	case errors.Is(err, service.ErrState):
		return http.StatusConflict, capitalize(err.Error()) + "."
	case errors.As(err, &fe):
		return http.StatusUnprocessableEntity, fe.Error()
	case errors.Is(err, render.ErrNoTemplate):
		return http.StatusNotFound, "There is no template of that name."
	case errors.Is(err, beyondtrust.ErrNotFound):
		return http.StatusNotFound, "The appliance has no session with that lsid."
	case errors.As(err, new(*beyondtrust.Error)):
		ui.log.Warn("admin UI request: the appliance failed", "path", c.Request().URL.Path, "err", err)
		return http.StatusBadGateway, "The appliance did not answer as expected. The details are in Switchboard's log."
	case errors.Is(err, service.ErrUnavailable):
		ui.log.Error("admin UI request failed: database unavailable", "path", c.Request().URL.Path, "err", err)
		return http.StatusServiceUnavailable, "The database is not available right now. Try again in a moment."
	}
	ui.log.Error("admin UI request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	return http.StatusInternalServerError, "Something went wrong. The details are in Switchboard's log."
}
