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
	others, err := s.Configs(ctx, cfg.Plugin)
	if err != nil {
		return nil, err
	}
	key := destination(cfg)
	var out []Config
	for _, o := range others {
		if o.ID != cfg.ID && !o.Disabled && destination(o) == key {
			out = append(out, o)
		}
	}
	return out, nil
}

// destination is what says where a configuration reads and writes.
func destination(c Config) string {
	parts := []string{strings.ToLower(strings.TrimSpace(c.Appliance.Host)), strings.ToLower(c.Appliance.ApplianceID)}
	var bound []string
	for _, f := range engine.Fields(c.Settings, nil) {
		for _, b := range f.Binds {
			if b != "-" && !slices.Contains(bound, b) {
				bound = append(bound, b)
			}
		}
	}
	slices.Sort(bound)
	for _, b := range bound {
		v, _ := engine.FieldValue(c.Settings, b)
		parts = append(parts, b+"="+strings.ToLower(strings.TrimSpace(fmt.Sprint(v))))
	}
	return strings.Join(parts, "\x00")
}
