package httpapi

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"switchboard/engine"
	"switchboard/engine/auth"
	"switchboard/engine/render"
)

// templateRequest is the body of a template save or revert. Set "" is the
// overrides of every configuration. A save naming a configuration is
// checked as that configuration's plugin sees it (its own partials count),
// as the admin UI's editor does.
type templateRequest struct {
	Set           string `json:"set"`
	Name          string `json:"name"`
	Text          string `json:"text"`
	Configuration int64  `json:"configuration"`
}

func (a *API) templateRequest(c echo.Context, withText bool) (templateRequest, error) {
	var req templateRequest
	b, err := readBody(c)
	if err == nil {
		err = engine.DecodeStrict(b, &req)
	}
	if err == nil && req.Name == "" {
		err = errors.New("no name")
	}
	if err == nil && !withText && (req.Text != "" || req.Configuration != 0) {
		err = errors.New("a revert takes no text and no configuration")
	}
	if err == nil {
		err = render.CheckName(req.Set, req.Name)
	}
	return req, err
}

// saveTemplate checks and saves a template as the admin UI's editor does;
// a refused text answers 422 with its line and column.
func (a *API) saveTemplate(c echo.Context) error {
	req, err := a.templateRequest(c, true)
	if err != nil {
		return badRequest(c, `the body must be {"set": "<set, or empty for the overrides>", "name": "<template>", "text": "<template text>", "configuration": <optional id>}: `+err.Error())
	}
	ctx := c.Request().Context()
	scope, err := a.svc.TemplateScopeOf(ctx, req.Configuration)
	if err != nil {
		return a.problem(c, err)
	}
	v, err := a.svc.SaveTemplateFor(ctx, auth.Actor(c), scope.Plugin, req.Set, req.Name, req.Text)
	var pe *render.ParseError
	if errors.As(err, &pe) {
		return c.JSON(http.StatusUnprocessableEntity, map[string]any{"error": pe.Error(), "line": pe.Line, "column": pe.Column})
	}
	if err != nil {
		return a.problem(c, err)
	}
	return c.JSON(http.StatusOK, map[string]any{"set": v.SetName, "name": v.Name, "version": v.ID, "saved": v.Created()})
}

// revertTemplate makes the next layer's version of a template serve again.
func (a *API) revertTemplate(c echo.Context) error {
	req, err := a.templateRequest(c, false)
	if err != nil {
		return badRequest(c, `the body must be {"set": "<set, or empty for the overrides>", "name": "<template>"}: `+err.Error())
	}
	if err := a.svc.RevertTemplate(c.Request().Context(), auth.Actor(c), req.Set, req.Name); err != nil {
		return a.problem(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}
