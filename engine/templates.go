package engine

import (
	"errors"
	"fmt"
	"sync"
	"time"
	// Reports name zones such as "Europe/Berlin"; embedding the zone
	// database keeps that working on hosts without one (Windows).
	_ "time/tzdata"

	"switchboard/engine/beyondtrust"
)

// Names of the templates every ticketing connector renders (engine/render
// ships a default of each).
const (
	TemplateSessionReport  = "session_report"
	TemplateCustomerSurvey = "customer_exit_survey"
	TemplateRepSurvey      = "rep_exit_survey"
)

// zones caches time.LoadLocation, which reads the zone database every call.
var zones sync.Map

// LoadZone is time.LoadLocation with a cache: reports render many times a
// second, and the zone database is read from disk on every load.
func LoadZone(name string) (*time.Location, error) {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, loc)
	return loc, nil
}

// RenderSession renders the template name (TemplateSessionReport, …) of
// the configuration for session s, every time shown in the report time
// zone its settings name (ReportZoner; UTC when they name none). A broken
// template's error is permanent by itself (the admin must fix it); a
// renderer bug is retried. Plugins render through it rather than through
// engine/render.
func (j *Job) RenderSession(name string, s *beyondtrust.Session) (string, error) {
	if j.Templates == nil {
		return "", Permanent(fmt.Errorf("no templates to render %s: %w", name, errNoTemplates))
	}
	var loc *time.Location
	if z, ok := j.Settings.(ReportZoner); ok {
		loc = z.Location()
	}
	return j.Templates.RenderSession(name, s, loc)
}

var errNoTemplates = errors.New("the configuration has no template set")
