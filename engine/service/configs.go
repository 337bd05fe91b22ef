package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"switchboard/engine"
	"switchboard/engine/beyondtrust"
	"switchboard/engine/secretbox"
	"switchboard/engine/store"
)

// Config is a configuration as the API shows it: secrets masked, with
// SecretsSet telling which secret fields hold a value.
type Config struct {
	ID         int64                    `json:"id"`
	Plugin     string                   `json:"plugin"`
	Name       string                   `json:"name"`
	Appliance  engine.ApplianceSettings `json:"appliance"`
	Settings   any                      `json:"settings"`
	SecretsSet map[string]bool          `json:"secrets_set"`
	Disabled   bool                     `json:"disabled"`
	Version    int                      `json:"version"`
	CreatedAt  time.Time                `json:"created_at"`
	UpdatedAt  time.Time                `json:"updated_at"`
}

// ConfigInput is a submitted configuration. A secret field that is absent or
// empty keeps its stored value; ClearSecrets names the ones to clear.
type ConfigInput struct {
	Plugin       string          `json:"plugin"`
	Appliance    json.RawMessage `json:"appliance"`
	Settings     json.RawMessage `json:"settings"`
	ClearSecrets []string        `json:"clear_secrets,omitempty"`
	// Version, when set on an update, refuses the change if the stored
	// configuration changed meanwhile.
	Version int `json:"version,omitempty"`
}

// Loaded is a configuration decoded for use, secrets in clear. It never
// leaves the engine.
type Loaded = engine.LoadedConfig

// storedSettings is the JSON kept in the settings column.
type storedSettings struct {
	Appliance json.RawMessage `json:"appliance"`
	Settings  json.RawMessage `json:"settings"`
}

// Load returns a configuration decoded for use, cached until it changes.
func (s *Service) Load(ctx context.Context, id int64) (*Loaded, error) {
	s.mu.Lock()
	l := s.loaded[id]
	gen := s.generation
	s.mu.Unlock()
	if l != nil {
		return l, nil
	}
	row, err := s.st.GetConfig(ctx, id)
	if err != nil {
		return nil, err
	}
	if s.afterConfigRead != nil {
		s.afterConfigRead()
	}
	l, err = s.decode(row)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	// A change since the row was read may have made it stale: use it for
	// this call only, and let the next Load read again.
	if s.generation == gen {
		s.loaded[id] = l
	}
	s.mu.Unlock()
	return l, nil
}

// LoadAll decodes every configuration (for routing and polling).
func (s *Service) LoadAll(ctx context.Context) ([]*Loaded, error) {
	rows, err := s.st.ListConfigs(ctx, "")
	if err != nil {
		return nil, err
	}
	out := make([]*Loaded, 0, len(rows))
	for i := range rows {
		l, err := s.Load(ctx, rows[i].ID)
		if err != nil {
			s.log.Error("configuration cannot be loaded", "config", rows[i].ID, "err", err)
			continue
		}
		out = append(out, l)
	}
	return out, nil
}

func (s *Service) decode(row *store.Config) (*Loaded, error) {
	p, ok := s.reg.Get(row.Plugin)
	if !ok {
		return nil, fmt.Errorf("configuration %d uses plugin %q, which this build does not have", row.ID, row.Plugin)
	}
	var raw storedSettings
	if err := json.Unmarshal([]byte(row.Settings), &raw); err != nil {
		return nil, fmt.Errorf("configuration %d: stored settings: %w", row.ID, err)
	}
	app := engine.DefaultApplianceSettings(p.Info().Events)
	settings := p.Info().NewSettings()
	// Stored JSON is read leniently: a setting an older version wrote and
	// this one dropped must not make the configuration unusable.
	if err := json.Unmarshal(raw.Appliance, &app); err != nil {
		return nil, fmt.Errorf("configuration %d: stored appliance settings: %w", row.ID, err)
	}
	if len(raw.Settings) > 0 {
		if err := json.Unmarshal(raw.Settings, settings); err != nil {
			return nil, fmt.Errorf("configuration %d: stored plugin settings: %w", row.ID, err)
		}
	}
	if err := s.openSecrets(row, &app, settings); err != nil {
		return nil, err
	}
	app.Disabled = row.Disabled
	return &Loaded{
		ID: row.ID, Plugin: p, Name: row.Name, Version: row.Version,
		Appliance: app, Settings: settings, EnabledAt: row.Enabled(),
		Client:    s.client(&app),
		Templates: s.renderer.PluginSet(p.Info().ID, templateSet(settings)),
	}, nil
}

