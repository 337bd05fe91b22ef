package service

import (
	"context"

	"switchboard/engine"
)

// ValidateConfig checks a submission as CreateConfig (id 0) or UpdateConfig
// (id of the stored configuration) would, and saves nothing. The admin UI
// calls it when the form itself found a value it could not read (a number
// that is not one), so the admin still sees everything else that is wrong
// in one go.
func (s *Service) ValidateConfig(ctx context.Context, id int64, in ConfigInput) (engine.FieldErrors, error) {
	var stored *Loaded
	if id != 0 {
		l, err := s.Load(ctx, id)
		if err != nil {
			return nil, err
		}
		stored = l
		if in.Plugin == "" {
			in.Plugin = l.Plugin.Info().ID
		}
	}
	_, _, _, errs, err := s.prepare(in, stored)
	return errs, err
}
