package adminui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"switchboard/engine"
	"switchboard/engine/auth"
	"switchboard/engine/service"
)

type homePlugin struct {
	Info    service.PluginInfo
	Configs []homeConfig
}

type homeConfig struct {
	Config service.Config
	Status service.ConfigStatus
}

func (ui *UI) home(c echo.Context) error {
	ctx := c.Request().Context()
	var plugins []homePlugin
	for _, info := range ui.svc.Plugins() {
		cfgs, err := ui.svc.Configs(ctx, info.ID)
		if err != nil {
			return err
		}
		hp := homePlugin{Info: info}
		for _, cfg := range cfgs {
			st, err := ui.svc.ConfigStatus(ctx, cfg.ID)
			if err != nil {
				return err
			}
			hp.Configs = append(hp.Configs, homeConfig{Config: cfg, Status: st})
		}
		plugins = append(plugins, hp)
	}
	return ui.render(c, http.StatusOK, "home", "Configurations", "home", map[string]any{"Plugins": plugins})
}

// configForm is the data of the configuration form page.
type configForm struct {
	Heading        string
	Plugin         service.PluginInfo
	ConfigID       int64
	Version        int
	Action         string
	TestURL        string
	Sections       []formSection
	Summary        errorSummary
	SecretsDropped bool
	// RecipientURL is what to paste into the appliance's HTTP recipient,
	// with the Outbound Event Token when one is set (RecipientToken).
	RecipientURL   string
	RecipientToken bool
	// Duplicates are the enabled configurations that deliver the same
	// appliance's sessions to the same destination; Disabled says whether
	// this one is (the warning then says "if you enable it").
	Duplicates []service.Config
	Disabled   bool
}

// errorSummary is the box above a refused form.
type errorSummary struct {
	Wide   []string
	Fields []formField
}

func pathID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.NewHTTPError(http.StatusNotFound, "There is no such page.")
	}
	return id, nil
}

// configParam loads the configuration named by the path's id.
func (ui *UI) configParam(c echo.Context) (service.Config, error) {
	id, err := pathID(c)
	if err != nil {
		return service.Config{}, err
	}
	return ui.svc.Config(c.Request().Context(), id)
}

func (ui *UI) pluginParam(c echo.Context) (service.PluginInfo, error) {
	info, err := ui.svc.Plugin(c.Param("plugin"))
	if err != nil {
		return info, echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("This build has no plugin %q.", c.Param("plugin")))
	}
	return info, nil
}

// newConfig shows the form of a new configuration, filled with defaults.
func (ui *UI) newConfig(c echo.Context) error {
	info, err := ui.pluginParam(c)
	if err != nil {
		return err
	}
	p, _ := ui.svc.Registry().Get(info.ID)
	app := engine.DefaultApplianceSettings(info.Events)
	f := ui.formFor(info, 0, 0, valuesOf(info.ApplianceFields, &app), valuesOf(info.SettingsFields, p.Info().NewSettings()), nil, nil, nil)
	return ui.render(c, http.StatusOK, "config", f.Heading, "home", f)
}

func (ui *UI) editConfig(c echo.Context) error {
	cfg, err := ui.configParam(c)
	if err != nil {
		return err
	}
	info, err := ui.svc.Plugin(cfg.Plugin)
	if err != nil {
		return err
	}
	f := ui.formFor(info, cfg.ID, cfg.Version, valuesOf(info.ApplianceFields, &cfg.Appliance), valuesOf(info.SettingsFields, cfg.Settings), cfg.SecretsSet, nil, nil)
	f.Heading = "Edit " + cfg.Name
	f.Disabled = cfg.Disabled
	if f.Duplicates, err = ui.svc.Duplicates(c.Request().Context(), cfg.ID); err != nil {
		return err
	}
	if ui.recipientURL != nil {
		// The token is shown here, to the signed-in admin, on a no-store
		// page: the appliance needs it in its URL and cannot be given it
		// any other way.
		l, err := ui.svc.Load(c.Request().Context(), cfg.ID)
		if err != nil {
			return err
		}
		f.RecipientURL = ui.recipientURL(l.Appliance.ApplianceID, l.Appliance.IntakeToken)
		f.RecipientToken = l.Appliance.IntakeToken.IsSet()
	}
	return ui.render(c, http.StatusOK, "config", f.Heading, "home", f)
}

func (ui *UI) formFor(info service.PluginInfo, id int64, version int, app, settings rawValues, secretsSet map[string]bool, cleared []string, errs engine.FieldErrors) configForm {
	f := configForm{
		Heading:  "Add " + info.Name + " configuration",
		Plugin:   info,
		ConfigID: id,
		Version:  version,
		Action:   "/plugins/" + url.PathEscape(info.ID) + "/new",
		TestURL:  "/plugins/" + url.PathEscape(info.ID) + "/test",
	}
	if id != 0 {
		f.Action = "/configs/" + strconv.FormatInt(id, 10)
	}
	f.Sections = append(buildSections("BeyondTrust Appliance", applianceSection, info.ApplianceFields, app, secretsSet, cleared, errs),
		buildSections(info.Name, settingsSection, info.SettingsFields, settings, secretsSet, cleared, errs)...)
	f.Summary.Wide = formWide(errs, info.ApplianceFields, info.SettingsFields)
	for _, s := range f.Sections {
		for _, ff := range s.Fields {
			if ff.Error != "" {
				f.Summary.Fields = append(f.Summary.Fields, ff)
			}
		}
	}
	return f
}

