package httpapi

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"switchboard/engine"
	"switchboard/engine/auth"
	"switchboard/engine/service"
)

// exportConfigs answers every configuration as a file to keep in git,
// secrets left out (the same document as switchboard config export).
func (a *API) exportConfigs(c echo.Context) error {
	f, err := a.svc.Export(c.Request().Context())
	if err != nil {
		return a.problem(c, err)
	}
	return c.JSON(http.StatusOK, f)
}

// importConfigs creates or updates configurations from an export document;
// ?dry_run=true only validates. Secrets travel in the document itself:
// env: references are refused here, so no caller can reach the engine's
// environment.
func (a *API) importConfigs(c echo.Context) error {
	b, err := readBody(c)
	if err != nil {
		return badRequest(c, "the body must be a configuration export of at most 1 MiB")
	}
	var f service.ExportFile
	if err := engine.DecodeStrict(b, &f); err != nil {
		return badRequest(c, "the body must be a configuration export: "+err.Error())
	}
	dryRun, _ := strconv.ParseBool(c.QueryParam("dry_run"))
	res, err := a.svc.Import(c.Request().Context(), auth.Actor(c), f, service.ImportOptions{DryRun: dryRun})
	switch {
	case errors.Is(err, service.ErrImportInvalid):
		return c.JSON(http.StatusUnprocessableEntity, map[string]any{"error": err.Error(), "results": res})
	case err != nil && res == nil:
		return badRequest(c, err.Error())
	case err != nil:
		return a.problem(c, err)
	}
	return c.JSON(http.StatusOK, map[string]any{"dry_run": dryRun, "results": res})
}
