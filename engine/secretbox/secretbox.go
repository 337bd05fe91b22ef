// Package secretbox encrypts secret settings at rest with AES-256-GCM. The
// key lives in a file of the data directory (created with mode 0600 on
// first start) or comes from the environment, never from the database, so a
// copied database file alone reveals no secret.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
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

// version prefixes sealed data, so the format can change later.
const version byte = 1

// Box seals and opens secrets.
type Box struct{ aead cipher.AEAD }

// New makes a Box from a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secretbox: key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Load returns the Box for a data directory. envKey, when not empty, is the
// base64 key (SWITCHBOARD_SECRET_KEY) and wins; otherwise the key file is
// read, or created with a random key on first start.
func Load(dataDir, envKey string) (*Box, error) {
	if envKey != "" {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(envKey))
		if err != nil {
			return nil, errors.New("secretbox: SWITCHBOARD_SECRET_KEY is not valid base64")
		}
		return New(key)
	}
	path := filepath.Join(dataDir, KeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return create(path)
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

func create(path string) (*Box, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("secretbox: create data directory: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	// O_EXCL: two processes starting at once must not write two keys.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return Load(filepath.Dir(path), "")
	}
	if err != nil {
		return nil, fmt.Errorf("secretbox: create key file: %w", err)
	}
	_, werr := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, fmt.Errorf("secretbox: write key file: %w", werr)
	}
	return New(key)
}

// Seal encrypts plaintext; associated binds the result to its owner (a
// configuration id), so sealed values cannot be swapped between rows.
func (b *Box) Seal(plaintext, associated []byte) []byte {
	nonce := make([]byte, b.aead.NonceSize(), 1+b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic("secretbox: no randomness: " + err.Error())
	}
	out := append([]byte{version}, nonce...)
	return b.aead.Seal(out, nonce, plaintext, associated)
}

// ErrCannotOpen means the sealed data was made with another key or altered.
var ErrCannotOpen = errors.New("secretbox: cannot decrypt stored secrets: the key file does not match the database (was secret.key replaced?)")

// Open decrypts what Seal produced.
func (b *Box) Open(sealed, associated []byte) ([]byte, error) {
	ns := b.aead.NonceSize()
	if len(sealed) < 1+ns || sealed[0] != version {
		return nil, ErrCannotOpen
	}
	out, err := b.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], associated)
	if err != nil {
		return nil, ErrCannotOpen
	}
	return out, nil
}
