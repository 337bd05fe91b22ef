package adminui

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"switchboard/engine"
	"switchboard/engine/auth"
	"switchboard/engine/service"
)

// Sources configured in the admin UI: a form built from the kind's
// settings struct, as a configuration's is; secrets shown as set, never
// sent back; Test tries the form's values without saving them.

// registerSources adds the source pages to the signed-in group.
func (ui *UI) registerSources(g *echo.Group) {
	g.GET("/sources/new/:kind", ui.newSource)
	g.POST("/sources/new/:kind", ui.createSource)
	g.POST("/sources/new/:kind/test", ui.testNewSource)
	g.GET("/sources/:id", ui.editSource)
	g.POST("/sources/:id", ui.updateSource)
	g.POST("/sources/:id/test", ui.testStoredSource)
	g.POST("/sources/:id/copy", ui.copySource)
	g.POST("/sources/:id/disable", ui.sourceAction("source-disabled", func(ctx context.Context, svc *service.Service, actor string, id int64) error {
		return svc.SetSourceDisabled(ctx, actor, id, true)
	}))
	g.POST("/sources/:id/enable", ui.sourceAction("source-enabled", func(ctx context.Context, svc *service.Service, actor string, id int64) error {
		return svc.SetSourceDisabled(ctx, actor, id, false)
	}))
	g.GET("/sources/:id/delete", ui.confirmDeleteSource)
	g.POST("/sources/:id/delete", ui.sourceAction("source-deleted", func(ctx context.Context, svc *service.Service, actor string, id int64) error {
		return svc.DeleteSource(ctx, actor, id)
	}))
}

// sourceDone are the fixed notices a redirect to the Polling page asks for.
var sourceDone = map[string]string{
	"source-created":  "The source was saved. It is polled within a second unless you disabled it.",
	"source-saved":    "Your changes to the source were saved; the next poll uses them.",
	"source-copied":   "This is a disabled copy of the source. Point it at its tenant or appliance, then enable it.",
	"source-disabled": "The source was disabled: it is not polled. Its cursor is kept.",
	"source-enabled":  "The source was enabled.",
	"source-deleted":  "The source was deleted. Its cursors and the records it stored are kept.",
}

func init() { maps.Copy(flashes, sourceDone) }

// sourceForm is what source.html shows.
type sourceForm struct {
	Heading, Action, TestURL string
	Kind                     service.SourceKind
	ID                       int64
	Version                  int
	Disabled                 bool
	Section                  []formSection
	Summary                  struct {
		Wide   []string
		Fields []formField
	}
	SecretsDropped bool
	Tested         *engine.SourceTest
}

func (ui *UI) sourceKindParam(c echo.Context) (service.SourceKind, error) {
	k, err := ui.svc.SourceKindOf(c.Param("kind"))
	if err != nil {
		return k, echo.NewHTTPError(http.StatusNotFound, "No such kind of source.")
	}
	return k, nil
}

// sourceFields are the kind's fields, Deliver To offering the names of
// the configurations.
func (ui *UI) sourceFields(ctx context.Context, k service.SourceKind) ([]engine.Field, error) {
	cfgs, err := ui.svc.Configs(ctx, "")
	if err != nil {
		return nil, err
	}
	fields := slices.Clone(k.Fields)
	for i := range fields {
		if fields[i].Name != "deliver_to" {
			continue
		}
		fields[i].Options = nil
		for _, cfg := range cfgs {
			if !slices.ContainsFunc(fields[i].Options, func(o engine.Option) bool { return o.Value == cfg.Name }) {
				fields[i].Options = append(fields[i].Options, engine.Option{Value: cfg.Name, Label: cfg.Name})
			}
		}
		if len(fields[i].Options) == 0 {
			fields[i].Help = "No configuration exists yet: records are stored unrouted until one is named here."
		}
	}
	return fields, nil
}

