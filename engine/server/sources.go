package server

import (
	"context"
	"fmt"
	"time"

	"switchboard/engine"
	"switchboard/engine/service"

	"switchboard/engine/sources/appliance"
	"switchboard/engine/sources/pmcloud"
	"switchboard/engine/store"
)

// loadSources gives the service the kinds of source and the names of the
// sources file's sources, and reads the sources stored in the admin UI. A
// name in both is refused here, before anything polls.
func (s *Server) loadSources(ctx context.Context) error {
	names := map[string]string{}
	for _, set := range s.opts.Sources {
		names[set.Name] = pmcloud.Source
	}
	for _, set := range s.opts.ApplianceSources {
		if kind, ok := names[set.Name]; ok {
			return fmt.Errorf("sources file: a %s source and an appliance source are both named %q", kind, set.Name)
		}
		names[set.Name] = appliance.Source
	}
	s.Service.SetFileSources(names)
	return s.Service.LoadSources(ctx)
}

// configured are the sources of one kind configured now: the sources
// file's, then the admin UI's, with when each was enabled (a first poll
// starts first-fetch before it).
func configured[S interface {
	comparable
	engine.SourceSettings
}](svc *service.Service, kind string, file []S, started time.Time) ([]S, map[S]time.Time) {
	out := append([]S(nil), file...)
	enabled := map[S]time.Time{}
	for _, set := range file {
		enabled[set] = started
	}
	for _, src := range svc.StoredSources(kind) {
		if set, ok := src.Settings.(S); ok {
			out = append(out, set)
			enabled[set] = src.EnabledAt
		}
	}
	return out, enabled
}

// newSources builds the runner of the configured PM Cloud sources. Each
// cycle takes the sources as configured then (a source saved in the admin
// UI is polled without a restart) and resolves their Deliver To names
// against the configurations as they are then.
func (s *Server) newSources(wake func()) *pmcloud.Runner {
	started := time.Now()
	clients := &pmcloud.Clients{HTTP: s.opts.SourcesHTTP}
	s.pmClients = clients
	s.Service.SetSources(&pmcloud.Catalog{Clients: clients, List: func() []*pmcloud.Settings {
		list, _ := configured(s.Service, pmcloud.Source, s.opts.Sources, started)
		return list
	}})
	p := &pmcloud.Poller{Store: s.Store, Owner: store.NewOwner(), Log: s.log, Wake: wake}
	return &pmcloud.Runner{Poller: p, Targets: func() []pmcloud.Target {
		list, enabled := configured(s.Service, pmcloud.Source, s.opts.Sources, started)
		clients.Retain(list)
		out := make([]pmcloud.Target, 0, len(list))
		for _, set := range list {
			c, err := clients.For(set)
			if err != nil {
				s.log.Warn("pmcloud: source not polled", "source", set.Name, "err", err)
				continue
			}
			out = append(out, pmcloud.Target{Settings: set, Client: c, EnabledAt: enabled[set], Deliveries: s.sourceDeliveries(set.DeliverTo)})
		}
		return out
	}}
}

// sourceDeliveries are the enabled configurations a source's Deliver To
// names; a name that matches none is left out (its records are stored
// unrouted, visible in the event log).
func (s *Server) sourceDeliveries(deliverTo []string) []store.NewDelivery {
	var out []store.NewDelivery
	for _, name := range deliverTo {
		for _, c := range s.Routes.Configs() {
			if c.Name == name && !c.Appliance.Disabled {
				out = append(out, store.NewDelivery{ConfigID: c.ID, Plugin: c.Plugin.Info().ID, MaxAttempts: 1 + c.Appliance.RetryAttemptLimit})
			}
		}
	}
	return out
}

// newApplianceSources builds the runner of the configured appliance
// activity sources (Team, VaultAccountActivity, Syslog), whose clients share
// the process's token cache and trust what the configurations' clients do.
func (s *Server) newApplianceSources(wake func(), owner string) *appliance.Runner {
	started := time.Now()
	clients := &appliance.Clients{Tokens: s.opts.Tokens, RootCAs: s.opts.ApplianceRootCAs}
	s.Service.SetSources(&appliance.Catalog{Clients: clients, List: func() []*appliance.Settings {
		list, _ := configured(s.Service, appliance.Source, s.opts.ApplianceSources, started)
		return list
	}})
	p := &appliance.Poller{Store: s.Store, Owner: owner, Log: s.log, Wake: wake}
	return &appliance.Runner{Poller: p, Targets: func() []appliance.Target {
		list, enabled := configured(s.Service, appliance.Source, s.opts.ApplianceSources, started)
		clients.Retain(list)
		out := make([]appliance.Target, 0, len(list))
		for _, set := range list {
			out = append(out, appliance.Target{Settings: set, Client: clients.For(set), EnabledAt: enabled[set], Deliveries: s.sourceDeliveries(set.DeliverTo)})
		}
		return out
	}}
}
