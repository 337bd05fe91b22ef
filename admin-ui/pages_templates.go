package adminui

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"switchboard/engine/render"
	"switchboard/engine/service"
)

type templatesData struct {
	ConfigID     int64
	Set          string // the configuration's template set
	Plugin       string // the configuration's plugin, whose own defaults count
	Configs      []service.Config
	Templates    []render.TemplateInfo
	Name         string
	LSID         string
	Preview      *render.Preview
	PreviewError string
}

// templates lists the templates a configuration uses and previews one
// against the sample session or a real one. A preview that fails (a
// template error, an appliance that does not answer) is shown on the page:
// it is what the admin came to find out.
func (ui *UI) templates(c echo.Context) error {
	ctx := c.Request().Context()
	data := templatesData{Name: c.QueryParam("name"), LSID: strings.TrimSpace(c.QueryParam("lsid"))}
	data.ConfigID, _ = strconv.ParseInt(c.QueryParam("config"), 10, 64)
	var err error
	if data.Configs, err = ui.svc.Configs(ctx, ""); err != nil {
		return err
	}
	scope, err := ui.svc.TemplateScopeOf(ctx, data.ConfigID)
	if err != nil {
		return err
	}
	data.Set, data.Plugin = scope.Set, scope.Plugin
	if data.Templates, err = ui.svc.TemplatesOf(ctx, scope); err != nil {
		return err
	}
	if data.Name == "" {
		return ui.render(c, http.StatusOK, "templates", "Templates", "templates", data)
	}
	p, err := ui.svc.PreviewTemplate(ctx, data.ConfigID, data.Name, data.LSID)
	switch {
	case err == nil:
		data.Preview = &p
	case errors.Is(err, service.ErrUnavailable):
		return err
	default:
		data.PreviewError = "The preview failed: " + err.Error()
	}
	return ui.render(c, http.StatusOK, "templates", "Templates", "templates", data)
}

// auditEntries is how much of the audit log the page shows.
const auditEntries = 500

func (ui *UI) audit(c echo.Context) error {
	entries, err := ui.svc.Audit(c.Request().Context(), auditEntries)
	if err != nil {
		return err
	}
	return ui.render(c, http.StatusOK, "audit", "Audit log", "audit", map[string]any{"Entries": entries})
}