func (ui *UI) sourceFormFor(ctx context.Context, k service.SourceKind, id int64, version int, values rawValues, secretsSet map[string]bool, cleared []string, errs engine.FieldErrors) (sourceForm, error) {
	fields, err := ui.sourceFields(ctx, k)
	if err != nil {
		return sourceForm{}, err
	}
	f := sourceForm{Heading: "Add " + k.Label + " source", Kind: k, ID: id, Version: version,
		Action: "/sources/new/" + url.PathEscape(k.ID), TestURL: "/sources/new/" + url.PathEscape(k.ID) + "/test"}
	if id != 0 {
		f.Action = "/sources/" + strconv.FormatInt(id, 10)
		f.TestURL = f.Action + "/test"
	}
	f.Section = buildSections(k.Label+" source", settingsSection, fields, values, secretsSet, cleared, errs)
	f.Summary.Wide = formWide(errs, fields)
	for _, s := range f.Section {
		for _, ff := range s.Fields {
			if ff.Error != "" {
				f.Summary.Fields = append(f.Summary.Fields, ff)
			}
		}
	}
	return f, nil
}

func (ui *UI) newSource(c echo.Context) error {
	k, err := ui.sourceKindParam(c)
	if err != nil {
		return err
	}
	f, err := ui.sourceFormFor(c.Request().Context(), k, 0, 0, valuesOf(k.Fields, k.Defaults), nil, nil, nil)
	if err != nil {
		return err
	}
	return ui.render(c, http.StatusOK, "source", f.Heading, "polling", f)
}

func (ui *UI) storedSourceParam(c echo.Context) (service.SourceConfig, service.SourceKind, error) {
	id, err := pathID(c)
	if err != nil {
		return service.SourceConfig{}, service.SourceKind{}, err
	}
	sc, err := ui.svc.SourceConfig(c.Request().Context(), id)
	if err != nil {
		return sc, service.SourceKind{}, err
	}
	k, err := ui.svc.SourceKindOf(sc.Kind)
	return sc, k, err
}

func (ui *UI) editSource(c echo.Context) error {
	sc, k, err := ui.storedSourceParam(c)
	if err != nil {
		return err
	}
	f, err := ui.sourceFormFor(c.Request().Context(), k, sc.ID, sc.Version, valuesOf(k.Fields, sc.Settings), sc.SecretsSet, nil, nil)
	if err != nil {
		return err
	}
	f.Heading, f.Disabled = "Edit source "+sc.Name, sc.Disabled
	return ui.render(c, http.StatusOK, "source", f.Heading, "polling", f)
}

// sourceSubmission is a posted source form, decoded for the service.
type sourceSubmission struct {
	Input  service.SourceInput
	Errors engine.FieldErrors
	form   url.Values
}

func decodeSourceForm(c echo.Context, k service.SourceKind) (sourceSubmission, error) {
	form, err := c.FormParams()
	if err != nil {
		return sourceSubmission{}, echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.").SetInternal(err)
	}
	settings, clear, errs := decodeSection(k.Fields, settingsSection, form)
	s := sourceSubmission{Input: service.SourceInput{Kind: k.ID, Settings: settings, ClearSecrets: clear}, Errors: errs, form: form}
	s.Input.Version, _ = strconv.Atoi(form.Get(versionInput))
	return s, nil
}

func (ui *UI) createSource(c echo.Context) error {
	k, err := ui.sourceKindParam(c)
	if err != nil {
		return err
	}
	return ui.saveSource(c, k, 0, nil, "source-created", func(ctx context.Context, actor string, in service.SourceInput) error {
		_, err := ui.svc.CreateSource(ctx, actor, in)
		return err
	})
}

func (ui *UI) updateSource(c echo.Context) error {
	sc, k, err := ui.storedSourceParam(c)
	if err != nil {
		return err
	}
	return ui.saveSource(c, k, sc.ID, sc.SecretsSet, "source-saved", func(ctx context.Context, actor string, in service.SourceInput) error {
		_, err := ui.svc.UpdateSource(ctx, actor, sc.ID, in)
		return err
	})
}