// templateSet returns the template set a plugin's settings name, if any.
func templateSet(settings any) string {
	if ts, ok := settings.(engine.TemplateSetter); ok {
		return ts.TemplateSet()
	}
	return ""
}

func (s *Service) client(a *engine.ApplianceSettings) *beyondtrust.Client {
	opts := a.ClientOptions()
	opts.RootCAs = s.roots
	return beyondtrust.NewClient(opts, s.tokens)
}

func secretKey(section, name string) string { return section + "." + name }

func (s *Service) openSecrets(row *store.Config, app *engine.ApplianceSettings, settings any) error {
	if len(row.Secrets) == 0 {
		return nil
	}
	plain, err := s.box.Open(row.Secrets, secretbox.Associated(row.ID))
	if err != nil {
		return fmt.Errorf("configuration %d: %w", row.ID, err)
	}
	values := map[string]string{}
	if err := json.Unmarshal(plain, &values); err != nil {
		return fmt.Errorf("configuration %d: stored secrets are damaged", row.ID)
	}
	for _, ref := range engine.Secrets(app) {
		*ref.Value = engine.NewSecret(values[secretKey("appliance", ref.Name)])
	}
	for _, ref := range engine.Secrets(settings) {
		*ref.Value = engine.NewSecret(values[secretKey("settings", ref.Name)])
	}
	return nil
}

// encode splits decoded settings into the stored JSON (secrets left out)
// and the sealed secrets.
func (s *Service) encode(id int64, app engine.ApplianceSettings, settings any) (string, []byte, error) {
	values := map[string]string{}
	strip := func(section string, v any) {
		for _, ref := range engine.Secrets(v) {
			if ref.Value.IsSet() {
				values[secretKey(section, ref.Name)] = ref.Value.Reveal()
			}
			*ref.Value = engine.Secret{}
		}
	}
	settingsCopy := clone(settings)
	strip("appliance", &app)
	strip("settings", settingsCopy)
	a, err := json.Marshal(app)
	if err != nil {
		return "", nil, err
	}
	p, err := json.Marshal(settingsCopy)
	if err != nil {
		return "", nil, err
	}
	doc, err := json.Marshal(storedSettings{Appliance: a, Settings: p})
	if err != nil {
		return "", nil, err
	}
	sealed, err := s.sealValues(values, secretbox.Associated(id))
	return string(doc), sealed, err
}

// sealValues seals secret values for their row (nil when there are none).
func (s *Service) sealValues(values map[string]string, associated []byte) ([]byte, error) {
	if len(values) == 0 {
		return nil, nil
	}
	plain, err := json.Marshal(values)
	if err != nil {
		return nil, err
	}
	return s.box.Seal(plain, associated), nil
}

// clone makes a shallow copy of a settings struct pointer, so stripping
// secrets for storage does not touch the caller's value.
func clone(settings any) any {
	v := reflect.ValueOf(settings).Elem()
	c := reflect.New(v.Type())
	c.Elem().Set(v)
	return c.Interface()
}

// view masks a decoded configuration for the API.
func view(row *store.Config, l *Loaded) Config {
	set := map[string]bool{}
	app := l.Appliance
	for _, ref := range engine.Secrets(&app) {
		set[ref.Name] = ref.Value.IsSet()
		*ref.Value = engine.Secret{}
	}
	settings := clone(l.Settings)
	for _, ref := range engine.Secrets(settings) {
		set[ref.Name] = ref.Value.IsSet()
		*ref.Value = engine.Secret{}
	}
	return Config{
		ID: row.ID, Plugin: row.Plugin, Name: row.Name, Appliance: app, Settings: settings,
		SecretsSet: set, Disabled: row.Disabled, Version: row.Version,
		CreatedAt: row.Created(), UpdatedAt: row.Updated(),
	}
}

// Configs lists the configurations of a plugin ("" for all).
func (s *Service) Configs(ctx context.Context, plugin string) ([]Config, error) {
	rows, err := s.st.ListConfigs(ctx, plugin)
	if err != nil {
		return nil, err
	}
	out := make([]Config, 0, len(rows))
	for i := range rows {
		l, err := s.Load(ctx, rows[i].ID)
		if err != nil {
			return nil, err
		}
		out = append(out, view(&rows[i], l))
	}
	return out, nil
}

