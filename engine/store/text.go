package store

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Text from outside (a posted external_key or survey timestamp, a remote's
// answer quoted in an attempt's error, cut at a byte count) may hold a NUL
// byte or bytes that are not UTF-8, which PostgreSQL's TEXT refuses: the
// post would get a 503 at every resend, stalling the appliance, and the
// attempt's outcome would be lost. Such text is made storable the same way
// on both dialects. The posted fields themselves are kept form-encoded,
// every byte intact (see Event.Values).

// clean reports whether s can be stored as it is.
func clean(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

// storableText is s with each NUL byte and each invalid byte sequence
// replaced by U+FFFD: text shown to people.
func storableText(s string) string {
	if clean(s) {
		return s
	}
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", "\uFFFD"), "\uFFFD")
}

// storableKey is a dedupe key that can be stored, without merging two
// keys: one that is not clean is quoted in ASCII, which escapes the 0x1f
// that separates the parts of every clean key built by engine.DedupeKey.
func storableKey(s string) string {
	if clean(s) {
		return s
	}
	return strconv.QuoteToASCII(s)
}
