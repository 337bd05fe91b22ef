package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"switchboard/engine/auth"
	"switchboard/engine/beyondtrust"
	"switchboard/engine/query"
	"switchboard/engine/service"
)

// query answers GET /query/:kind from the appliance of ?config=<id>
// (docs/queries.md). Bad input is a 400 that says what to change; a kind
// the reference does not describe is a 501; an appliance that fails is a
// 502, or a 503 with Retry-After (the appliance's own after a 429) when
// it is busy, did not answer in time or could not be reached, naming the
// appliance.
func (a *API) query(c echo.Context) error {
	q := c.QueryParams()
	id, err := strconv.ParseInt(q.Get("config"), 10, 64)
	if err != nil || id <= 0 {
		return badRequest(c, "config is required: the id of the configuration whose appliance answers the query")
	}
	page, err := a.svc.Query(c.Request().Context(), auth.Actor(c), id, c.Param("kind"), q)
	var in *query.InputError
	var unsupported *query.UnsupportedError
	var appliance *query.ApplianceError
	switch {
	case err == nil:
		return c.JSON(http.StatusOK, page)
	case errors.As(err, &in):
		return badRequest(c, in.Msg)
	case errors.As(err, &unsupported):
		return c.JSON(http.StatusNotImplemented, map[string]string{"error": unsupported.Error()})
	case errors.Is(err, service.ErrQueriesBusy):
		c.Response().Header().Set("Retry-After", "5")
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
	case errors.Is(err, beyondtrust.ErrNotFound):
		return c.JSON(http.StatusNotFound, map[string]string{"error": "the appliance has no session with that lsid"})
	case errors.As(err, &appliance):
		return a.applianceProblem(c, id, appliance)
	}
	return a.problem(c, err)
}

// applianceProblem answers an appliance failure, naming the appliance and
// what went wrong in words that hold no secret (beyondtrust.Explain).
func (a *API) applianceProblem(c echo.Context, id int64, ae *query.ApplianceError) error {
	a.log.Warn("query: the appliance failed", "config", id, "kind", c.Param("kind"), "err", ae)
	e := ae.Err
	body := map[string]string{"error": "BeyondTrust appliance " + ae.Host + ": " + beyondtrust.Explain(e), "system": "beyondtrust", "appliance": ae.Host}
	switch e.Kind {
	case beyondtrust.KindRateLimited:
		d, _ := e.RetryAfterDelay()
		secs := int((d + time.Second - 1) / time.Second)
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		body["error"] = fmt.Sprintf("BeyondTrust appliance %s is rate limiting this API account; try again in %ds", ae.Host, secs)
		return c.JSON(http.StatusServiceUnavailable, body)
	case beyondtrust.KindTimeout, beyondtrust.KindNetwork:
		// An appliance that did not answer, or could not be reached, is
		// asked again no sooner than one call's timeout: retrying at once
		// would only stack connections on it.
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(beyondtrust.DefaultTimeout/time.Second)))
		return c.JSON(http.StatusServiceUnavailable, body)
	}
	return c.JSON(http.StatusBadGateway, body)
}
