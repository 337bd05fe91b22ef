package adminui

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"switchboard/engine"
	"switchboard/engine/auth"
	"switchboard/engine/render"
	"switchboard/engine/service"
)

// editorBodyLimit bounds a post to the template editor: a template of
// service.MaxTemplateSize, form-encoded, fits with room to spare. A larger
// body is refused before anything reads it.
const editorBodyLimit = "1M"

// registerTemplateEditor adds the template editor's routes behind the same
// guards as every other page (security headers, CSRF and same-origin
// check, a signed-in admin), with a body limit before the CSRF check
// reads the form.
func (ui *UI) registerTemplateEditor(e *echo.Echo) {
	g := e.Group("/templates/edit", ui.headers, ui.errorPages, middleware.BodyLimit(editorBodyLimit), ui.auth.CSRF(), ui.auth.Middleware())
	g.GET("", ui.editTemplate)
	g.POST("/preview", ui.previewTemplateText)
	g.POST("/save", ui.saveTemplate)
	g.POST("/revert", ui.revertTemplate)
}

// editorDone are the fixed notices a redirect after a save or revert asks for.
var editorDone = map[string]string{
	"template-saved":    "The template was saved and serves from the next delivery on. Its previous version is kept below.",
	"template-reverted": "The template was reverted: the next layer's version serves again.",
}

// editorData is the editor page's data.
type editorData struct {
	Set, Name string
	SetLabel  string
	ConfigID  int64
	// Plugin is the configuration's plugin: its own defaults are listed,
	// previewed and checked with the set's templates.
	Plugin  string
	Configs []service.Config
	LSID    string
	Text    string
	// Info describes the version serving now; Info.Error says why a newer
	// one does not serve.
	Info    render.TemplateInfo
	Known   bool // Info is of a template that exists
	History []service.TemplateVersion
	Loaded  int64 // the history version loaded into the editor
	Done    string
	// Lint is a save or preview refused with its line and column.
	Lint         *render.ParseError
	Error        string
	Preview      *render.Preview
	PreviewError string
}

// editorTarget reads and checks the set and template name of a request.
func editorTarget(c echo.Context) (set, name string, err error) {
	set, name = strings.TrimSpace(c.FormValue("set")), strings.TrimSpace(c.FormValue("name"))
	if name == "" {
		return "", "", echo.NewHTTPError(http.StatusBadRequest, "Choose a template to edit on the Templates page.")
	}
	if err := render.CheckName(set, name); err != nil {
		return "", "", echo.NewHTTPError(http.StatusBadRequest, "Not a template: "+err.Error()+".")
	}
	return set, name, nil
}

func (ui *UI) editorPage(c echo.Context, status int, d *editorData) error {
	ctx := c.Request().Context()
	var err error
	if d.Configs, err = ui.svc.Configs(ctx, ""); err != nil {
		return err
	}
	infos, err := ui.svc.TemplatesOf(ctx, service.TemplateScope{Plugin: d.Plugin, Set: d.Set})
	if err != nil {
		return err
	}
	for _, info := range infos {
		if info.Name == d.Name {
			d.Info, d.Known = info, true
		}
	}
	if d.History, err = ui.svc.TemplateHistory(ctx, d.Set, d.Name); err != nil {
		return err
	}
	d.SetLabel = "the overrides of every configuration"
	if d.Set != "" {
		d.SetLabel = "template set " + d.Set
	}
	return ui.render(c, status, "template_edit", "Edit "+d.Name, "templates", d)
}

// editTemplate shows a template's serving text (or a version from its
// history) in the editor with its preview against the sample session.
func (ui *UI) editTemplate(c echo.Context) error {
	ctx := c.Request().Context()
	set, name, err := editorTarget(c)
	if err != nil {
		return err
	}
	d := &editorData{Set: set, Name: name, Done: editorDone[c.QueryParam("done")], LSID: strings.TrimSpace(c.QueryParam("lsid"))}
	d.ConfigID, _ = strconv.ParseInt(c.QueryParam("config"), 10, 64)
	if d.Plugin, err = ui.editorPlugin(c, d.ConfigID); err != nil {
		return err
	}
	if id, _ := strconv.ParseInt(c.QueryParam("version"), 10, 64); id != 0 {
		v, err := ui.svc.TemplateVersion(ctx, set, name, id)
		if err != nil {
			return err
		}
		d.Text, d.Loaded = v.Body, v.ID
	} else if d.Text, err = ui.svc.TemplateSourceOf(ctx, service.TemplateScope{Plugin: d.Plugin, Set: set}, name); err != nil && !errors.Is(err, render.ErrNoTemplate) {
		return err
	}
	ui.preview(c, d)
	return ui.editorPage(c, http.StatusOK, d)
}

