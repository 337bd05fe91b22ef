package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"switchboard/engine"
)

// ExportFormat names the document that config export writes and config
// import reads, so that a file of something else is refused by name.
const ExportFormat = "switchboard.configurations/v1"

// ExportFile is a set of configurations as files an operator keeps in git:
// no ids, no versions, no secrets.
type ExportFile struct {
	Format         string           `json:"format"`
	Configurations []ExportedConfig `json:"configurations"`
}

// ExportedConfig is one configuration, named by its plugin and name. Secret
// fields are empty in an export; in an import they hold the value, a
// reference "env:NAME" to an environment variable, or nothing (keep the
// stored value, where the rules for stored secrets allow it).
type ExportedConfig struct {
	Plugin    string          `json:"plugin"`
	Appliance json.RawMessage `json:"appliance"`
	Settings  json.RawMessage `json:"settings"`
}

// Import outcomes.
const (
	ImportCreated   = "created"
	ImportUpdated   = "updated"
	ImportUnchanged = "unchanged"
	ImportInvalid   = "invalid"
)

// ImportResult says what import did (or, in a dry run, would do) with one
// configuration of the file.
type ImportResult struct {
	Plugin  string             `json:"plugin"`
	Name    string             `json:"name"`
	Action  string             `json:"action"`
	ID      int64              `json:"id,omitempty"`
	Changes []Change           `json:"changes,omitempty"`
	Errors  engine.FieldErrors `json:"errors,omitempty"`
}

// ImportOptions says where secrets come from and whether to write.
type ImportOptions struct {
	// Secrets holds secret values by "plugin/name" and then field name, for
	// secrets kept in a separate file.
	Secrets map[string]map[string]string
	// Getenv resolves "env:NAME" references (os.LookupEnv in the command);
	// nil refuses them, as the API must.
	Getenv func(string) (string, bool)
	// DryRun validates and reports without writing.
	DryRun bool
}

// ErrImportInvalid is returned with the results when any configuration of
// an import is refused; nothing is written then.
var ErrImportInvalid = errors.New("the import has invalid configurations; nothing was changed")

