package siem

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"switchboard/engine"
)

// doc is an ECS document under construction as a flat list of leaves by
// dotted path, written straight to JSON by appendJSON: the same bytes as
// building the nested map and engine.MarshalClean, without the map or
// encoding/json's reflection (docs/performance.md, SIEM section, has the
// measurement). A document holds a few dozen leaves, so a linear search
// is cheaper than a map.
type doc struct {
	fields []leaf
	// buf is reused for the JSON text between events.
	buf []byte
}

// leaf is a value at a path: v, or the string s when v is nil (strings
// are most of a document and are kept unboxed).
type leaf struct {
	path string
	s    string
	v    any
}

var docPool = sync.Pool{New: func() any { return &doc{fields: make([]leaf, 0, 64)} }}

func getDoc() *doc { return docPool.Get().(*doc) }

func putDoc(d *doc) {
	clear(d.fields) // drop references to the event's strings
	d.fields = d.fields[:0]
	docPool.Put(d)
}

// set has obj.set's rules: an empty string is not set, a later value
// replaces an earlier one, and a leaf replaces an object at its path (and
// the other way round).
func (d *doc) set(dotted string, v any) {
	if s, ok := v.(string); ok {
		d.setS(dotted, s)
		return
	}
	d.put(leaf{path: dotted, v: v})
}

func (d *doc) setS(dotted, s string) {
	if s != "" {
		d.put(leaf{path: dotted, s: s})
	}
}

func (d *doc) put(l leaf) {
	dotted := l.path
	conflict := false
	for i := range d.fields {
		p := d.fields[i].path
		if p != "" && dotted != "" && p[0] != dotted[0] {
			continue // neither equal nor nested: they differ at once
		}
		if p == dotted {
			d.fields[i] = l
			return
		}
		conflict = conflict || nested(p, dotted) || nested(dotted, p)
	}
	if conflict {
		out := d.fields[:0]
		for _, f := range d.fields {
			if !nested(f.path, dotted) && !nested(dotted, f.path) {
				out = append(out, f)
			}
		}
		clear(d.fields[len(out):])
		d.fields = out
	}
	d.fields = append(d.fields, l)
}

// nested reports whether a equals b or lies under it.
func nested(a, b string) bool {
	return strings.HasPrefix(a, b) && (len(a) == len(b) || a[len(b)] == '.')
}

func (d *doc) get(dotted string) any {
	for _, f := range d.fields {
		if f.path == dotted {
			if f.v == nil {
				return f.s
			}
			return f.v
		}
	}
	return nil
}

func (d *doc) getS(dotted string) string {
	for _, f := range d.fields {
		if f.path == dotted {
			return f.s
		}
	}
	return ""
}

// comparePaths orders dotted paths as encoding/json orders the keys of
// nested maps: segment by segment, which is byte order with the dot
// below every other byte.
func comparePaths(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if x == '.' {
			return -1
		}
		if y == '.' {
			return 1
		}
		if x < y {
			return -1
		}
		return 1
	}
	return len(a) - len(b)
}

// jsonWriter writes JSON as engine.MarshalClean does: encoding/json's
// output with every string cleaned by engine.CleanText. One detail of
// MarshalClean depends on the whole document: when a string needed
// cleaning it re-encodes the decoded tree, and invalid UTF-8, already
// replaced by U+FFFD on the first pass, is then written as the character
// rather than as \ufffd. The writer notes both and writes again in that
// (rare) case.
type jsonWriter struct {
	b []byte
	// dirty: a string needed cleaning; invalid: a string had invalid
	// UTF-8; literal: write U+FFFD as the character.
	dirty, invalid, literal bool
}

// encodeJSON appends what write writes to b.
func encodeJSON(b []byte, write func(w *jsonWriter)) []byte {
	w := jsonWriter{b: b}
	write(&w)
	if w.dirty && w.invalid {
		w = jsonWriter{b: b, literal: true}
		write(&w)
	}
	return w.b
}

func (w *jsonWriter) str(s string) {
	if needsCleaning(s) {
		w.dirty = true
		s = engine.CleanText(s)
	}
	var bad bool
	w.b, bad = appendJSONString(w.b, s, w.literal)
	w.invalid = w.invalid || bad
}

