package secretbox

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeyFile is the key's file name inside the data directory.
const KeyFile = "secret.key"

// EnvKey is the environment variable that, when set, holds the base64 key
// and wins over the key file.
const EnvKey = "SWITCHBOARD_SECRET_KEY"

// KeySource names where the key of a data directory comes from, for
// messages: the key file's path, or the environment variable.
func KeySource(dataDir, envKey string) string {
	if envKey != "" {
		return EnvKey
	}
	if abs, err := filepath.Abs(filepath.Join(dataDir, KeyFile)); err == nil {
		return abs
	}
	return filepath.Join(dataDir, KeyFile)
}

// ReadKey returns the Box of the key in envKey (base64, when not empty) or
// else in the data directory's key file. It never creates a key: a missing
// file is an error that matches fs.ErrNotExist.
func ReadKey(dataDir, envKey string) (*Box, error) {
	if envKey != "" {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(envKey))
		if err != nil {
			return nil, errors.New("secretbox: " + EnvKey + " is not valid base64")
		}
		return New(key)
	}
	path := filepath.Join(dataDir, KeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("secretbox: key file %s: %w", path, fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("secretbox: read key: %w", err)
	}
	if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("secretbox: %s is readable by other users (mode %v); run chmod 600 on it", path, info.Mode().Perm())
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("secretbox: %s is not a valid key file", path)
	}
	return New(key)
}

// CreateKey writes a new random key to the data directory's key file (mode
// 0600) and returns its Box. When the file appeared meanwhile (another
// process starting at the same time) that key is returned instead.
func CreateKey(dataDir string) (*Box, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("secretbox: create data directory: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	path := filepath.Join(dataDir, KeyFile)
	// O_EXCL: two processes starting at once must not write two keys.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return ReadKey(dataDir, "")
	}
	if err != nil {
		return nil, fmt.Errorf("secretbox: create key file: %w", err)
	}
	_, werr := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("secretbox: write key file: %w", werr)
	}
	return New(key)
}
