package pmcloud

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"switchboard/engine"
)

// fileSource is one entry of a sources file: the settings, and the
// environment variable that holds the client secret.
type fileSource struct {
	Settings
	ClientSecretEnv string `json:"client_secret_env"`
}

// LoadFile reads a sources file: a JSON array of PM Cloud sources, decoded
// strictly and validated. A client secret comes from the environment
// variable named by client_secret_env; one written in the file itself is
// accepted only when no one but the owner can read the file.
func LoadFile(path string, getenv func(string) (string, bool)) ([]*Settings, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pmcloud: sources file: %w", err)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("pmcloud: sources file %s: want a JSON array of sources: %w", path, err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	var out []*Settings
	names := map[string]bool{}
	for i, r := range raw {
		fs := fileSource{Settings: *NewSettings()}
		if err := engine.DecodeStrict(bytes.TrimSpace(r), &fs); err != nil {
			return nil, fmt.Errorf("pmcloud: sources file %s: source %d: %w", path, i+1, err)
		}
		if fs.ClientSecret.IsSet() && info.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("pmcloud: sources file %s holds a client secret but others may read it: chmod 600 it, or use client_secret_env", path)
		}
		if fs.ClientSecretEnv != "" {
			v, ok := getenv(fs.ClientSecretEnv)
			if !ok || v == "" {
				return nil, fmt.Errorf("pmcloud: sources file %s: source %d: environment variable %s is not set", path, i+1, fs.ClientSecretEnv)
			}
			fs.ClientSecret = engine.NewSecret(v)
		}
		set := fs.Settings
		if errs := engine.Validate(&set); len(errs) > 0 {
			return nil, fmt.Errorf("pmcloud: sources file %s: source %d (%s): %w", path, i+1, set.Name, errs)
		}
		if names[set.Name] {
			return nil, fmt.Errorf("pmcloud: sources file %s: two sources are named %q", path, set.Name)
		}
		names[set.Name] = true
		out = append(out, &set)
	}
	if len(out) == 0 {
		return nil, errors.New("pmcloud: sources file " + path + " names no source")
	}
	return out, nil
}
