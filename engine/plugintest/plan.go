package plugintest

import (
	"encoding/json"
	"strings"
	"testing"

	"switchboard/engine"
)

// PlannedBody decodes a planned write's JSON body.
func PlannedBody(t testing.TB, w engine.PlannedWrite) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(w.Body, &m); err != nil {
		t.Fatalf("planned body %s: %v", w.Body, err)
	}
	return m
}

// PlanSteps is a dry run's explanations, one "topic: text" a line.
func PlanSteps(p *engine.Plan) string {
	var b strings.Builder
	for _, s := range p.Steps() {
		b.WriteString(s.Topic + ": " + s.Text + "\n")
	}
	return b.String()
}

// RefuseWrite is a simulator's RefuseWrites hook that fails t: a dry run
// must never reach it.
func RefuseWrite(t testing.TB, system string) func(method, path string) {
	return func(method, path string) { t.Errorf("a dry run wrote to %s: %s %s", system, method, path) }
}