// saveSource decodes the posted form and saves it with save; a refusal
// shows the form again with every error at once.
func (ui *UI) saveSource(c echo.Context, k service.SourceKind, id int64, secretsSet map[string]bool, done string, save func(context.Context, string, service.SourceInput) error) error {
	sub, err := decodeSourceForm(c, k)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if len(sub.Errors) == 0 {
		if err = save(ctx, auth.Actor(c), sub.Input); err == nil {
			return c.Redirect(http.StatusSeeOther, "/polling?done="+done)
		}
	} else {
		err = ui.validateSource(ctx, id, sub)
	}
	return ui.sourceRefused(c, k, id, secretsSet, sub, err, nil)
}

// validateSource asks the service what else is wrong with a submission
// the form refused, so that every error shows at once.
func (ui *UI) validateSource(ctx context.Context, id int64, sub sourceSubmission) error {
	errs, err := ui.svc.ValidateSource(ctx, id, sub.Input)
	if err != nil || len(errs) == 0 {
		return err
	}
	return errs
}

// sourceRefused shows the form again with what was posted (secrets
// excepted), each error next to its field, and a Test's results if any.
func (ui *UI) sourceRefused(c echo.Context, k service.SourceKind, id int64, secretsSet map[string]bool, sub sourceSubmission, err error, tested *engine.SourceTest) error {
	var fe engine.FieldErrors
	if err != nil && !errors.As(err, &fe) {
		return err
	}
	errs := rootErrors(mergeErrors(sub.Errors, fe))
	f, ferr := ui.sourceFormFor(c.Request().Context(), k, id, sub.Input.Version, valuesFromForm(k.Fields, settingsSection, sub.form), secretsSet, sub.Input.ClearSecrets, errs)
	if ferr != nil {
		return ferr
	}
	f.Tested = tested
	f.SecretsDropped = slices.ContainsFunc(k.Fields, func(fd engine.Field) bool {
		return fd.Kind == engine.KindSecret && sub.form.Get(inputName(settingsSection, fd.Name)) != ""
	})
	if id != 0 {
		f.Heading = "Edit source"
	}
	status := http.StatusUnprocessableEntity
	if tested != nil {
		status = http.StatusOK
	}
	return ui.render(c, status, "source", f.Heading, "polling", f)
}

func (ui *UI) testNewSource(c echo.Context) error {
	k, err := ui.sourceKindParam(c)
	if err != nil {
		return err
	}
	return ui.testSourceForm(c, k, 0, nil)
}

func (ui *UI) testStoredSource(c echo.Context) error {
	sc, k, err := ui.storedSourceParam(c)
	if err != nil {
		return err
	}
	return ui.testSourceForm(c, k, sc.ID, sc.SecretsSet)
}

// testSourceForm runs the Test on the form's values (a token, one read of
// each selected stream; nothing saved) and shows the form again with the
// results and any field errors.
func (ui *UI) testSourceForm(c echo.Context, k service.SourceKind, id int64, secretsSet map[string]bool) error {
	sub, err := decodeSourceForm(c, k)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	res, err := ui.svc.TestSourceInput(ctx, auth.Actor(c), id, sub.Input)
	if err != nil {
		return err
	}
	return ui.sourceRefused(c, k, id, secretsSet, sub, ui.validateSource(ctx, id, sub), &res)
}

func (ui *UI) copySource(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	sc, err := ui.svc.CopySource(c.Request().Context(), auth.Actor(c), id)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/sources/"+strconv.FormatInt(sc.ID, 10)+"?done=source-copied")
}

// sourceAction runs a one-button action on the source in the path and
// goes back to the Polling page with a notice.
func (ui *UI) sourceAction(done string, fn func(ctx context.Context, svc *service.Service, actor string, id int64) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		if err := fn(c.Request().Context(), ui.svc, auth.Actor(c), id); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/polling?done="+done)
	}
}

func (ui *UI) confirmDeleteSource(c echo.Context) error {
	sc, _, err := ui.storedSourceParam(c)
	if err != nil {
		return err
	}
	return ui.render(c, http.StatusOK, "source_delete", "Delete "+sc.Name, "polling", sc)
}
