package plugintest

import (
	"context"
	"maps"
	"testing"
	"time"

	"switchboard/engine"
)

// Suite is what a plugin hands Conformance: the plugin, how to make one
// request its way, its API's own answers, and its idempotence cases.
type Suite struct {
	Plugin engine.Plugin
	// Answers are the cases the plugin's API adds to RetryTable.
	Answers []Answer
	// Call makes one request to url the way the plugin does, with Secrets
	// in its credentials, and returns the plugin's classified error.
	Call Call
	// Secrets must never appear in an error Call returns.
	Secrets []string
	// Idempotence are the deliveries whose external writes RunIdempotence
	// checks; a plugin that writes must give at least one.
	Idempotence []IdempotenceCase
	// TestButton, for a plugin that declares engine.Tester, returns a
	// configuration for its Test and a count of the remote's writes: a
	// Test must leave the count as it found it.
	TestButton func(t *testing.T) (cfg *engine.TestConfig, writes func() map[string]int)
}

// Conformance is the whole kit in one call: the settings struct, the
// retry table with no secret in any error, the idempotence cases, and, for
// a plugin with a Test button, that Test never writes. A new plugin gets
// all of it by calling Conformance from one test.
func Conformance(t *testing.T, s Suite) {
	t.Helper()
	t.Run("settings", func(t *testing.T) {
		t.Parallel()
		CheckSettings(t, s.Plugin)
	})
	t.Run("retry table", func(t *testing.T) {
		t.Parallel()
		if s.Call == nil {
			t.Fatal("the suite has no Call: give one request the plugin's way")
		}
		RunRetryTable(t, append(RetryTable(), s.Answers...), func(ctx context.Context, url string) error {
			err := s.Call(ctx, url)
			AssertNoSecret(t, err, s.Secrets...)
			return err
		})
	})
	t.Run("idempotence", func(t *testing.T) {
		t.Parallel()
		if len(s.Idempotence) == 0 {
			t.Fatal("the suite has no idempotence case: give one per kind of delivery that writes")
		}
		RunIdempotence(t, s.Idempotence)
	})
	tester, isTester := s.Plugin.(engine.Tester)
	if !isTester {
		return
	}
	t.Run("test button never writes", func(t *testing.T) {
		t.Parallel()
		if s.TestButton == nil {
			t.Fatal("the plugin declares engine.Tester but the suite has no TestButton")
		}
		cfg, writes := s.TestButton(t)
		before := writes()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		checks := tester.Test(ctx, cfg)
		if len(checks) == 0 {
			t.Fatal("Test returned no checks")
		}
		for _, c := range checks {
			AssertNoSecret(t, errorText(c.Message+" "+c.Detail), s.Secrets...)
		}
		if after := writes(); !maps.Equal(before, after) {
			t.Fatalf("Test wrote to the remote: %v before, %v after", before, after)
		}
	})
}

type errorText string

func (e errorText) Error() string { return string(e) }
