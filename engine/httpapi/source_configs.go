package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"switchboard/engine"
	"switchboard/engine/auth"
	"switchboard/engine/service"
)

// Sources configured through the API or the admin UI (stored in the
// database), as /configurations are: secrets write-only, field errors 422,
// a stale version 409. Sources of the sources file are not here (GET
// /sources lists both).

func (a *API) registerSourceConfigs(g *echo.Group) {
	g.GET("/source-configs/:id", func(c echo.Context) error {
		return a.withID(c, func(id int64) error { return a.answer(c, http.StatusOK)(a.svc.SourceConfig(c.Request().Context(), id)) })
	})
	g.POST("/source-configs", func(c echo.Context) error {
		in, ok, err := bindSource(c)
		if !ok {
			return err
		}
		return a.answer(c, http.StatusCreated)(a.svc.CreateSource(c.Request().Context(), auth.Actor(c), in))
	})
	g.PUT("/source-configs/:id", func(c echo.Context) error {
		return a.withID(c, func(id int64) error {
			in, ok, err := bindSource(c)
			if !ok {
				return err
			}
			return a.answer(c, http.StatusOK)(a.svc.UpdateSource(c.Request().Context(), auth.Actor(c), id, in))
		})
	})
	g.POST("/source-configs/:id/copy", func(c echo.Context) error {
		return a.withID(c, func(id int64) error {
			return a.answer(c, http.StatusCreated)(a.svc.CopySource(c.Request().Context(), auth.Actor(c), id))
		})
	})
	g.POST("/source-configs/:id/test", func(c echo.Context) error {
		return a.withID(c, func(id int64) error {
			in, ok, err := bindSource(c)
			if !ok {
				return err
			}
			res, err := a.svc.TestSourceInput(c.Request().Context(), auth.Actor(c), id, in)
			return a.answerTest(c, res, err)
		})
	})
	g.POST("/source-configs/test", func(c echo.Context) error {
		in, ok, err := bindSource(c)
		if !ok {
			return err
		}
		res, err := a.svc.TestSourceInput(c.Request().Context(), auth.Actor(c), 0, in)
		return a.answerTest(c, res, err)
	})
	for path, disabled := range map[string]bool{"/source-configs/:id/disable": true, "/source-configs/:id/enable": false} {
		g.POST(path, func(c echo.Context) error {
			return a.withID(c, func(id int64) error {
				if err := a.svc.SetSourceDisabled(c.Request().Context(), auth.Actor(c), id, disabled); err != nil {
					return a.problem(c, err)
				}
				return c.NoContent(http.StatusNoContent)
			})
		})
	}
	g.DELETE("/source-configs/:id", func(c echo.Context) error {
		return a.withID(c, func(id int64) error {
			if err := a.svc.DeleteSource(c.Request().Context(), auth.Actor(c), id); err != nil {
				return a.problem(c, err)
			}
			return c.NoContent(http.StatusNoContent)
		})
	})
}

// bindSource reads a source body {"kind", "settings", "clear_secrets",
// "version"}; ok is false when the answer (a 400) was written.
func bindSource(c echo.Context) (service.SourceInput, bool, error) {
	var in service.SourceInput
	b, err := readBody(c)
	if err == nil {
		err = engine.DecodeStrict(b, &in)
	}
	if err != nil {
		return in, false, badRequest(c, "the body must be a source: "+err.Error())
	}
	return in, true, nil
}

// answer writes a stored source, or the problem.
func (a *API) answer(c echo.Context, status int) func(service.SourceConfig, error) error {
	return func(sc service.SourceConfig, err error) error {
		if err != nil {
			return a.problem(c, err)
		}
		return c.JSON(status, sc)
	}
}

func (a *API) answerTest(c echo.Context, res engine.SourceTest, err error) error {
	if err != nil {
		return a.problem(c, err)
	}
	return c.JSON(http.StatusOK, res)
}