// Config returns one configuration.
func (s *Service) Config(ctx context.Context, id int64) (Config, error) {
	row, err := s.st.GetConfig(ctx, id)
	if err != nil {
		return Config{}, err
	}
	l, err := s.Load(ctx, id)
	if err != nil {
		return Config{}, err
	}
	return view(row, l), nil
}

// prepare decodes and validates a submission. stored is the configuration
// being edited (nil for a new one): its secrets fill secret fields the
// submission left empty. The result is returned even when invalid, with
// the errors, so the Test button can still check what it can.
func (s *Service) prepare(in ConfigInput, stored *Loaded) (engine.Plugin, engine.ApplianceSettings, any, engine.FieldErrors, error) {
	p, err := s.plugin(in.Plugin)
	if err != nil {
		return nil, engine.ApplianceSettings{}, nil, nil, err
	}
	info := p.Info()
	app := engine.DefaultApplianceSettings(info.Events)
	settings := info.NewSettings()
	var errs engine.FieldErrors
	decode := func(raw json.RawMessage, dst any) {
		if len(raw) == 0 || string(raw) == "null" {
			return
		}
		if err := engine.DecodeStrict(raw, dst); err != nil {
			var fe engine.FieldErrors
			if errors.As(err, &fe) {
				errs = append(errs, fe...)
			} else {
				errs = append(errs, engine.FieldError{Message: err.Error()})
			}
		}
	}
	decode(in.Appliance, &app)
	decode(in.Settings, settings)
	var rebind engine.FieldErrors
	if stored != nil {
		rebind = append(keepSecrets(&app, &stored.Appliance, in.ClearSecrets), keepSecrets(settings, stored.Settings, in.ClearSecrets)...)
	}
	errs = append(errs, rebind...)
	for _, e := range append(append(engine.Validate(&app), app.ValidateEvents(info.Events)...), engine.Validate(settings)...) {
		// "required" says less than the rebind error already there.
		if rebind.For(e.Field) == "" {
			errs = append(errs, e)
		}
	}
	return p, app, settings, errs, nil
}

// keepSecrets fills empty secret fields of dst from src unless cleared, but
// only while every setting that binds the secret (where it is sent: host,
// client id, URL, username, …) is unchanged: a stored secret never follows
// a changed destination. A secret left empty for that reason is returned as
// a field error asking for it again.
func keepSecrets(dst, src any, clear []string) engine.FieldErrors {
	old := map[string]engine.Secret{}
	for _, ref := range engine.Secrets(src) {
		old[ref.Name] = *ref.Value
	}
	var errs engine.FieldErrors
	for _, ref := range engine.Secrets(dst) {
		if slices.Contains(clear, ref.Name) {
			*ref.Value = engine.Secret{}
			continue
		}
		if ref.Value.IsSet() || !old[ref.Name].IsSet() {
			continue
		}
		if changed := engine.ChangedBindings(src, dst, ref.Binds); len(changed) > 0 {
			errs = append(errs, engine.FieldError{Field: ref.Name, Message: fmt.Sprintf(
				"type it again (or clear it): the stored value is sent only where it was saved for, and %s changed", strings.Join(changed, ", "))})
			continue
		}
		*ref.Value = old[ref.Name]
	}
	return errs
}

// CreateConfig validates and stores a new configuration.
func (s *Service) CreateConfig(ctx context.Context, actor string, in ConfigInput) (Config, error) {
	_, app, settings, errs, err := s.prepare(in, nil)
	if err != nil {
		return Config{}, err
	}
	if len(errs) > 0 {
		return Config{}, errs
	}
	row := &store.Config{Plugin: in.Plugin, Name: app.Name, ApplianceID: app.ApplianceID, Disabled: app.Disabled}
	audit := store.AuditEntry{Actor: actor, Action: "create", Summary: "created configuration " + app.Name, Changes: diff(nil, &app, nil, settings)}
	if err := s.st.CreateConfig(ctx, row, audit, func(id int64) (string, []byte, error) {
		return s.encode(id, app, settings)
	}); err != nil {
		return Config{}, err
	}
	s.log.Info("configuration created", "config", row.ID, "plugin", row.Plugin, "name", row.Name, "actor", actor)
	s.changed(row.ID)
	return s.Config(ctx, row.ID)
}

