// Package engine is the contract between Switchboard's core and its plugins:
// what a plugin is, what a delivery job carries, how a plugin reports the
// outcome, and how settings structs describe themselves.
package engine

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"slices"
	"sort"
	"sync"
	"time"

	"switchboard/engine/beyondtrust"
)

// Event sources.
const (
	SourceOutbound = "outbound" // posted by the appliance
	SourcePoll     = "poll"     // found by polling the reporting API
)

// Plugin is a connector compiled into the binary.
type Plugin interface {
	Info() Info
	// Handle delivers one event to one configuration. It returns nil,
	// Permanent(err), RetryAfter(d, err), Skip(reason), or any other error,
	// which is retried. It never sleeps through a backoff itself.
	Handle(ctx context.Context, job *Job) error
}

// Tester is the optional capability behind the admin UI's Test button.
type Tester interface {
	// Test checks a configuration, saved or not, and never writes to the
	// remote system. Checks come back in the order they ran.
	Test(ctx context.Context, cfg *TestConfig) []Check
}

// Info describes a plugin to the registry, the admin UI and the docs.
type Info struct {
	ID          string
	Name        string
	Description string
	// Events are the event types the plugin can handle, in the order the
	// admin form lists them.
	Events []string
	// NewSettings returns a pointer to a settings struct holding defaults.
	NewSettings func() any
	// Concurrency caps deliveries in flight for this plugin (default 4).
	Concurrency int
	// Timeout bounds one delivery attempt (default 60s).
	Timeout time.Duration
	// Templates, when set, are the plugin's own default templates: <name>.hbs
	// files (and partials/<name>.hbs) at its root, typically an embed.FS.
	// For the plugin's configurations they come before the engine's
	// embedded defaults, under the admin's overrides and sets, and may add
	// names of their own.
	Templates fs.FS
	// Helpers are template helpers the plugin's templates may call, by
	// name. A name is the plugin's ID, an underscore and a letter then
	// letters and digits ("ticketer_priority"), so it can neither replace a
	// built-in helper nor another plugin's, and a template that calls it
	// says whose it is. A name outside that rule stops the engine at start.
	Helpers map[string]Helper
}

// Helper is a template helper a plugin registers (Info.Helpers).
type Helper struct {
	// Args is how many arguments a call takes, 0 to 2; a template calling
	// it with another count is refused when it is checked, as for the
	// built-in helpers. Hash arguments (key=value) are not passed.
	Args int
	// Text makes the helper's output from its arguments: the values the
	// template passed (string, int64, float64, bool, time.Time, a struct of
	// the session data…), nil for one that resolved to nothing. It must not
	// keep them. A panic fails the render with the helper's name.
	Text func(args ...any) string
}

// Event is something that happened on an appliance.
type Event struct {
	ID          int64
	ApplianceID string
	Name        string
	Source      string
	LSID        string
	ExternalKey string
	// Timestamp is when the appliance says it happened.
	Timestamp  time.Time
	ReceivedAt time.Time
	// Fields holds every posted field, as posted.
	Fields url.Values
}

// Appliance is what a delivery may ask of the appliance: its host, a
// session's report, and writing into a session (the ticket into its
// external key). *beyondtrust.Client has it; a dry run passes a
// *PlanAppliance, which records the write instead.
type Appliance interface {
	Host() string
	Session(ctx context.Context, lsid string) (*beyondtrust.Session, error)
	SetSessionAttributes(ctx context.Context, lsid string, externalKey *string, custom map[string]string) error
}

var _ Appliance = (*beyondtrust.Client)(nil)

// Templates renders report templates for one configuration: its own set if
// it names one, else the admin's overrides, else the embedded defaults.
type Templates interface {
	Render(name string, data any) (string, error)
	// RenderSession renders name for a session's data, times in loc (nil:
	// UTC); Job.RenderSession is how a plugin calls it.
	RenderSession(name string, s *beyondtrust.Session, loc *time.Location) (string, error)
}

// RefusedTemplates is implemented by Templates that can tell which of their
// templates are refused (a file or saved version that does not parse, while
// an older version or the next layer serves instead). The Test button
// reports each as a failed check: what serves is not what the admin wrote.
type RefusedTemplates interface {
	Refused() []string
}

// Links remembers what a configuration created for a session (a ticket, say),
// so later events of the same session find it.
type Links interface {
	Link(ctx context.Context, configID int64, lsid, kind string) (value string, ok bool, err error)
	SetLink(ctx context.Context, configID int64, lsid, kind, value string) error
}

