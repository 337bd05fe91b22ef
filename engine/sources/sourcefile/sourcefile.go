// Package sourcefile reads the sources file given to serve --sources: a JSON
// array of sources of several kinds, each entry decoded strictly by the
// loader of its kind, with its client secret taken from an environment
// variable or, only when the file is private to its owner, from the file.
package sourcefile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"switchboard/engine"
)

// Kinds of source. An entry without "kind" is a PM Cloud source.
const (
	KindPMCloud   = "pmcloud"
	KindAppliance = "appliance"
)

// Entry is what a loader decodes one source into.
type Entry interface {
	// SecretRef is the settings' client secret and the environment
	// variable named to hold it ("" when none is).
	SecretRef() (secret *engine.Secret, env string)
	// Validated is what engine.Validate checks (the settings).
	Validated() any
	// SourceName names the source; two sources of one kind may not share it.
	SourceName() string
}

// Load reads the entries of one kind from the file at path. fresh returns
// an entry holding the kind's defaults. prefix starts every error
// ("pmcloud", "appliance"). total counts the sources of every kind.
func Load[E Entry](path, kind, prefix string, getenv func(string) (string, bool), fresh func() E) (out []E, total int, err error) {
	fail := func(format string, args ...any) ([]E, int, error) {
		return nil, 0, fmt.Errorf(prefix+": sources file "+path+": "+format, args...)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: sources file: %w", prefix, err)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return fail("want a JSON array of sources: %w", err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, 0, err
	}
	names := map[string]bool{}
	for i, r := range raw {
		var peek struct {
			Kind string `json:"kind"`
		}
		_ = json.Unmarshal(r, &peek) // a non-object fails in DecodeStrict below
		switch k := peek.Kind; {
		case k != "" && k != KindPMCloud && k != KindAppliance:
			return fail("source %d: kind %q is neither %q (the default) nor %q", i+1, k, KindPMCloud, KindAppliance)
		case k == kind, k == "" && kind == KindPMCloud:
		default:
			continue
		}
		e := fresh()
		if err := engine.DecodeStrict(bytes.TrimSpace(r), e); err != nil {
			return fail("source %d: %w", i+1, err)
		}
		secret, env := e.SecretRef()
		if secret.IsSet() && info.Mode().Perm()&0o077 != 0 {
			return fail("holds a client secret but others may read it: chmod 600 it, or use client_secret_env")
		}
		if env != "" {
			v, ok := getenv(env)
			if !ok || v == "" {
				return fail("source %d: environment variable %s is not set", i+1, env)
			}
			*secret = engine.NewSecret(v)
		}
		if errs := engine.Validate(e.Validated()); len(errs) > 0 {
			return fail("source %d (%s): %w", i+1, e.SourceName(), errs)
		}
		if names[e.SourceName()] {
			return fail("two sources are named %q", e.SourceName())
		}
		names[e.SourceName()] = true
		out = append(out, e)
	}
	return out, len(raw), nil
}