// Export returns every configuration, secrets left out, in a stable order.
func (s *Service) Export(ctx context.Context) (ExportFile, error) {
	cs, err := s.Configs(ctx, "")
	if err != nil {
		return ExportFile{}, err
	}
	slices.SortFunc(cs, func(a, b Config) int {
		if c := strings.Compare(a.Plugin, b.Plugin); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	out := ExportFile{Format: ExportFormat, Configurations: make([]ExportedConfig, 0, len(cs))}
	for _, c := range cs {
		// view() has already emptied every secret field.
		app, err := json.Marshal(c.Appliance)
		if err != nil {
			return ExportFile{}, err
		}
		settings, err := json.Marshal(c.Settings)
		if err != nil {
			return ExportFile{}, err
		}
		out.Configurations = append(out.Configurations, ExportedConfig{Plugin: c.Plugin, Appliance: app, Settings: settings})
	}
	return out, nil
}

// Import creates or updates the configurations of f, matched by plugin and
// name, validated exactly as the form validates. Every configuration is
// checked before anything is written: if one is invalid, the results say
// why and nothing changes (ErrImportInvalid).
func (s *Service) Import(ctx context.Context, actor string, f ExportFile, opts ImportOptions) ([]ImportResult, error) {
	if f.Format != ExportFormat {
		return nil, fmt.Errorf("not a Switchboard configuration file: format %q, want %q", f.Format, ExportFormat)
	}
	existing, err := s.Configs(ctx, "")
	if err != nil {
		return nil, err
	}
	type planned struct {
		in ConfigInput
		id int64
	}
	plan := make([]planned, len(f.Configurations))
	results := make([]ImportResult, len(f.Configurations))
	seen := map[string]bool{}
	invalid := false
	for i, ec := range f.Configurations {
		r := &results[i]
		r.Plugin = ec.Plugin
		in, name, errs, checkable := s.importInput(ec, opts)
		r.Name = name
		key := ec.Plugin + "/" + name
		switch {
		case !checkable:
		case seen[key]:
			errs = append(errs, engine.FieldError{Field: "name", Message: "appears twice in the file"})
		default:
			seen[key] = true
			id, ambiguous := matchConfig(existing, ec.Plugin, name)
			if ambiguous {
				errs = append(errs, engine.FieldError{Field: "name", Message: "two stored configurations have this name; rename one in the admin UI first"})
				break
			}
			plan[i] = planned{in: in, id: id}
			r.ID = id
			var checkErrs engine.FieldErrors
			r.Action, r.Changes, checkErrs = s.importCheck(ctx, in, id)
			errs = append(errs, checkErrs...)
		}
		if len(errs) > 0 {
			r.Action, r.Errors, invalid = ImportInvalid, errs, true
		}
	}
	if invalid {
		return results, ErrImportInvalid
	}
	if opts.DryRun {
		return results, nil
	}
	for i, p := range plan {
		r := &results[i]
		switch r.Action {
		case ImportCreated:
			c, err := s.CreateConfig(ctx, actor, p.in)
			if err != nil {
				return results, fmt.Errorf("import %s: %w", r.Name, err)
			}
			r.ID = c.ID
		case ImportUpdated:
			if _, err := s.UpdateConfig(ctx, actor, p.id, p.in); err != nil {
				return results, fmt.Errorf("import %s: %w", r.Name, err)
			}
		}
	}
	return results, nil
}

// importCheck validates one configuration against what is stored (id 0:
// nothing) and says what applying it would do.
func (s *Service) importCheck(ctx context.Context, in ConfigInput, id int64) (string, []Change, engine.FieldErrors) {
	if id == 0 {
		_, _, _, errs, err := s.prepare(in, nil)
		if err != nil {
			return "", nil, engine.FieldErrors{{Field: "plugin", Message: err.Error()}}
		}
		return ImportCreated, nil, errs
	}
	stored, err := s.Load(ctx, id)
	if err != nil {
		return "", nil, engine.FieldErrors{{Message: err.Error()}}
	}
	_, app, settings, errs, err := s.prepare(in, stored)
	if err != nil {
		return "", nil, engine.FieldErrors{{Field: "plugin", Message: err.Error()}}
	}
	if len(errs) > 0 {
		return "", nil, errs
	}
	changes := append(diffFields(&stored.Appliance, &app), diffFields(stored.Settings, settings)...)
	if len(changes) == 0 {
		return ImportUnchanged, nil, nil
	}
	return ImportUpdated, changes, nil
}

// importInput turns one exported configuration into a submission, with its
// secret fields resolved from the file, the environment or the secrets map.
// checkable is false when it cannot be validated further (no name, no such
// plugin, not JSON objects).
func (s *Service) importInput(ec ExportedConfig, opts ImportOptions) (in ConfigInput, name string, errs engine.FieldErrors, checkable bool) {
	in = ConfigInput{Plugin: ec.Plugin}
	var app, settings map[string]any
	if err := decodeObject(ec.Appliance, &app); err != nil {
		return in, "", engine.FieldErrors{{Field: "appliance", Message: err.Error()}}, false
	}
	name, _ = app["name"].(string)
	if name == "" {
		return in, "", engine.FieldErrors{{Field: "name", Message: "is required: configurations are matched by name"}}, false
	}
	p, err := s.plugin(ec.Plugin)
	if err != nil {
		return in, name, engine.FieldErrors{{Field: "plugin", Message: err.Error()}}, false
	}
	if err := decodeObject(ec.Settings, &settings); err != nil {
		return in, name, engine.FieldErrors{{Field: "settings", Message: err.Error()}}, false
	}
	fromFile := opts.Secrets[ec.Plugin+"/"+name]
	resolve := func(obj map[string]any, refs []engine.SecretRef) {
		for _, ref := range refs {
			v, _ := obj[ref.Name].(string)
			if env, ok := strings.CutPrefix(v, "env:"); ok {
				if opts.Getenv == nil {
					// Through the API the engine's own environment (its secret
					// key among it) must not be reachable.
					errs = append(errs, engine.FieldError{Field: ref.Name, Message: "env: references are resolved only by the switchboard config import command; send the value"})
					continue
				}
				val, found := opts.Getenv(env)
				if !found {
					errs = append(errs, engine.FieldError{Field: ref.Name, Message: fmt.Sprintf("refers to environment variable %s, which is not set", env)})
					continue
				}
				v = val
			}
			if v == "" {
				v = fromFile[ref.Name]
			}
			if v == "" {
				delete(obj, ref.Name) // keep the stored value where allowed
				continue
			}
			obj[ref.Name] = v
		}
	}
	appDefaults := engine.DefaultApplianceSettings(p.Info().Events)
	resolve(app, engine.Secrets(&appDefaults))
	resolve(settings, engine.Secrets(p.Info().NewSettings()))
	in.Appliance, _ = json.Marshal(app)
	in.Settings, _ = json.Marshal(settings)
	return in, name, errs, true
}

func decodeObject(raw json.RawMessage, dst *map[string]any) error {
	if len(raw) == 0 || string(raw) == "null" {
		*dst = map[string]any{}
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("must be a JSON object: %w", err)
	}
	if *dst == nil {
		*dst = map[string]any{}
	}
	return nil
}

// matchConfig finds the stored configuration of a plugin by name.
func matchConfig(cs []Config, plugin, name string) (id int64, ambiguous bool) {
	for _, c := range cs {
		if c.Plugin == plugin && c.Name == name {
			if id != 0 {
				return 0, true
			}
			id = c.ID
		}
	}
	return id, false
}
