// Package httpapi is the JSON API on the admin listener: the same engine
// service the admin UI uses, for scripts and the command line. It is
// documented in docs/api.md.
package httpapi

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"switchboard/engine"
	"switchboard/engine/auth"
	"switchboard/engine/beyondtrust"
	"switchboard/engine/render"
	"switchboard/engine/service"
)

// Prefix is where the API is mounted.
const Prefix = "/api/v1"

// MaxListLimit caps the limit of a list request: a larger one lists this
// many (page on with before=<last id>).
const MaxListLimit = 500

// API serves the JSON API.
type API struct {
	svc *service.Service
	log *slog.Logger
}

// New builds the API.
func New(svc *service.Service, log *slog.Logger) *API {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &API{svc: svc, log: log}
}

// Register mounts the API behind the given middleware (authentication and
// CSRF protection).
func (a *API) Register(e *echo.Echo, mw ...echo.MiddlewareFunc) {
	g := e.Group(Prefix, append([]echo.MiddlewareFunc{noStore}, mw...)...)
	g.GET("/plugins", a.plugins)
	g.GET("/configurations", a.configs)
	g.POST("/configurations", a.createConfig)
	g.POST("/configurations/test", a.testConfig)
	g.GET("/configurations/export", a.exportConfigs)
	g.POST("/configurations/import", a.importConfigs)
	g.GET("/configurations/:id", a.config)
	g.PUT("/configurations/:id", a.updateConfig)
	g.DELETE("/configurations/:id", a.deleteConfig)
	g.POST("/configurations/:id/copy", a.copyConfig)
	g.POST("/configurations/:id/disable", a.setDisabled(true))
	g.POST("/configurations/:id/enable", a.setDisabled(false))
	g.POST("/configurations/:id/test", a.testConfig)
	g.POST("/configurations/:id/retry-failed", a.retryFailed)
	g.GET("/configurations/:id/status", a.configStatus)
	g.GET("/configurations/:id/templates", a.templates)
	g.POST("/configurations/:id/templates/preview", a.preview)
	g.POST("/templates/save", a.saveTemplate)
	g.POST("/templates/revert", a.revertTemplate)
	g.POST("/configurations/:id/preview-delivery", a.previewDelivery)
	g.GET("/events", a.events)
	g.GET("/events/:id", a.event)
	g.POST("/events/:id/replay", a.replay)
	g.GET("/deliveries", a.deliveries)
	g.GET("/deliveries/:id", a.delivery)
	g.POST("/deliveries/:id/retry", a.retry)
	g.GET("/polling", a.polling)
	g.GET("/sources", a.sources)
	g.POST("/sources/:name/test", a.testSource)
	a.registerSourceConfigs(g)
	g.GET("/audit", a.audit)
	g.GET("/query/:kind", a.query)
}

// noStore keeps API answers (configurations, events, who did what) out of
// browser and proxy caches.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}

// problem writes err as JSON with the status it deserves. Unexpected
// errors are logged in full and answered without their text, which may
// name files, hosts or upstream answers.
func (a *API) problem(c echo.Context, err error) error {
	var fe engine.FieldErrors
	var appliance *beyondtrust.Error
	var refused *service.ErrPreviewRefused
	switch {
	case errors.As(err, &fe):
		return c.JSON(http.StatusUnprocessableEntity, map[string]any{"error": "the settings are not valid", "fields": fe})
	case errors.Is(err, service.ErrNotFound):
		return c.JSON(http.StatusNotFound, map[string]string{"error": err.Error()})
	case errors.Is(err, service.ErrConflict), errors.Is(err, service.ErrState):
		return c.JSON(http.StatusConflict, map[string]string{"error": err.Error()})
	case errors.Is(err, service.ErrUnavailable):
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"error": "the database is unavailable; try again"})
	case errors.Is(err, render.ErrNoTemplate):
		return c.JSON(http.StatusNotFound, map[string]string{"error": "no template of that name; GET the configuration's templates for the list"})
	case errors.As(err, &refused):
		return c.JSON(http.StatusBadRequest, map[string]string{"error": refused.Reason})
	case errors.Is(err, beyondtrust.ErrNotFound):
		return c.JSON(http.StatusNotFound, map[string]string{"error": "the appliance has no session with that lsid"})
	case errors.As(err, &appliance):
		a.log.Warn("api request: the appliance failed", "method", c.Request().Method, "path", c.Path(), "err", err)
		return c.JSON(http.StatusBadGateway, map[string]string{"error": "the appliance did not answer as expected; the details are in Switchboard's log"})
	}
	a.log.Error("api request failed", "method", c.Request().Method, "path", c.Path(), "err", err)
	return c.JSON(http.StatusInternalServerError, map[string]string{"error": "internal error; the details are in Switchboard's log"})
}