// submission is a posted configuration form, decoded for the service.
type submission struct {
	Input    service.ConfigInput
	ConfigID int64
	// Errors are what the form itself found wrong before the service ran.
	Errors engine.FieldErrors
	form   url.Values
}

func decodeSubmission(c echo.Context, info service.PluginInfo) (submission, error) {
	form, err := c.FormParams()
	if err != nil {
		return submission{}, echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.").SetInternal(err)
	}
	app, clearApp, errsApp := decodeSection(info.ApplianceFields, applianceSection, form)
	settings, clearSettings, errsSettings := decodeSection(info.SettingsFields, settingsSection, form)
	s := submission{
		Input: service.ConfigInput{
			Plugin: info.ID, Appliance: app, Settings: settings,
			ClearSecrets: append(clearApp, clearSettings...),
		},
		Errors: append(errsApp, errsSettings...),
		form:   form,
	}
	s.Input.Version, _ = strconv.Atoi(form.Get(versionInput))
	s.ConfigID, _ = strconv.ParseInt(form.Get(configIDInput), 10, 64)
	return s, nil
}

func (ui *UI) createConfig(c echo.Context) error {
	info, err := ui.pluginParam(c)
	if err != nil {
		return err
	}
	sub, err := decodeSubmission(c, info)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if len(sub.Errors) > 0 {
		return ui.refused(c, info, 0, nil, sub, ui.validate(ctx, 0, sub))
	}
	if _, err = ui.svc.CreateConfig(ctx, auth.Actor(c), sub.Input); err == nil {
		return ui.saved(c, "/?done=created")
	}
	return ui.refused(c, info, 0, nil, sub, err)
}

func (ui *UI) updateConfig(c echo.Context) error {
	cfg, err := ui.configParam(c)
	if err != nil {
		return err
	}
	ctx, id := c.Request().Context(), cfg.ID
	info, err := ui.svc.Plugin(cfg.Plugin)
	if err != nil {
		return err
	}
	sub, err := decodeSubmission(c, info)
	if err != nil {
		return err
	}
	if len(sub.Errors) > 0 {
		return ui.refused(c, info, id, cfg.SecretsSet, sub, ui.validate(ctx, id, sub))
	}
	if _, err = ui.svc.UpdateConfig(ctx, auth.Actor(c), id, sub.Input); err == nil {
		return ui.saved(c, "/?done=saved")
	}
	return ui.refused(c, info, id, cfg.SecretsSet, sub, err)
}

// validate asks the service what else is wrong with a submission the form
// already refused, so that every error shows at once. It returns the
// service's field errors as an error, as a refused save would.
func (ui *UI) validate(ctx context.Context, id int64, sub submission) error {
	errs, err := ui.svc.ValidateConfig(ctx, id, sub.Input)
	if err != nil || len(errs) == 0 {
		return err
	}
	return errs
}

// saved answers a successful save: a redirect for a plain form post, the
// redirect's target for the script that posted it.
func (ui *UI) saved(c echo.Context, target string) error {
	if auth.WantsJSON(c) {
		return c.JSON(http.StatusOK, map[string]string{"redirect": target})
	}
	return c.Redirect(http.StatusSeeOther, target)
}

// refused answers a save the form or the service refused. Field errors go
// back next to their fields: as JSON for the script (the page keeps
// everything typed, secrets included), or as the form re-rendered with the
// posted values (secrets excepted: they are never sent to the browser).
func (ui *UI) refused(c echo.Context, info service.PluginInfo, id int64, secretsSet map[string]bool, sub submission, err error) error {
	var fe engine.FieldErrors
	if err != nil && !errors.As(err, &fe) {
		return err
	}
	errs := rootErrors(mergeErrors(sub.Errors, fe))
	if auth.WantsJSON(c) {
		return c.JSON(http.StatusUnprocessableEntity, map[string]any{"errors": errs})
	}
	f := ui.formFor(info, id, sub.Input.Version,
		valuesFromForm(info.ApplianceFields, applianceSection, sub.form),
		valuesFromForm(info.SettingsFields, settingsSection, sub.form),
		secretsSet, sub.Input.ClearSecrets, errs)
	f.SecretsDropped = typedSecret(sub.form, info)
	if id != 0 {
		f.Heading = "Edit configuration"
	}
	return ui.render(c, http.StatusUnprocessableEntity, "config", f.Heading, "home", f)
}

// typedSecret reports whether the form carries a value for any secret.
func typedSecret(form url.Values, info service.PluginInfo) bool {
	typed := func(section string, fields []engine.Field) bool {
		return slices.ContainsFunc(fields, func(f engine.Field) bool {
			return f.Kind == engine.KindSecret && form.Get(inputName(section, f.Name)) != ""
		})
	}
	return typed(applianceSection, info.ApplianceFields) || typed(settingsSection, info.SettingsFields)
}