// UpdateConfig validates and stores a changed configuration.
func (s *Service) UpdateConfig(ctx context.Context, actor string, id int64, in ConfigInput) (Config, error) {
	stored, err := s.Load(ctx, id)
	if err != nil {
		return Config{}, err
	}
	if in.Plugin == "" {
		in.Plugin = stored.Plugin.Info().ID
	}
	if in.Plugin != stored.Plugin.Info().ID {
		return Config{}, engine.FieldErrors{{Field: "plugin", Message: "a configuration cannot change its plugin; copy it instead"}}
	}
	_, app, settings, errs, err := s.prepare(in, stored)
	if err != nil {
		return Config{}, err
	}
	if len(errs) > 0 {
		return Config{}, errs
	}
	row := &store.Config{ID: id, Plugin: in.Plugin, Name: app.Name, ApplianceID: app.ApplianceID, Disabled: app.Disabled, Version: in.Version}
	row.Settings, row.Secrets, err = s.encode(id, app, settings)
	if err != nil {
		return Config{}, err
	}
	audit := store.AuditEntry{Actor: actor, Action: "update", Summary: "updated configuration " + app.Name, Changes: diff(&stored.Appliance, &app, stored.Settings, settings)}
	if audit.Changes == "[]" {
		audit = store.AuditEntry{} // saved unchanged: nothing to audit
	}
	if err := s.st.UpdateConfig(ctx, row, audit); err != nil {
		return Config{}, err
	}
	s.log.Info("configuration updated", "config", id, "actor", actor)
	s.changed(id)
	return s.Config(ctx, id)
}

// CopyConfig stores a disabled copy of a configuration, secrets included, so
// an admin can point it at another appliance and enable it.
func (s *Service) CopyConfig(ctx context.Context, actor string, id int64) (Config, error) {
	src, err := s.Load(ctx, id)
	if err != nil {
		return Config{}, err
	}
	app := src.Appliance
	app.Name = copyName(src.Name)
	app.Disabled = true
	row := &store.Config{Plugin: src.Plugin.Info().ID, Name: app.Name, ApplianceID: app.ApplianceID, Disabled: true}
	audit := store.AuditEntry{Actor: actor, Action: "copy", Summary: fmt.Sprintf("copied configuration %s (%d) as %s", src.Name, id, app.Name)}
	if err := s.st.CreateConfig(ctx, row, audit, func(newID int64) (string, []byte, error) {
		return s.encode(newID, app, clone(src.Settings))
	}); err != nil {
		return Config{}, err
	}
	s.changed(row.ID)
	return s.Config(ctx, row.ID)
}

func copyName(name string) string {
	n := "Copy of " + name
	if len(n) > 100 {
		n = n[:100]
	}
	return n
}

// SetDisabled disables or enables a configuration.
func (s *Service) SetDisabled(ctx context.Context, actor string, id int64, disabled bool) error {
	l, err := s.Load(ctx, id)
	if err != nil {
		return err
	}
	app := l.Appliance
	app.Disabled = disabled
	row := &store.Config{ID: id, Plugin: l.Plugin.Info().ID, Name: l.Name, ApplianceID: app.ApplianceID, Disabled: disabled}
	row.Settings, row.Secrets, err = s.encode(id, app, clone(l.Settings))
	if err != nil {
		return err
	}
	action := "enable"
	if disabled {
		action = "disable"
	}
	if err := s.st.UpdateConfig(ctx, row, store.AuditEntry{Actor: actor, Action: action, Summary: action + "d configuration " + l.Name}); err != nil {
		return err
	}
	s.changed(id)
	return nil
}

// DeleteConfig deletes a configuration and its delivery history.
func (s *Service) DeleteConfig(ctx context.Context, actor string, id int64) error {
	l, err := s.Load(ctx, id)
	if err != nil {
		return err
	}
	if err := s.st.DeleteConfig(ctx, id, store.AuditEntry{Actor: actor, Action: "delete", Summary: "deleted configuration " + l.Name}); err != nil {
		return err
	}
	s.log.Info("configuration deleted", "config", id, "actor", actor)
	if f, ok := l.Plugin.(engine.ConfigForgetter); ok {
		f.ForgetConfig(id)
	}
	s.changed(id)
	return nil
}