func badRequest(c echo.Context, msg string) error {
	return c.JSON(http.StatusBadRequest, map[string]string{"error": msg})
}

func pathID(c echo.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	return id, err == nil && id > 0
}

func (a *API) withID(c echo.Context, fn func(id int64) error) error {
	id, ok := pathID(c)
	if !ok {
		return badRequest(c, "the id in the path must be a positive number")
	}
	return fn(id)
}

func (a *API) plugins(c echo.Context) error { return c.JSON(http.StatusOK, a.svc.Plugins()) }

func (a *API) configs(c echo.Context) error {
	cs, err := a.svc.Configs(c.Request().Context(), c.QueryParam("plugin"))
	if err != nil {
		return a.problem(c, err)
	}
	return c.JSON(http.StatusOK, cs)
}

func (a *API) config(c echo.Context) error {
	return a.withID(c, func(id int64) error {
		cfg, err := a.svc.Config(c.Request().Context(), id)
		if err != nil {
			return a.problem(c, err)
		}
		return c.JSON(http.StatusOK, cfg)
	})
}

func bindInput(c echo.Context) (service.ConfigInput, error) {
	var in service.ConfigInput
	b, err := readBody(c)
	if err != nil {
		return in, err
	}
	return in, engine.DecodeStrict(b, &in)
}

// readBody reads a JSON body of at most 1 MiB.
func readBody(c echo.Context) ([]byte, error) {
	return io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, 1<<20))
}

func (a *API) createConfig(c echo.Context) error {
	in, err := bindInput(c)
	if err != nil {
		return badRequest(c, "the body must be a configuration: "+err.Error())
	}
	cfg, err := a.svc.CreateConfig(c.Request().Context(), auth.Actor(c), in)
	if err != nil {
		return a.problem(c, err)
	}
	return c.JSON(http.StatusCreated, cfg)
}

func (a *API) updateConfig(c echo.Context) error {
	return a.withID(c, func(id int64) error {
		in, err := bindInput(c)
		if err != nil {
			return badRequest(c, "the body must be a configuration: "+err.Error())
		}
		cfg, err := a.svc.UpdateConfig(c.Request().Context(), auth.Actor(c), id, in)
		if err != nil {
			return a.problem(c, err)
		}
		return c.JSON(http.StatusOK, cfg)
	})
}

func (a *API) deleteConfig(c echo.Context) error {
	return a.withID(c, func(id int64) error {
		if err := a.svc.DeleteConfig(c.Request().Context(), auth.Actor(c), id); err != nil {
			return a.problem(c, err)
		}
		return c.NoContent(http.StatusNoContent)
	})
}

func (a *API) copyConfig(c echo.Context) error {
	return a.withID(c, func(id int64) error {
		cfg, err := a.svc.CopyConfig(c.Request().Context(), auth.Actor(c), id)
		if err != nil {
			return a.problem(c, err)
		}
		return c.JSON(http.StatusCreated, cfg)
	})
}

