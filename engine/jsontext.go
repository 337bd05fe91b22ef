package engine

import (
	"bytes"
	"encoding/json"
	"strings"
)

// JSONText is a setting that holds JSON as the admin typed it: line breaks,
// key order and characters such as < and & are kept, so the form shows
// back exactly what was saved. It reads either JSON (an object from the
// API or a file) or a JSON string holding the text (a form's textarea),
// and keeps the text even when it is not valid JSON, so that the plugin's
// validation reports the mistake next to the field instead of failing the
// whole decode. It is written as a JSON string: encoding/json would
// compact an object and escape < as \u003c.
type JSONText string

// UnmarshalJSON keeps a string's content, or JSON's text with the \u003c,
// \u003e and \u0026 escapes that encoding/json adds turned back into the
// characters (what an older version stored).
func (t *JSONText) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*t = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = JSONText(s)
	default:
		*t = JSONText(UnescapeHTMLInJSON(string(b)))
	}
	return nil
}

// MarshalJSON writes the text as a JSON string.
func (t JSONText) MarshalJSON() ([]byte, error) { return json.Marshal(string(t)) }

// htmlEscapes are the escapes encoding/json writes for HTML-safe output.
var htmlEscapes = map[string]string{`\u003c`: "<", `\u003e`: ">", `\u0026`: "&"}

// UnescapeHTMLInJSON turns the \u003c, \u003e and \u0026 escapes inside
// the strings of JSON text back into <, > and &, leaving every other byte,
// and an escaped backslash before "u003c", as it is.
func UnescapeHTMLInJSON(text string) string {
	if !strings.Contains(text, `\u00`) {
		return text
	}
	var b strings.Builder
	inString := false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '"':
			inString = !inString
		case c == '\\' && inString && i+1 < len(text):
			if i+6 <= len(text) {
				if r, ok := htmlEscapes[strings.ToLower(text[i:i+6])]; ok {
					b.WriteString(r)
					i += 5
					continue
				}
			}
			b.WriteByte(c)
			b.WriteByte(text[i+1])
			i++
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// MarshalPlain is json.Marshal without the HTML escapes (< stays <): for
// JSON that people read, which the page's own escaping makes safe.
func MarshalPlain(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
