package service

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"switchboard/engine"
)

// Duplicates lists the other enabled configurations that would deliver the
// same sessions to the same place as configuration id: the same plugin,
// the same appliance (host and Appliance Id) and the same destination (the
// settings its secrets are bound to, such as Autotask's username and
// Services URL). With both enabled, every session would be written twice.
// A disabled configuration is checked too, for what enabling it would do.
func (s *Service) Duplicates(ctx context.Context, id int64) ([]Config, error) {
	cfg, err := s.Config(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.duplicatesOf(ctx, cfg.Plugin, cfg.ID, cfg.Appliance, cfg.Settings)
}

// duplicatesOf lists the enabled configurations of plugin, other than id,
// that read the appliance app and write where settings say.
func (s *Service) duplicatesOf(ctx context.Context, plugin string, id int64, app engine.ApplianceSettings, settings any) ([]Config, error) {
	others, err := s.Configs(ctx, plugin)
	if err != nil {
		return nil, err
	}
	key := destination(app, settings)
	var out []Config
	for _, o := range others {
		if o.ID != id && !o.Disabled && destination(o.Appliance, o.Settings) == key {
			out = append(out, o)
		}
	}
	return out, nil
}

// duplicatesCheck is the Test button's twin of the form's duplicate
// warning: a warning, as the settings work; they just work twice.
func duplicatesCheck(dups []Config, plugin string) engine.Check {
	names := make([]string, len(dups))
	for i, d := range dups {
		names[i] = fmt.Sprintf("%q (id %d)", d.Name, d.ID)
	}
	verb := "is"
	if len(dups) > 1 {
		verb = "are"
	}
	return engine.Check{
		ID: "duplicates", Label: "No other configuration writes the same notes", Status: engine.CheckWarn,
		Message: fmt.Sprintf("Duplicate notes: %s %s enabled for the same appliance and the same %s destination. "+
			"With both enabled, every session is written twice. Point this one at another appliance or tenant, or keep one of them disabled.",
			strings.Join(names, ", "), verb, plugin),
	}
}

// destination is what says where a configuration reads and writes.
func destination(app engine.ApplianceSettings, settings any) string {
	parts := []string{strings.ToLower(strings.TrimSpace(app.Host)), strings.ToLower(app.ApplianceID)}
	var bound []string
	for _, f := range engine.Fields(settings, nil) {
		for _, b := range f.Binds {
			if b != "-" && !slices.Contains(bound, b) {
				bound = append(bound, b)
			}
		}
	}
	slices.Sort(bound)
	for _, b := range bound {
		v, _ := engine.FieldValue(settings, b)
		parts = append(parts, b+"="+strings.ToLower(strings.TrimSpace(fmt.Sprint(v))))
	}
	return strings.Join(parts, "\x00")
}