func (a *API) setDisabled(disabled bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		return a.withID(c, func(id int64) error {
			if err := a.svc.SetDisabled(c.Request().Context(), auth.Actor(c), id, disabled); err != nil {
				return a.problem(c, err)
			}
			return c.NoContent(http.StatusNoContent)
		})
	}
}

// testConfig runs the Test checks on the posted (unsaved) values; with an
// id, stored secrets fill secret fields left empty.
func (a *API) testConfig(c echo.Context) error {
	var id int64
	if c.Param("id") != "" {
		var ok bool
		if id, ok = pathID(c); !ok {
			return badRequest(c, "the id in the path must be a positive number")
		}
	}
	in, err := bindInput(c)
	if err != nil {
		return badRequest(c, "the body must be a configuration: "+err.Error())
	}
	checks, err := a.svc.TestConfig(c.Request().Context(), auth.Actor(c), id, in)
	if err != nil {
		return a.problem(c, err)
	}
	return c.JSON(http.StatusOK, map[string]any{"checks": checks})
}

func (a *API) configStatus(c echo.Context) error {
	return a.withID(c, func(id int64) error {
		st, err := a.svc.ConfigStatus(c.Request().Context(), id)
		if err != nil {
			return a.problem(c, err)
		}
		return c.JSON(http.StatusOK, st)
	})
}

func (a *API) templates(c echo.Context) error {
	return a.withID(c, func(id int64) error {
		ts, err := a.svc.Templates(c.Request().Context(), id)
		if err != nil {
			return a.problem(c, err)
		}
		return c.JSON(http.StatusOK, ts)
	})
}

func (a *API) preview(c echo.Context) error {
	return a.withID(c, func(id int64) error {
		var req struct {
			Name string `json:"name"`
			LSID string `json:"lsid"`
		}
		b, err := readBody(c)
		if err == nil {
			err = engine.DecodeStrict(b, &req)
		}
		if err != nil || req.Name == "" {
			return badRequest(c, `the body must be {"name": "<template>", "lsid": "<optional session>"}`)
		}
		p, err := a.svc.PreviewTemplate(c.Request().Context(), id, req.Name, req.LSID)
		if err != nil {
			return a.problem(c, err)
		}
		return c.JSON(http.StatusOK, p)
	})
}

// previewDelivery runs a delivery as a dry run: what it would write, and
// why, with nothing written.
func (a *API) previewDelivery(c echo.Context) error {
	return a.withID(c, func(id int64) error {
		var req service.PreviewRequest
		b, err := readBody(c)
		if err == nil {
			err = engine.DecodeStrict(b, &req)
		}
		if err != nil {
			return badRequest(c, `the body must be {"event": "<event type>", "lsid": "<optional session>", "external_key": "<optional, sample only>", "custom": {"<code name>": "<value>"}}`)
		}
		p, err := a.svc.PreviewDelivery(c.Request().Context(), auth.Actor(c), id, req)
		if err != nil {
			return a.problem(c, err)
		}
		return c.JSON(http.StatusOK, p)
	})
}

// queryTime reads an RFC 3339 time or Unix seconds.
func queryTime(c echo.Context, name string) (time.Time, error) {
	v := c.QueryParam(name)
	if v == "" {
		return time.Time{}, nil
	}
	if sec, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(sec, 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, errors.New(name + " must be an RFC 3339 time or Unix seconds")
	}
	return t, nil
}

func queryInt(c echo.Context, name string) (int64, error) {
	v := c.QueryParam(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, errors.New(name + " must be a non-negative number")
	}
	return n, nil
}

// queryLimit reads limit, capped at MaxListLimit.
func queryLimit(c echo.Context) (int, error) {
	n, err := queryInt(c, "limit")
	return int(min(n, MaxListLimit)), err
}