// needsCleaning reports a byte engine.CleanText changes: a control
// character other than tab and line feed.
func needsCleaning(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' && c != '\n' {
			return true
		}
	}
	return false
}

// appendJSON writes the document as one JSON object, keys sorted.
func (d *doc) appendJSON(w *jsonWriter) {
	slices.SortFunc(d.fields, func(x, y leaf) int { return comparePaths(x.path, y.path) })
	w.b = append(w.b, '{')
	depth := 0    // objects open around the current leaf
	prev := ""    // the previous leaf's path
	fresh := true // nothing written yet in the innermost open object
	for _, f := range d.fields {
		// The parents shared with the previous leaf stay open.
		common, shared := 0, 0
		for i := 0; i < len(prev) && i < len(f.path) && prev[i] == f.path[i]; i++ {
			if prev[i] == '.' {
				common++
				shared = i + 1
			}
		}
		for depth > common {
			w.b = append(w.b, '}')
			depth--
			fresh = false
		}
		rest := f.path[shared:]
		for {
			seg, tail, ok := strings.Cut(rest, ".")
			if !fresh {
				w.b = append(w.b, ',')
			}
			w.str(seg)
			w.b = append(w.b, ':')
			if !ok {
				break
			}
			w.b = append(w.b, '{')
			depth++
			fresh = true
			rest = tail
		}
		if f.v == nil {
			w.str(f.s)
		} else {
			w.value(f.v)
		}
		fresh = false
		prev = f.path
	}
	for range depth {
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, '}')
}

// value writes the values the mappings use; anything else goes through
// engine.MarshalClean.
func (w *jsonWriter) value(v any) {
	switch v := v.(type) {
	case string:
		w.str(v)
	case int:
		w.b = strconv.AppendInt(w.b, int64(v), 10)
	case int64:
		w.b = strconv.AppendInt(w.b, v, 10)
	case bool:
		w.b = strconv.AppendBool(w.b, v)
	case []string:
		writeSlice(w, v, (*jsonWriter).str)
	case map[string]string:
		writeMap(w, v)
	case map[string]any:
		writeMap(w, v)
	case obj:
		writeMap(w, v)
	case []map[string]string:
		writeSlice(w, v, writeMap[map[string]string])
	case []map[string]any:
		writeSlice(w, v, writeMap[map[string]any])
	default:
		raw, err := engine.MarshalClean(v)
		if err != nil {
			raw = []byte("null")
		}
		w.b = append(w.b, raw...)
	}
}

// writeSlice writes a JSON array, null for a nil slice as encoding/json.
func writeSlice[T any](w *jsonWriter, list []T, each func(*jsonWriter, T)) {
	if list == nil {
		w.b = append(w.b, "null"...)
		return
	}
	w.b = append(w.b, '[')
	for i, x := range list {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		each(w, x)
	}
	w.b = append(w.b, ']')
}

// writeMap writes a map with its keys cleaned and sorted, as
// MarshalClean does.
func writeMap[M ~map[string]V, V any](w *jsonWriter, m M) {
	if m == nil {
		w.b = append(w.b, "null"...)
		return
	}
	type kv struct {
		k string
		v V
	}
	var small [16]kv
	kvs := small[:0]
	for k, v := range m {
		if needsCleaning(k) {
			w.dirty = true
			k = engine.CleanText(k)
		}
		kvs = append(kvs, kv{k, v})
	}
	slices.SortFunc(kvs, func(x, y kv) int { return strings.Compare(x.k, y.k) })
	w.b = append(w.b, '{')
	for i, x := range kvs {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.str(x.k)
		w.b = append(w.b, ':')
		w.value(any(x.v))
	}
	w.b = append(w.b, '}')
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as encoding/json does by default: HTML
// characters, U+2028 and U+2029 escaped, invalid UTF-8 as \ufffd (as
// U+FFFD itself when literal). It reports whether s had invalid UTF-8.
func appendJSONString(b []byte, s string, literal bool) ([]byte, bool) {
	bad := false
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			bad = true
			b = append(b, s[start:i]...)
			if literal {
				b = append(b, "\uFFFD"...)
			} else {
				b = append(b, `\ufffd`...)
			}
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"'), bad
}
