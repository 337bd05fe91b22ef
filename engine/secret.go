package engine

import (
	"encoding/json"
	"log/slog"
)

// Secret is a setting that must never be shown again once saved: a password,
// an OAuth client secret, an API integration code. Declaring a settings field
// with this type is what makes it write-only in the admin form, encrypted at
// rest and redacted everywhere else.
//
// Every way of printing a Secret prints a mask; only Reveal gives the value,
// and only the code that talks to the remote API should call it.
type Secret struct{ value string }

// NewSecret wraps a plain value.
func NewSecret(v string) Secret { return Secret{value: v} }

// Reveal returns the plain value.
func (s Secret) Reveal() string { return s.value }

// IsSet reports whether a value is present.
func (s Secret) IsSet() bool { return s.value != "" }

const secretMask = "[redacted]"

func (s Secret) String() string {
	if s.value == "" {
		return ""
	}
	return secretMask
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return "engine.Secret{" + s.String() + "}" }

// LogValue keeps slog from printing the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON writes only the mask, so an accidental json.Marshal of a
// settings struct leaks nothing. The store reads secrets with Reveal.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads a plain JSON string, as a form or API client sends it.
func (s *Secret) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	s.value = v
	return nil
}