// testData is what the test page and the Test button's fragment show.
type testData struct {
	Name     string
	ConfigID int64
	Saved    bool
	Checks   []engine.Check
}

// testConfig runs the Test button on the form's current values. Nothing is
// saved. The script gets JSON with the checks and their rendered HTML; a
// browser without scripts gets the results page.
func (ui *UI) testConfig(c echo.Context) error {
	info, err := ui.pluginParam(c)
	if err != nil {
		return err
	}
	sub, err := decodeSubmission(c, info)
	if err != nil {
		return err
	}
	checks, err := ui.svc.TestConfig(c.Request().Context(), auth.Actor(c), sub.ConfigID, sub.Input)
	if err != nil {
		return err
	}
	if len(sub.Errors) > 0 {
		checks = append([]engine.Check{{
			ID: "form", Label: "Form values", Status: engine.CheckFail,
			Message: fmt.Sprintf("%d value(s) could not be read: %s", len(sub.Errors), sub.Errors[0].Field+" "+sub.Errors[0].Message),
			Detail:  sub.Errors.Error(), Errors: sub.Errors,
		}}, checks...)
	}
	return ui.showChecks(c, testData{Name: sub.form.Get(inputName(applianceSection, "name")), ConfigID: sub.ConfigID, Checks: checks})
}

func (ui *UI) showChecks(c echo.Context, data testData) error {
	if auth.WantsJSON(c) {
		html, err := ui.fragment("test", "checks", data.Checks)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"checks": data.Checks, "html": html, "errors": blamed(data.Checks)})
	}
	if data.Name == "" {
		data.Name = "the new configuration"
	}
	return ui.render(c, http.StatusOK, "test", "Test of "+data.Name, "home", data)
}

// testSavedConfig runs the Test on a configuration's saved settings, for
// the Test action of the home page.
func (ui *UI) testSavedConfig(c echo.Context) error {
	cfg, err := ui.configParam(c)
	if err != nil {
		return err
	}
	in, err := savedInput(cfg)
	if err != nil {
		return err
	}
	checks, err := ui.svc.TestConfig(c.Request().Context(), auth.Actor(c), cfg.ID, in)
	if err != nil {
		return err
	}
	return ui.showChecks(c, testData{Name: cfg.Name, ConfigID: cfg.ID, Saved: true, Checks: checks})
}

// savedInput submits a configuration as stored. The view's secrets are
// empty, so the service fills in the stored ones.
func savedInput(cfg service.Config) (service.ConfigInput, error) {
	app, err := json.Marshal(cfg.Appliance)
	if err != nil {
		return service.ConfigInput{}, fmt.Errorf("adminui: encode configuration %d: %w", cfg.ID, err)
	}
	settings, err := json.Marshal(cfg.Settings)
	if err != nil {
		return service.ConfigInput{}, fmt.Errorf("adminui: encode configuration %d: %w", cfg.ID, err)
	}
	return service.ConfigInput{Plugin: cfg.Plugin, Appliance: app, Settings: settings}, nil
}

// copyConfig stores a disabled copy and opens its form: a copy is made to
// be pointed at another appliance or tenant before it is enabled.
func (ui *UI) copyConfig(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	cp, err := ui.svc.CopyConfig(c.Request().Context(), auth.Actor(c), id)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/configs/"+strconv.FormatInt(cp.ID, 10)+"?done=copied")
}

func (ui *UI) disableConfig(c echo.Context) error {
	return ui.configAction(c, "disabled", func(ctx context.Context, actor string, id int64) error {
		return ui.svc.SetDisabled(ctx, actor, id, true)
	})
}

func (ui *UI) enableConfig(c echo.Context) error {
	return ui.configAction(c, "enabled", func(ctx context.Context, actor string, id int64) error {
		return ui.svc.SetDisabled(ctx, actor, id, false)
	})
}

func (ui *UI) deleteConfig(c echo.Context) error {
	return ui.configAction(c, "deleted", ui.svc.DeleteConfig)
}

// configAction runs a one-button action on the configuration in the path
// and goes back to the home page with a message.
func (ui *UI) configAction(c echo.Context, done string, fn func(ctx context.Context, actor string, id int64) error) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if err := fn(c.Request().Context(), auth.Actor(c), id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/?done="+done)
}

func (ui *UI) confirmDelete(c echo.Context) error {
	cfg, err := ui.configParam(c)
	if err != nil {
		return err
	}
	return ui.render(c, http.StatusOK, "delete", "Delete "+cfg.Name, "home", cfg)
}

// blamed gathers the fields the failed checks blame, for the form to mark:
// the first message per field, nested JSON keys on their setting.
func blamed(checks []engine.Check) engine.FieldErrors {
	var lists []engine.FieldErrors
	for _, c := range checks {
		lists = append(lists, rootErrors(c.Errors))
	}
	out := mergeErrors(lists...)
	if out == nil {
		out = engine.FieldErrors{}
	}
	return out
}