// editorPlugin is the plugin of the configuration the editor previews
// with (0: none), whose own default templates the editor shows.
func (ui *UI) editorPlugin(c echo.Context, configID int64) (string, error) {
	scope, err := ui.svc.TemplateScopeOf(c.Request().Context(), configID)
	if errors.Is(err, service.ErrNotFound) {
		return "", echo.NewHTTPError(http.StatusBadRequest, "No such configuration: choose one on the Templates page.")
	}
	return scope.Plugin, err
}

// editorForm reads a post of the editor form.
func (ui *UI) editorForm(c echo.Context) (*editorData, error) {
	set, name, err := editorTarget(c)
	if err != nil {
		return nil, err
	}
	d := &editorData{Set: set, Name: name, Text: c.FormValue("text"), LSID: strings.TrimSpace(c.FormValue("lsid"))}
	d.ConfigID, _ = strconv.ParseInt(c.FormValue("config"), 10, 64)
	if d.Plugin, err = ui.editorPlugin(c, d.ConfigID); err != nil {
		return nil, err
	}
	return d, nil
}

// preview renders d.Text into d. A preview that fails is shown: it is what
// the admin came to find out.
func (ui *UI) preview(c echo.Context, d *editorData) {
	p, err := ui.svc.PreviewTemplateText(c.Request().Context(), d.ConfigID, d.Set, d.Name, d.Text, d.LSID)
	var pe *render.ParseError
	switch {
	case err == nil:
		d.Preview = &p
	case errors.As(err, &pe):
		d.Lint = pe
	default:
		_, msg := ui.classify(c, err)
		if errors.As(err, new(*render.TemplateError)) || errors.As(err, new(engine.FieldErrors)) {
			msg = err.Error()
		}
		d.PreviewError = "The preview failed: " + msg
	}
}

// previewTemplateText is the live preview: the editor's script posts the
// text as it is typed and shows the answer; without the script, the
// Preview button posts the form and gets the page back.
func (ui *UI) previewTemplateText(c echo.Context) error {
	d, err := ui.editorForm(c)
	if err != nil {
		return err
	}
	ui.preview(c, d)
	if auth.WantsJSON(c) {
		return c.JSON(http.StatusOK, editorJSON(d))
	}
	return ui.editorPage(c, http.StatusOK, d)
}

// editorJSON is a preview or a refused save for the editor's script. The
// script puts every text in with textContent, never as markup.
func editorJSON(d *editorData) map[string]any {
	out := map[string]any{}
	if d.Lint != nil {
		out["lint"] = map[string]any{"line": d.Lint.Line, "column": d.Lint.Column, "message": d.Lint.Error()}
	}
	if d.Error != "" {
		out["error"] = d.Error
	}
	if d.PreviewError != "" {
		out["error"] = d.PreviewError
	}
	if d.Preview != nil {
		out["output"], out["missing"] = d.Preview.Output, d.Preview.Missing
	}
	return out
}

// saveTemplate checks and saves the text. A refused text comes back in
// the editor with its line and column, and the serving version stays.
func (ui *UI) saveTemplate(c echo.Context) error {
	d, err := ui.editorForm(c)
	if err != nil {
		return err
	}
	_, err = ui.svc.SaveTemplateFor(c.Request().Context(), auth.Actor(c), d.Plugin, d.Set, d.Name, d.Text)
	var pe *render.ParseError
	var fe engine.FieldErrors
	switch {
	case err == nil:
		return c.Redirect(http.StatusSeeOther, editorURL(d, "template-saved"))
	case errors.As(err, &pe):
		d.Lint = pe
	case errors.As(err, &fe):
		d.Error = "Not saved: the text " + fe[0].Message + "."
	case errors.Is(err, service.ErrUnavailable):
		return err
	default:
		d.Error = "Not saved: " + err.Error()
	}
	if auth.WantsJSON(c) {
		return c.JSON(http.StatusUnprocessableEntity, editorJSON(d))
	}
	return ui.editorPage(c, http.StatusUnprocessableEntity, d)
}

// revertTemplate makes the next layer's version serve again.
func (ui *UI) revertTemplate(c echo.Context) error {
	set, name, err := editorTarget(c)
	if err != nil {
		return err
	}
	if err := ui.svc.RevertTemplate(c.Request().Context(), auth.Actor(c), set, name); err != nil {
		if errors.Is(err, service.ErrUnavailable) {
			return err
		}
		return echo.NewHTTPError(http.StatusBadRequest, "Not reverted: "+err.Error())
	}
	config, _ := strconv.ParseInt(c.FormValue("config"), 10, 64)
	return c.Redirect(http.StatusSeeOther, editorURL(&editorData{Set: set, Name: name, ConfigID: config}, "template-reverted"))
}

// editorURL is the editor page of d's template.
func editorURL(d *editorData, done string) string {
	q := url.Values{"name": {d.Name}}
	if d.Set != "" {
		q.Set("set", d.Set)
	}
	if d.ConfigID != 0 {
		q.Set("config", strconv.FormatInt(d.ConfigID, 10))
	}
	if done != "" {
		q.Set("done", done)
	}
	return "/templates/edit?" + q.Encode()
}
