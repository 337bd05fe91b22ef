// Package secretbox encrypts secret settings at rest with AES-256-GCM. The
// key lives in a file of the data directory (created with mode 0600 on
// first start) or comes from the environment, never from the database, so a
// copied database file alone reveals no secret. The database keeps a key
// check value (a fixed label sealed under the key) so that a lost or
// replaced key is refused at start; see Load.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
)

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

// Associated is the associated data a configuration's secrets are sealed
// with: sealed secrets cannot be moved to another configuration's row.
func Associated(configID int64) []byte {
	return []byte("configuration:" + strconv.FormatInt(configID, 10))
}

// AssociatedSource is the associated data of a stored source's secrets
// (a source and a configuration may share an id: the prefix keeps their
// sealed secrets apart).
func AssociatedSource(sourceID int64) []byte {
	return []byte("source:" + strconv.FormatInt(sourceID, 10))
}
