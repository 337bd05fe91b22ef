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
	_, _, _, errs, err := s.prepareFor(ctx, id, in)
	return errs, err
}
