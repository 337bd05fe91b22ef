package engine

import "time"

// Optional capabilities of a plugin's settings struct. The engine looks
// for them by these names, so a plugin declares them with a guard
// (var _ engine.TemplateSetter = (*Settings)(nil)) rather than having a
// method that happens to match.

// TemplateSetter is a settings struct that names the template set its
// configuration renders with ("" for the admin's overrides and defaults).
type TemplateSetter interface {
	TemplateSet() string
}

// ReportZoner is a settings struct that names the time zone reports are
// rendered in (nil for UTC).
type ReportZoner interface {
	Location() *time.Location
}

// ConfigForgetter is a plugin that keeps something per configuration (a
// connector's cached client, see connector.Clients): the engine tells it
// when a configuration is deleted, so nothing of it outlives the deletion.
type ConfigForgetter interface {
	ForgetConfig(configID int64)
}

// Previewer is a plugin whose Handle can run as a dry run (Job.Plan):
// "Preview delivery" shows what a delivery would write without writing
// it. Its writes go through Job.Once and engine/outbound clients, its
// appliance writes through Job.Client, and it explains its decisions
// with Job.Explain (docs/connector-kit.md).
type Previewer interface {
	// PreviewEvents lists the events a preview can plan, in the order the
	// admin picks from.
	PreviewEvents() []string
}
