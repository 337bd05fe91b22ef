package outbound

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
)

// Mask replaces every form of a secret in redacted text.
const Mask = "[redacted]"

// minSecret is the shortest value Redactor hides: masking every "ab" of a
// text would hide more than it protects, and no credential is that short.
const minSecret = 4

// Redactor hides a connector's secrets in text that may echo a request
// back: an error body, a transport error, a Test result. It knows each
// secret in every form it can travel in: plain, Base64 (standard and URL
// alphabets, on its own and inside a longer Base64 text such as an HTTP
// Basic "user:secret"), URL-escaped (query and path) and JSON-escaped. The
// zero value and a nil *Redactor hide nothing. A Redactor is immutable
// once built and safe for concurrent use.
type Redactor struct {
	forms []string // longest first, so a long form is masked before its parts
}

// NewRedactor returns a redactor for secrets; values shorter than four
// bytes are ignored.
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{}
	for _, s := range secrets {
		r.add(s)
	}
	r.sort()
	return r
}

// WithBasic returns a copy that also hides the HTTP Basic credentials of
// user and password in every form (Base64 of "user:password", as the
// Authorization header carries them), and password itself.
func (r *Redactor) WithBasic(user, password string) *Redactor {
	out := &Redactor{}
	if r != nil {
		out.forms = slices.Clone(r.forms)
	}
	out.add(password)
	if len(password) >= minSecret {
		pair := user + ":" + password
		out.forms = append(out.forms, base64.StdEncoding.EncodeToString([]byte(pair)),
			base64.URLEncoding.EncodeToString([]byte(pair)))
	}
	out.sort()
	return out
}

// With returns a copy that also hides secrets: a credential known only
// per call, such as an OAuth access token.
func (r *Redactor) With(secrets ...string) *Redactor {
	out := &Redactor{}
	if r != nil {
		out.forms = slices.Clone(r.forms)
	}
	for _, s := range secrets {
		out.add(s)
	}
	out.sort()
	return out
}

func (r *Redactor) add(s string) {
	if len(s) < minSecret {
		return
	}
	forms := []string{s, url.QueryEscape(s), url.PathEscape(s), jsonEscaped(s, true), jsonEscaped(s, false)}
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		forms = append(forms, embeddedBase64(enc, s)...)
	}
	for _, f := range forms {
		if f != "" && !slices.Contains(r.forms, f) {
			r.forms = append(r.forms, f)
		}
	}
}

func (r *Redactor) sort() {
	slices.SortStableFunc(r.forms, func(a, b string) int { return len(b) - len(a) })
	r.forms = slices.Compact(r.forms)
}

// jsonEscaped is s as it appears between the quotes of a JSON string, with
// or without the HTML escapes encoding/json adds by default.
func jsonEscaped(s string, html bool) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	if enc.Encode(s) != nil {
		return ""
	}
	out := strings.TrimSuffix(b.String(), "\n")
	return strings.TrimSuffix(strings.TrimPrefix(out, `"`), `"`)
}

// embeddedBase64 returns, for each of the three byte alignments s can have
// inside a longer Base64 text, the run of characters that depends on s
// alone: the characters at either end also carry bits of the neighbouring
// bytes and are left out. This finds s in "user:secret" whatever the user.
func embeddedBase64(enc *base64.Encoding, s string) []string {
	var out []string
	for pad := 0; pad < 3; pad++ {
		text := enc.EncodeToString(append(make([]byte, pad), s...))
		first := (8*pad + 5) / 6         // first character made of s's bits only
		last := (8 * (pad + len(s))) / 6 // one past the last such character
		if last > len(text) {
			last = len(text)
		}
		if last-first >= minSecret {
			out = append(out, text[first:last])
		}
	}
	return out
}

// String returns s with every known form of every secret masked.
func (r *Redactor) String(s string) string {
	if r == nil {
		return s
	}
	for _, f := range r.forms {
		s = strings.ReplaceAll(s, f, Mask)
	}
	return s
}

// Cut is String for a text that was cut from a longer one (the first bytes
// of an answer): besides every whole form, it masks the beginning of a
// form left at the end of s, where the cut may have split a secret.
func (r *Redactor) Cut(s string) string {
	if r == nil {
		return s
	}
	s = r.String(s)
	for _, f := range r.forms {
		for k := len(f) - 1; k >= minSecret; k-- {
			if strings.HasSuffix(s, f[:k]) {
				return s[:len(s)-k] + Mask
			}
		}
	}
	return s
}

// Error returns err with its text redacted; errors.Is and errors.As still
// see the original chain. nil stays nil.
func (r *Redactor) Error(err error) error {
	if err == nil || r == nil || len(r.forms) == 0 {
		return err
	}
	return &redactedError{err: err, text: r.String(err.Error())}
}

type redactedError struct {
	err  error
	text string
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.err }
