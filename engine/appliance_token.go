package engine

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
)

// Bounds of an outbound event token. The characters are those a URL
// carries unescaped, so the token the admin types is the one the appliance
// sends, whatever its URL field does with escapes.
const (
	MinIntakeToken = 16
	MaxIntakeToken = 128
)

// IntakeTokenProblem says why t cannot be an outbound event token, or ""
// (an empty token is valid: the configuration sets none). The message
// never quotes the token.
func IntakeTokenProblem(t string) string {
	if t == "" {
		return ""
	}
	if len(t) < MinIntakeToken || len(t) > MaxIntakeToken {
		return fmt.Sprintf("must be %d to %d characters long (e.g. the output of openssl rand -hex 32)", MinIntakeToken, MaxIntakeToken)
	}
	for i := 0; i < len(t); i++ {
		if b := t[i]; !isAlnumByte(b) && b != '-' && b != '_' && b != '.' && b != '~' {
			return "may hold only letters, digits, '-', '_', '.' and '~', so that it travels in a URL unchanged"
		}
	}
	return ""
}

func isAlnumByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

// IntakeTokenMatches reports whether presented is one of accepted. It
// compares SHA-256 digests in constant time, so neither the time taken nor
// an early exit tells a guesser how much of a token was right, or how long
// the tokens are; every accepted token is compared.
func IntakeTokenMatches(presented string, accepted []Secret) bool {
	got := sha256.Sum256([]byte(presented))
	match := 0
	for _, a := range accepted {
		if !a.IsSet() {
			continue
		}
		want := sha256.Sum256([]byte(a.Reveal()))
		match |= subtle.ConstantTimeCompare(got[:], want[:])
	}
	return match == 1
}
