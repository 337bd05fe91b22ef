package plugins

import (
	"testing"

	"switchboard/engine"
	"switchboard/engine/plugintest"
)

func TestAll(t *testing.T) {
	t.Parallel()
	all := All()
	if _, err := engine.NewRegistry(all...); err != nil {
		t.Fatal(err)
	}
	for _, p := range all {
		t.Run(p.Info().ID, func(t *testing.T) {
			t.Parallel()
			plugintest.CheckSettings(t, p)
		})
	}
}
