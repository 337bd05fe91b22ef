// Package service is the engine's API: configurations, events, deliveries,
// retries, replays, tests and template previews. The admin UI, the JSON API
// and the CLI all go through it, so they cannot disagree.
package service

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"switchboard/engine"
	"switchboard/engine/beyondtrust"
	"switchboard/engine/render"
	"switchboard/engine/secretbox"
	"switchboard/engine/store"
)

// ErrNotFound is returned for an unknown configuration, event or delivery.
var ErrNotFound = store.ErrNotFound

// Options are the service's dependencies.
type Options struct {
	Store    *store.Store
	Registry *engine.Registry
	Box      *secretbox.Box
	Renderer *render.Renderer
	// Tokens is shared by every appliance client, so that configurations
	// using the same API account share one OAuth token.
	Tokens *beyondtrust.TokenCache
	// ApplianceRootCAs, when set, replaces the system roots for appliance
	// certificates (tests and the demo's simulated appliance).
	ApplianceRootCAs *x509.CertPool
	Logger           *slog.Logger
	// Wake is called after new work is queued (a retry, a replay).
	Wake func()
	// QueryTimeout bounds one investigation query (default QueryTimeout).
	QueryTimeout time.Duration
}

// Service is the engine API.
type Service struct {
	st       *store.Store
	reg      *engine.Registry
	box      *secretbox.Box
	renderer *render.Renderer
	tokens   *beyondtrust.TokenCache
	roots    *x509.CertPool
	log      *slog.Logger
	wake     func()

	mu     sync.Mutex
	loaded map[int64]*Loaded
	// generation counts configuration changes, so that a Load that read a
	// row before a change does not cache it after the change.
	generation uint64
	// stamp is the store's configuration stamp RefreshConfigs saw last.
	stamp    string
	watchers []func()
	// sources are the kinds of source, each listing its configured sources.
	sources []engine.SourceCatalog
	// stored are the sources configured in the admin UI.
	stored storedSources
	// templatesMu serialises SyncTemplates; templatesStamp is the
	// database's template stamp the renderer has.
	templatesMu     sync.Mutex
	templatesStamp  int64
	templatesSynced bool
	// afterConfigRead runs between reading a configuration row and caching
	// its decode; tests set it to hold a fill while a change commits.
	afterConfigRead func()
	// queries holds a token per investigation query running (MaxQueries).
	queries      chan struct{}
	queryTimeout time.Duration
}

// New builds the service.
func New(opts Options) (*Service, error) {
	if opts.Store == nil || opts.Registry == nil || opts.Box == nil || opts.Renderer == nil {
		return nil, errors.New("service: Store, Registry, Box and Renderer are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Tokens == nil {
		opts.Tokens = beyondtrust.NewTokenCache()
	}
	if opts.Wake == nil {
		opts.Wake = func() {}
	}
	if opts.QueryTimeout <= 0 {
		opts.QueryTimeout = QueryTimeout
	}
	return &Service{queryTimeout: opts.QueryTimeout,
		st: opts.Store, reg: opts.Registry, box: opts.Box, renderer: opts.Renderer,
		tokens: opts.Tokens, roots: opts.ApplianceRootCAs, log: opts.Logger, wake: opts.Wake,
		loaded: map[int64]*Loaded{}, queries: make(chan struct{}, MaxQueries),
	}, nil
}

// Registry returns the compiled-in plugins.
func (s *Service) Registry() *engine.Registry { return s.reg }

// OnConfigChange registers fn to run after any configuration changes, so
// that routing and polling pick changes up without a restart.
func (s *Service) OnConfigChange(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.watchers = append(s.watchers, fn)
}

func (s *Service) changed(id int64) {
	s.mu.Lock()
	delete(s.loaded, id)
	s.generation++
	watchers := append([]func(){}, s.watchers...)
	s.mu.Unlock()
	for _, fn := range watchers {
		fn()
	}
}

// PluginInfo describes a compiled-in plugin for the UI and the API.
type PluginInfo struct {
	ID              string         `json:"id"`
	Name            string         `json:"name"`
	Description     string         `json:"description"`
	Events          []string       `json:"events"`
	ApplianceFields []engine.Field `json:"appliance_fields"`
	SettingsFields  []engine.Field `json:"settings_fields"`
	HasTest         bool           `json:"has_test"`
}

// Plugins lists the compiled-in plugins.
func (s *Service) Plugins() []PluginInfo {
	var out []PluginInfo
	for _, p := range s.reg.All() {
		out = append(out, describe(p))
	}
	return out
}

// Plugin describes one plugin.
func (s *Service) Plugin(id string) (PluginInfo, error) {
	p, ok := s.reg.Get(id)
	if !ok {
		return PluginInfo{}, fmt.Errorf("plugin %q: %w", id, ErrNotFound)
	}
	return describe(p), nil
}

func describe(p engine.Plugin) PluginInfo {
	info := p.Info()
	_, testable := p.(engine.Tester)
	return PluginInfo{
		ID: info.ID, Name: info.Name, Description: info.Description, Events: info.Events,
		ApplianceFields: engine.Fields(&engine.ApplianceSettings{}, info.Events),
		SettingsFields:  engine.Fields(info.NewSettings(), info.Events),
		HasTest:         testable,
	}
}

func (s *Service) plugin(id string) (engine.Plugin, error) {
	p, ok := s.reg.Get(id)
	if !ok {
		return nil, engine.FieldErrors{{Field: "plugin", Message: fmt.Sprintf("%q is not a plugin of this build", id)}}
	}
	return p, nil
}
