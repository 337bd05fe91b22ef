package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// CleanText returns s as a plugin sends it to a remote system. Text from
// an appliance can hold C0 control characters (a chat's encoded_body
// decodes to NUL, ESC, BEL, VT, FF...) that a ticket or a log line cannot
// show and some APIs refuse, so:
//
//   - a tab and a newline stay;
//   - a carriage return becomes a newline, and CR LF one newline;
//   - every other C0 control character (U+0000–U+001F) is removed, with
//     nothing in its place: a NUL between the letters of text decoded from
//     UTF-16 would otherwise leave a mark after every letter, and what an
//     escape sequence leaves ("[31m") still shows where it was.
//
// DEL and the C1 controls are left alone; so is everything else.
func CleanText(s string) string {
	i := strings.IndexFunc(s, needsCleaning)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				continue // the LF that follows is the newline
			}
			b.WriteByte('\n')
		case c < 0x20 && c != '\t' && c != '\n':
		default:
			b.WriteByte(c) // UTF-8 continuation bytes are never below 0x80
		}
	}
	return b.String()
}

func needsCleaning(r rune) bool { return r < 0x20 && r != '\t' && r != '\n' }

// MarshalClean is json.Marshal for what a plugin sends: every string in v
// (values and keys, at any depth) goes through CleanText. Every connector
// encodes its request bodies with it, so no text reaches a remote system
// uncleaned, whichever template or field it came from.
func MarshalClean(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if !hasControlEscape(raw) {
		return raw, nil
	}
	// Rare: decode, clean and encode again, keeping numbers exact.
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, fmt.Errorf("clean text: %w", err)
	}
	return json.Marshal(cleanTree(tree))
}

// hasControlEscape reports whether encoding/json wrote a control character:
// it escapes every one as \n, \r, \t, \b, \f or \u00XX. A false alarm (an
// escaped backslash followed by "r") only costs the slow path.
func hasControlEscape(raw []byte) bool {
	for i := bytes.IndexByte(raw, '\\'); i >= 0 && i+1 < len(raw); {
		switch raw[i+1] {
		case 'r', 'b', 'f':
			return true
		case 'u':
			if i+5 < len(raw) && raw[i+2] == '0' && raw[i+3] == '0' && (raw[i+4] == '0' || raw[i+4] == '1') {
				return true
			}
		}
		next := bytes.IndexByte(raw[i+2:], '\\')
		if next < 0 {
			return false
		}
		i += 2 + next
	}
	return false
}

func cleanTree(v any) any {
	switch v := v.(type) {
	case string:
		return CleanText(v)
	case []any:
		for i, x := range v {
			v[i] = cleanTree(x)
		}
		return v
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[CleanText(k)] = cleanTree(x)
		}
		return out
	}
	return v
}