// Job is one delivery attempt: one event for one configuration.
type Job struct {
	DeliveryID  int64
	Attempt     int // 1 on the first try
	MaxAttempts int
	Event       Event
	ConfigID    int64
	ConfigName  string
	Appliance   ApplianceSettings
	// Settings is the plugin's settings struct pointer, decoded and
	// validated. It is read-only: the same value serves every delivery of
	// the configuration, concurrently, until the configuration changes, so
	// a plugin never writes to it (nor to a map or slice it holds); what a
	// delivery works out goes in its own variables.
	Settings any
	// Client is the appliance (nil when the configuration has none).
	Client    Appliance
	Templates Templates
	// Checkpoint and Links write on behalf of this attempt only: once its
	// lease is lost they fail with an error wrapping ErrLeaseLost.
	Checkpoint *Checkpoint
	Links      Links
	// Lease is the attempt's hold on its delivery (nil outside the
	// dispatcher); see CheckLease.
	Lease Lease
	Log   *slog.Logger
	// Plan, when set, makes the attempt a dry run that writes nothing
	// (see Plan and DryRun).
	Plan *Plan

	result  string
	records []Record
}

// SetResult records a one-line summary of what the delivery did ("note
// 123 added to ticket T20240101.0001"), shown with the delivery.
func (j *Job) SetResult(summary string) { j.result = summary }

// Result returns what SetResult recorded.
func (j *Job) Result() string { return j.result }

// TestConfig is what the Test button checks: the form's current values,
// with stored secrets filled in for secret fields the admin left untouched.
type TestConfig struct {
	ConfigID  int64 // 0 for a configuration not saved yet
	Appliance ApplianceSettings
	Settings  any
	// Errors are the validation errors of the submitted values, if any.
	Errors FieldErrors
	// Client is the appliance, for the appliance checks (nil: they build
	// one from Appliance).
	Client    ApplianceProbe
	Templates Templates
	Log       *slog.Logger
}

// Check statuses.
const (
	CheckOK      = "ok"
	CheckWarn    = "warn"
	CheckFail    = "fail"
	CheckSkipped = "skipped"
)

// Check is one line of a Test result.
type Check struct {
	ID       string        `json:"id"`
	Label    string        `json:"label"`
	Status   string        `json:"status"`
	Message  string        `json:"message"`
	Detail   string        `json:"detail,omitempty"`
	Duration time.Duration `json:"duration_ns"`
	// Errors name the settings a failed check blames, each with what to
	// fix; the admin form marks those fields.
	Errors FieldErrors `json:"errors,omitempty"`
}

// Blame names the settings a check's failure is about, with the check's
// message. A check that did not fail blames nothing.
func (c Check) Blame(fields ...string) Check {
	if c.Status != CheckFail {
		return c
	}
	for _, f := range fields {
		c.Errors = append(c.Errors, FieldError{Field: f, Message: c.Message})
	}
	return c
}

// Checkpoint records the external writes a delivery has made, so that a
// retry never repeats them. By default each Set is persisted before it
// returns. Under the dispatcher it is written behind (WriteBehind): a Set
// is kept in memory until the next remote write is announced (Flush, which
// Job.CheckLease calls) or the attempt finishes, whose transaction carries
// it (Unsaved). The record of a write is thus durable before any later
// write begins, as before, but the last one costs no transaction of its
// own.
type Checkpoint struct {
	mu     sync.Mutex
	values map[string]string
	save   func(ctx context.Context, values map[string]string) error
	// behind is set by WriteBehind; hold is the check a deferred Set
	// still makes at once (the attempt's lease, by its own clock).
	behind bool
	hold   func() error
	// dirty counts Sets not yet persisted.
	dirty int
}

// NewCheckpoint starts from values; save persists a copy after every Set.
func NewCheckpoint(values map[string]string, save func(ctx context.Context, values map[string]string) error) *Checkpoint {
	if values == nil {
		values = map[string]string{}
	}
	return &Checkpoint{values: values, save: save}
}

// WriteBehind makes Set keep values in memory until Flush, and returns c.
// hold, if not nil, is checked by every Set, so that an attempt that has
// lost its lease learns it at once, as a written-through Set would tell it.
func (c *Checkpoint) WriteBehind(hold func() error) *Checkpoint {
	c.behind, c.hold = true, hold
	return c
}

