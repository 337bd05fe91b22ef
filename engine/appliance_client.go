package engine

import (
	"context"
	"time"

	"switchboard/engine/beyondtrust"
)

// ApplianceProbe is what the Test button's appliance checks ask of the
// appliance (ApplianceChecks): reach it, get a token, read its API info and
// a session listing. It never writes.
type ApplianceProbe interface {
	Host() string
	Product() string
	CheckTLS(ctx context.Context) error
	Token(ctx context.Context) error
	APIInfo(ctx context.Context) (*beyondtrust.APIInfo, error)
	EndedSince(ctx context.Context, since time.Time) ([]beyondtrust.SessionSummary, error)
}

// ApplianceClient is the whole appliance client a configuration gets:
// what its deliveries (Appliance), its Test (ApplianceProbe) and its
// polling ask. *beyondtrust.Client is one; each consumer takes only the
// part it needs.
type ApplianceClient interface {
	Appliance
	ApplianceProbe
	Sessions(ctx context.Context, lsids []string) ([]*beyondtrust.Session, error)
	ExitSurveys(ctx context.Context, kind beyondtrust.SurveyKind, start time.Time, duration time.Duration) ([]beyondtrust.SurveyRecord, error)
}

var _ ApplianceClient = (*beyondtrust.Client)(nil)

// LoadedConfig is a configuration decoded for use: its plugin, settings
// (secrets opened), appliance client and templates. The engine API
// (service.Loaded) hands it to the dispatcher, the poller and previews.
type LoadedConfig struct {
	ID        int64
	Plugin    Plugin
	Name      string
	Version   int
	Appliance ApplianceSettings
	// Settings is the plugin's settings struct pointer, shared by every
	// delivery of the configuration: read-only (see Job.Settings).
	Settings  any
	EnabledAt time.Time
	Client    ApplianceClient
	Templates Templates
}
