package pmcloud

import (
	"errors"

	"switchboard/engine"
	"switchboard/engine/sources/sourcefile"
)

// fileSource is one entry of a sources file: the settings, and the
// environment variable that holds the client secret.
type fileSource struct {
	Kind string `json:"kind"` // "" or "pmcloud"
	Settings
	ClientSecretEnv string `json:"client_secret_env"`
}

func (f *fileSource) SecretRef() (*engine.Secret, string) { return &f.ClientSecret, f.ClientSecretEnv }
func (f *fileSource) Validated() any                      { return &f.Settings }
func (f *fileSource) SourceName() string                  { return f.Name }

// LoadFile reads the PM Cloud sources of a sources file (a JSON array; the
// entries without "kind", or of kind "pmcloud"), decoded strictly and
// validated. A client secret comes from the environment variable named by
// client_secret_env; one written in the file itself is accepted only when
// no one but the owner can read the file.
func LoadFile(path string, getenv func(string) (string, bool)) ([]*Settings, error) {
	entries, total, err := sourcefile.Load(path, sourcefile.KindPMCloud, "pmcloud", getenv,
		func() *fileSource { return &fileSource{Settings: *NewSettings()} })
	if err != nil {
		return nil, err
	}
	if total == 0 {
		return nil, errors.New("pmcloud: sources file " + path + " names no source")
	}
	out := make([]*Settings, len(entries))
	for i, e := range entries {
		out[i] = &e.Settings
	}
	return out, nil
}