// Get returns a recorded value.
func (c *Checkpoint) Get(key string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.values[key]
	return v, ok
}

// Set records a value. Written through, it is persisted before Set
// returns; written behind, it is persisted by the next Flush or by the
// attempt's finish, except when ctx has ended (a shutdown or a lost lease:
// no finish may follow), which writes it through.
func (c *Checkpoint) Set(ctx context.Context, key, value string) error {
	c.mu.Lock()
	c.values[key] = value
	c.dirty++
	behind := c.behind && ctx.Err() == nil
	c.mu.Unlock()
	if behind {
		if c.hold != nil {
			if err := c.hold(); err != nil {
				return fmt.Errorf("save checkpoint %s: %w", key, err)
			}
		}
		return nil
	}
	if err := c.Flush(ctx); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", key, err)
	}
	return nil
}

// Flush persists what Set recorded and was not yet persisted.
func (c *Checkpoint) Flush(ctx context.Context) error {
	snapshot, dirty := c.Unsaved()
	if dirty == 0 || c.save == nil {
		return nil
	}
	if err := c.save(ctx, snapshot); err != nil {
		return err
	}
	c.Saved(dirty)
	return nil
}

// Unsaved returns a copy of every value, and how many Sets since the last
// save it holds (0: nothing to persist). A caller that persists the copy
// reports it with Saved.
func (c *Checkpoint) Unsaved() (map[string]string, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dirty == 0 {
		return nil, 0
	}
	out := make(map[string]string, len(c.values))
	for k, v := range c.values {
		out[k] = v
	}
	return out, c.dirty
}

// Saved records that the copy Unsaved returned with dirty Sets was
// persisted; Sets made since then remain to be saved.
func (c *Checkpoint) Saved(dirty int) {
	c.mu.Lock()
	c.dirty = max(c.dirty-dirty, 0)
	c.mu.Unlock()
}

// Values returns a copy of everything recorded.
func (c *Checkpoint) Values() map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]string, len(c.values))
	for k, v := range c.values {
		out[k] = v
	}
	return out
}

// Registry is the set of compiled-in plugins.
type Registry struct {
	byID  map[string]Plugin
	order []string
}

// NewRegistry builds a registry and refuses a duplicate or empty ID or a
// plugin without settings.
func NewRegistry(plugins ...Plugin) (*Registry, error) {
	r := &Registry{byID: map[string]Plugin{}}
	for _, p := range plugins {
		info := p.Info()
		switch {
		case info.ID == "":
			return nil, fmt.Errorf("plugin %T has no ID", p)
		case r.byID[info.ID] != nil:
			return nil, fmt.Errorf("plugin ID %q is registered twice", info.ID)
		case info.NewSettings == nil:
			return nil, fmt.Errorf("plugin %q has no NewSettings", info.ID)
		}
		if err := CheckSecretBindings(info.NewSettings()); err != nil {
			return nil, fmt.Errorf("plugin %q: %w", info.ID, err)
		}
		r.byID[info.ID] = p
		r.order = append(r.order, info.ID)
	}
	sort.Strings(r.order)
	return r, nil
}

// Get returns the plugin with that ID.
func (r *Registry) Get(id string) (Plugin, bool) {
	p, ok := r.byID[id]
	return p, ok
}

// Templates returns the default templates of the plugins that ship some
// (Info.Templates), by plugin ID, for render.Options.PluginTemplates.
func (r *Registry) Templates() map[string]fs.FS {
	out := map[string]fs.FS{}
	for id, p := range r.byID {
		if t := p.Info().Templates; t != nil {
			out[id] = t
		}
	}
	return out
}

// Helpers returns the template helpers of the plugins that register some
// (Info.Helpers), by plugin ID, for render.Options.PluginHelpers.
func (r *Registry) Helpers() map[string]map[string]Helper {
	out := map[string]map[string]Helper{}
	for id, p := range r.byID {
		if h := p.Info().Helpers; len(h) > 0 {
			out[id] = h
		}
	}
	return out
}

// All returns the plugins sorted by ID.
func (r *Registry) All() []Plugin {
	out := make([]Plugin, 0, len(r.order))
	for _, id := range r.order {
		out = append(out, r.byID[id])
	}
	return out
}

// Handles reports whether the plugin takes that event type.
func (i Info) Handles(event string) bool { return slices.Contains(i.Events, event) }
