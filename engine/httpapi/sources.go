package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"switchboard/engine/auth"
)

// sources lists the configured sources, secrets left out, with the
// polling state of each stream.
func (a *API) sources(c echo.Context) error {
	list, err := a.svc.Sources(c.Request().Context())
	if err != nil {
		return a.problem(c, err)
	}
	return c.JSON(http.StatusOK, list)
}

// testSource tests a source: a token, then one read of each stream. The
// answer is 200 whether the checks pass or not; "ok" says which.
func (a *API) testSource(c echo.Context) error {
	res, err := a.svc.TestSource(c.Request().Context(), auth.Actor(c), c.Param("name"))
	if err != nil {
		return a.problem(c, err)
	}
	return c.JSON(http.StatusOK, res)
}
