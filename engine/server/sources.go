package server

import (
	"time"

	"switchboard/engine/sources/appliance"
	"switchboard/engine/sources/pmcloud"
	"switchboard/engine/store"
)

// newSources builds the runner of the configured PM Cloud sources. Each
// cycle resolves a source's Deliver To names against the configurations as
// they are then, so that a configuration added or renamed later is picked
// up without a restart.
func (s *Server) newSources(wake func()) *pmcloud.Runner {
	started := time.Now()
	clients := &pmcloud.Clients{HTTP: s.opts.SourcesHTTP}
	s.Service.SetSources(&pmcloud.Catalog{Settings: s.opts.Sources, Clients: clients})
	p := &pmcloud.Poller{Store: s.Store, Owner: store.NewOwner(), Log: s.log, Wake: wake}
	return &pmcloud.Runner{Poller: p, Targets: func() []pmcloud.Target {
		out := make([]pmcloud.Target, 0, len(s.opts.Sources))
		for _, set := range s.opts.Sources {
			c, err := clients.For(set)
			if err != nil {
				s.log.Warn("pmcloud: source not polled", "source", set.Name, "err", err)
				continue
			}
			out = append(out, pmcloud.Target{Settings: set, Client: c, EnabledAt: started, Deliveries: s.sourceDeliveries(set.DeliverTo)})
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
	p := &appliance.Poller{Store: s.Store, Owner: owner, Log: s.log, Wake: wake}
	return &appliance.Runner{Poller: p, Targets: func() []appliance.Target {
		out := make([]appliance.Target, 0, len(s.opts.ApplianceSources))
		for _, set := range s.opts.ApplianceSources {
			out = append(out, appliance.Target{Settings: set, Client: clients.For(set), EnabledAt: started, Deliveries: s.sourceDeliveries(set.DeliverTo)})
		}
		return out
	}}
}