// events lists events without their posted fields (the one event's
// endpoint has them), so that a list's size does not depend on what was
// posted.
func (a *API) events(c echo.Context) error {
	var f service.EventFilter
	var err error
	if f.ConfigID, err = queryInt(c, "config"); err != nil {
		return badRequest(c, err.Error())
	}
	if f.BeforeID, err = queryInt(c, "before"); err != nil {
		return badRequest(c, err.Error())
	}
	if f.Limit, err = queryLimit(c); err != nil {
		return badRequest(c, err.Error())
	}
	if f.Since, err = queryTime(c, "since"); err != nil {
		return badRequest(c, err.Error())
	}
	if f.Until, err = queryTime(c, "until"); err != nil {
		return badRequest(c, err.Error())
	}
	f.State, f.Type, f.Routing, f.LSID = c.QueryParam("state"), c.QueryParam("type"), c.QueryParam("routing"), c.QueryParam("lsid")
	evs, err := a.svc.Events(c.Request().Context(), f)
	if err != nil {
		return a.problem(c, err)
	}
	return c.JSON(http.StatusOK, evs)
}

func (a *API) event(c echo.Context) error {
	return a.withID(c, func(id int64) error {
		ev, ds, err := a.svc.Event(c.Request().Context(), id)
		if err != nil {
			return a.problem(c, err)
		}
		return c.JSON(http.StatusOK, map[string]any{"event": ev, "deliveries": ds})
	})
}

func (a *API) replay(c echo.Context) error {
	return a.withID(c, func(id int64) error {
		outcomes, err := a.svc.ReplayEvent(c.Request().Context(), auth.Actor(c), id)
		if err != nil {
			return a.problem(c, err)
		}
		n := 0
		for _, o := range outcomes {
			if o.Action == service.ReplayRerun || o.Action == service.ReplayAdded {
				n++
			}
		}
		return c.JSON(http.StatusAccepted, map[string]any{"deliveries": n, "configurations": outcomes})
	})
}

func (a *API) deliveries(c echo.Context) error {
	var f service.DeliveryFilter
	var err error
	if f.ConfigID, err = queryInt(c, "config"); err != nil {
		return badRequest(c, err.Error())
	}
	if f.EventID, err = queryInt(c, "event"); err != nil {
		return badRequest(c, err.Error())
	}
	if f.BeforeID, err = queryInt(c, "before"); err != nil {
		return badRequest(c, err.Error())
	}
	if f.Limit, err = queryLimit(c); err != nil {
		return badRequest(c, err.Error())
	}
	f.State = c.QueryParam("state")
	ds, err := a.svc.Deliveries(c.Request().Context(), f)
	if err != nil {
		return a.problem(c, err)
	}
	return c.JSON(http.StatusOK, ds)
}

func (a *API) delivery(c echo.Context) error {
	return a.withID(c, func(id int64) error {
		d, err := a.svc.Delivery(c.Request().Context(), id)
		if err != nil {
			return a.problem(c, err)
		}
		return c.JSON(http.StatusOK, d)
	})
}

func (a *API) retry(c echo.Context) error {
	return a.withID(c, func(id int64) error {
		if err := a.svc.RetryDelivery(c.Request().Context(), auth.Actor(c), id); err != nil {
			return a.problem(c, err)
		}
		return c.NoContent(http.StatusAccepted)
	})
}

func (a *API) retryFailed(c echo.Context) error {
	return a.withID(c, func(id int64) error {
		n, err := a.svc.RetryFailed(c.Request().Context(), auth.Actor(c), id)
		if err != nil {
			return a.problem(c, err)
		}
		return c.JSON(http.StatusAccepted, map[string]int{"retried": n})
	})
}

func (a *API) polling(c echo.Context) error {
	ps, err := a.svc.PollStates(c.Request().Context())
	if err != nil {
		return a.problem(c, err)
	}
	return c.JSON(http.StatusOK, ps)
}

func (a *API) audit(c echo.Context) error {
	n, err := queryLimit(c)
	if err != nil {
		return badRequest(c, err.Error())
	}
	entries, err := a.svc.Audit(c.Request().Context(), n)
	if err != nil {
		return a.problem(c, err)
	}
	return c.JSON(http.StatusOK, entries)
}
