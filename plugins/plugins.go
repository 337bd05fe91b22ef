// Package plugins lists the connectors compiled into Switchboard.
package plugins

import (
	"switchboard/engine"
	"switchboard/plugins/autotask"
	"switchboard/plugins/connectwise"
	"switchboard/plugins/siem"
)

// All returns a fresh instance of every compiled-in plugin, sorted by ID.
// Adding a connector means adding it here.
func All() []engine.Plugin {
	return []engine.Plugin{
		autotask.New(),
		connectwise.New(),
		siem.New(),
	}
}
