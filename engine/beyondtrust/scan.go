package beyondtrust

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// scanner is a strict tokenizer for the XML the appliance writes. It does
// what encoding/xml's RawToken does (FuzzScanner holds the two to the same
// tokens) about four and a half times faster on a typical session report:
// it works on the whole response in memory, finds text with
// bytes.IndexByte instead of reading byte by byte, and interns names
// instead of allocating them for every tag.
type scanner struct {
	data   []byte
	pos    int
	names  map[string]string
	recent [128]string
	buf    []byte // decoded text, valid until the next token
	// attrs is a slab the attributes of successive elements are cut from,
	// one allocation for hundreds of elements.
	attrs []xml.Attr
	// arena holds the bytes of short strings handed out (attribute values
	// and text), many strings to one allocation. Bytes once written are
	// never written again, so the strings stay immutable; a full arena is
	// left to the strings that use it and a fresh one started.
	arena []byte
	// pendingEnd holds the end of a self-closing element, returned next.
	pendingEnd xml.Name
	hasPending bool
}

type tokKind uint8

const (
	tokStart tokKind = iota + 1
	tokEnd
	tokText
	tokEOF
)

// tok is one token; text is valid until the next call. An end token
// carries its name in start.Name.
type tok struct {
	kind  tokKind
	start xml.StartElement
	text  []byte
}

func newScanner(data []byte) *scanner {
	return &scanner{data: data, names: make(map[string]string, 64)}
}

// maxInterned bounds the interned strings a pooled scanner keeps between
// documents; names and common values number a few dozen, so reaching it
// means many unique values were interned, and the table starts afresh.
const maxInterned = 4096

// maxSlab bounds the attribute slab a pooled scanner keeps.
const maxSlab = 4096

// reset readies a used scanner for another document. Interned strings are
// kept (they are immutable copies); the attribute slab is reused, since no
// element of the previous document is referenced any more.
func (s *scanner) reset(data []byte) {
	s.data, s.pos, s.hasPending = data, 0, false
	clear(s.attrs)
	s.attrs = s.attrs[:0]
	if cap(s.attrs) > maxSlab {
		s.attrs = nil
	}
	if len(s.names) > maxInterned {
		clear(s.names)
		s.recent = [len(s.recent)]string{}
	}
}

// syntaxError mirrors xml.SyntaxError with the line of the offset.
func (s *scanner) syntaxError(msg string) error {
	line := 1 + bytes.Count(s.data[:min(s.pos, len(s.data))], []byte{'\n'})
	return &xml.SyntaxError{Msg: msg, Line: line}
}

var errUnexpectedEOF = errors.New("unexpected EOF")

func (s *scanner) eof() error { return s.syntaxError(errUnexpectedEOF.Error()) }

// next reads the next start, end or text token into t, skipping comments,
// processing instructions and directives; after an error t is undefined.
// The caller owns t, usually on its stack: returning a token of a dozen
// words by value through each layer, or keeping it in the scanner (a write
// barrier for each pointer while the collector runs), took a large share
// of the parse time.
func (s *scanner) next(t *tok) error {
	if s.hasPending {
		s.hasPending = false
		t.kind, t.start = tokEnd, xml.StartElement{Name: s.pendingEnd}
		return nil
	}
	for {
		if s.pos >= len(s.data) {
			t.kind = tokEOF
			return nil
		}
		if s.data[s.pos] != '<' {
			return s.textToken(t)
		}
		if s.pos+1 >= len(s.data) {
			s.pos = len(s.data)
			return s.eof()
		}
		switch s.data[s.pos+1] {
		case '/':
			return s.endTag(t)
		case '?':
			if err := s.procInst(); err != nil {
				return err
			}
		case '!':
			isText, err := s.bang(t)
			if err != nil || isText {
				return err
			}
		default:
			return s.startTag(t)
		}
	}
}

// textToken reads character data up to the next '<'.
func (s *scanner) textToken(t *tok) error {
	end := bytes.IndexByte(s.data[s.pos:], '<')
	if end < 0 {
		end = len(s.data)
	} else {
		end += s.pos
	}
	raw := s.data[s.pos:end]
	if i := bytes.Index(raw, []byte("]]>")); i >= 0 {
		s.pos += i
		return s.syntaxError("unescaped ]]> not in CDATA section")
	}
	text, err := s.decode(raw, false)
	if err != nil {
		return err
	}
	s.pos = end
	t.kind, t.text = tokText, text
	return nil
}

// decode checks raw text and resolves entity references and line ends, as
// XML requires; quoted marks attribute values, where '<' is illegal. Text
// without anything to resolve, the common case, is returned as it is.
func (s *scanner) decode(raw []byte, quoted bool) ([]byte, error) {
	n, err := s.plain(raw)
	if err != nil || n == len(raw) {
		return raw, err
	}
	s.buf = append(s.buf[:0], raw[:n]...)
	for i := n; i < len(raw); {
		switch raw[i] {
		case '&':
			r, n, err := s.entity(raw[i:])
			if err != nil {
				return nil, err
			}
			s.buf = utf8.AppendRune(s.buf, r)
			i += n
		case '\r':
			s.buf = append(s.buf, '\n')
			i++
			if i < len(raw) && raw[i] == '\n' {
				i++
			}
		default: // '<', which ends text before it gets here
			if quoted {
				return nil, s.syntaxError("unescaped < inside quoted string")
			}
			s.buf = append(s.buf, '<')
			i++
		}
		n, err := s.plain(raw[i:])
		if err != nil {
			return nil, err
		}
		s.buf = append(s.buf, raw[i:i+n]...)
		i += n
	}
	return s.buf, nil
}

// Byte classes of character data.
const (
	classPlain   = iota // ASCII that stands for itself
	classSpecial        // '&', '\r' and '<', which decode acts on
	classControl        // control bytes XML forbids
	classHigh           // the first byte of a multi-byte UTF-8 sequence
)

var byteClass = func() (t [256]uint8) {
	for c := range t {
		switch {
		case c == '&' || c == '\r' || c == '<':
			t[c] = classSpecial
		case c < 0x20 && c != '\t' && c != '\n':
			t[c] = classControl
		case c >= utf8.RuneSelf:
			t[c] = classHigh
		}
	}
	return t
}()

// plain returns how many leading bytes of b are valid character data with
// nothing to resolve, stopping at the first '&', '\r' or '<'.
func (s *scanner) plain(b []byte) (int, error) {
	i := 0
	// Eight bytes at a time while they are all printable ASCII other than
	// '&' and '<' ('\r' and the other control bytes are below 0x20); the
	// loop below takes over at the first word that may hold anything else.
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		if x&highBits != 0 || hasLess(x, 0x20) ||
			hasLess(x^('&'*lowBits), 1) || hasLess(x^('<'*lowBits), 1) {
			break
		}
	}
	for i < len(b) {
		switch byteClass[b[i]] {
		case classPlain:
			i++
		case classSpecial:
			return i, nil
		case classControl:
			return i, s.syntaxError(fmt.Sprintf("illegal character code %U", rune(b[i])))
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				return i, s.syntaxError("invalid UTF-8")
			}
			if !isXMLChar(r) {
				return i, s.syntaxError(fmt.Sprintf("illegal character code %U", r))
			}
			i += n
		}
	}
	return len(b), nil
}

const (
	lowBits  = 0x0101010101010101
	highBits = 0x8080808080808080
)

// hasLess reports whether a byte of x, a word of ASCII bytes, is below n
// (at most 0x80); below 1 means zero.
func hasLess(x uint64, n uint64) bool { return (x-n*lowBits)&^x&highBits != 0 }

// checkChars rejects bytes that are not UTF-8 or not XML characters.
func (s *scanner) checkChars(b []byte) error {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return s.syntaxError(fmt.Sprintf("illegal character code %U", rune(c)))
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return s.syntaxError("invalid UTF-8")
		}
		if !isXMLChar(r) {
			return s.syntaxError(fmt.Sprintf("illegal character code %U", r))
		}
		i += n
	}
	return nil
}

func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

var entities = map[string]rune{"lt": '<', "gt": '>', "amp": '&', "apos": '\'', "quot": '"'}

// entity reads one reference starting at b[0] == '&'.
func (s *scanner) entity(b []byte) (rune, int, error) {
	semi := bytes.IndexByte(b, ';')
	if semi < 2 {
		return 0, 0, s.syntaxError("invalid character entity " + quoteEntity(b))
	}
	name := b[1:semi]
	if name[0] == '#' {
		var n uint64
		var err error
		if len(name) > 1 && name[1] == 'x' {
			n, err = strconv.ParseUint(string(name[2:]), 16, 64)
		} else {
			n, err = strconv.ParseUint(string(name[1:]), 10, 64)
		}
		if err != nil || n > unicode.MaxRune {
			return 0, 0, s.syntaxError("invalid character entity &" + string(name) + ";")
		}
		r := rune(n)
		if !utf8.ValidRune(r) {
			r = utf8.RuneError // a surrogate, as string(rune(n)) makes it
		}
		if !isXMLChar(r) {
			return 0, 0, s.syntaxError(fmt.Sprintf("illegal character code %U", r))
		}
		return r, semi + 1, nil
	}
	r, ok := entities[string(name)]
	if !ok {
		return 0, 0, s.syntaxError("invalid character entity &" + string(name) + ";")
	}
	return r, semi + 1, nil
}

func quoteEntity(b []byte) string {
	if len(b) > 10 {
		b = b[:10]
	}
	return string(b)
}

// intern returns a shared string for a name, so repeated tags cost no
// allocation.
func (s *scanner) intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	// A direct-mapped cache in front of the map: most lookups repeat one
	// of a few dozen names and end with one comparison instead of a hash.
	slot := &s.recent[(len(b)*31+int(b[0])*7+int(b[len(b)-1]))&(len(s.recent)-1)]
	if *slot == string(b) {
		return *slot
	}
	v, ok := s.names[string(b)]
	if !ok {
		v = string(b)
		s.names[v] = v
	}
	*slot = v
	return v
}

// rawName reads an XML name at pos: the bytes up to the first ASCII byte
// that cannot be part of a name, checked against the XML name rules.
func (s *scanner) rawName(what string) ([]byte, error) {
	start := s.pos
	var seen uint8
	data := s.data
	i := s.pos
	for ; i < len(data); i++ {
		class := nameClass[data[i]]
		if class == 0 {
			break
		}
		seen |= class
	}
	s.pos = i
	high := seen&nameHigh != 0
	raw := data[start:i]
	switch {
	case len(raw) == 0 && s.pos >= len(s.data):
		return nil, s.eof()
	case len(raw) == 0:
		return nil, s.syntaxError("expected " + what)
	case !validName(raw, high):
		return nil, s.syntaxError("invalid XML name: " + string(raw))
	}
	return raw, nil
}

// Classes of the bytes of a name: ASCII name bytes, and bytes of
// multi-byte characters, which the name rules check separately.
const (
	nameASCII = 1
	nameHigh  = 2
)

var nameClass = func() (t [256]uint8) {
	for c := range t {
		switch {
		case c >= utf8.RuneSelf:
			t[c] = nameHigh
		case isNameByte(byte(c)):
			t[c] = nameASCII
		}
	}
	return t
}()

// validName applies the XML name rules. ASCII names are checked here;
// the rare name with other characters is checked by encoding/xml itself,
// whose tables of name characters are not exported.
func validName(raw []byte, high bool) bool {
	if high {
		d := xml.NewDecoder(bytes.NewReader(append(append([]byte("<"), raw...), "/>"...)))
		_, err := d.RawToken()
		return err == nil
	}
	c := raw[0]
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == ':'
}

// name reads an element or attribute name and splits it at its colon; a
// name with more than one colon is refused, one with an empty side is
// taken whole, as encoding/xml does.
func (s *scanner) name(what string) (xml.Name, error) {
	raw, err := s.rawName(what)
	if err != nil {
		return xml.Name{}, err
	}
	i := bytes.IndexByte(raw, ':')
	switch {
	case i < 0:
		return xml.Name{Local: s.intern(raw)}, nil
	case bytes.IndexByte(raw[i+1:], ':') >= 0:
		return xml.Name{}, s.syntaxError("expected " + what)
	case i == 0 || i == len(raw)-1:
		return xml.Name{Local: s.intern(raw)}, nil
	}
	return xml.Name{Space: s.intern(raw[:i]), Local: s.intern(raw[i+1:])}, nil
}

// value makes a string of an attribute value. Short values that repeat
// from element to element (event types, actor types, gsnumbers) are
// interned; long or numeric ones (timestamps) are not.
func (s *scanner) value(v []byte) string {
	if len(v) <= 3 || (len(v) <= 32 && (v[0] < '0' || v[0] > '9')) {
		return s.intern(v)
	}
	return s.str(v)
}

// Sizes of the string arena: a chunk, and the longest string put in one
// (longer ones get their own allocation, so that a short string never
// keeps much unrelated memory alive).
const (
	arenaChunk  = 4096
	arenaMaxStr = 256
)

// str returns a string with the bytes of b, cut from the arena when short.
func (s *scanner) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > arenaMaxStr {
		return string(b)
	}
	if cap(s.arena)-len(s.arena) < len(b) {
		s.arena = make([]byte, 0, arenaChunk)
	}
	start := len(s.arena)
	s.arena = append(s.arena, b...)
	return unsafe.String(&s.arena[start], len(b))
}

func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == ':' || c == '.' || c == '-'
}

func (s *scanner) space() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *scanner) startTag(t *tok) error {
	s.pos++ // '<'
	name, err := s.name("element name after <")
	if err != nil {
		return err
	}
	first := len(s.attrs)
	done := func() {
		var attrs []xml.Attr
		if len(s.attrs) > first {
			attrs = s.attrs[first:len(s.attrs):len(s.attrs)]
		}
		t.kind, t.start = tokStart, xml.StartElement{Name: name, Attr: attrs}
	}
	for {
		s.space()
		if s.pos >= len(s.data) {
			return s.eof()
		}
		switch s.data[s.pos] {
		case '>':
			s.pos++
			done()
			return nil
		case '/':
			if s.pos+1 >= len(s.data) {
				s.pos = len(s.data)
				return s.eof()
			}
			if s.data[s.pos+1] != '>' {
				s.pos++
				return s.syntaxError("expected /> in element")
			}
			s.pos += 2
			s.pendingEnd, s.hasPending = name, true
			done()
			return nil
		}
		if len(s.attrs) == cap(s.attrs) {
			// A new slab; the elements already returned keep the old one.
			// Doubling lets the last slab of a document, kept for the next
			// one, grow to hold a whole document.
			slab := make([]xml.Attr, len(s.attrs)-first, max(64, 2*(len(s.attrs)-first), min(2*cap(s.attrs), maxSlab)))
			copy(slab, s.attrs[first:])
			s.attrs, first = slab, 0
		}
		// The attribute is read into its place in the slab: storing a
		// whole xml.Attr there would cost a bulk write barrier while the
		// collector runs.
		s.attrs = s.attrs[:len(s.attrs)+1]
		if err := s.attribute(&s.attrs[len(s.attrs)-1]); err != nil {
			return err
		}
	}
}

func (s *scanner) attribute(a *xml.Attr) error {
	name, err := s.name("attribute name in element")
	if err != nil {
		return err
	}
	s.space()
	if s.pos >= len(s.data) {
		return s.eof()
	}
	if s.data[s.pos] != '=' {
		return s.syntaxError("attribute name without = in element")
	}
	s.pos++
	s.space()
	if s.pos >= len(s.data) {
		return s.eof()
	}
	q := s.data[s.pos]
	if q != '"' && q != '\'' {
		return s.syntaxError("unquoted or missing attribute value in element")
	}
	s.pos++
	end := bytes.IndexByte(s.data[s.pos:], q)
	if end < 0 {
		s.pos = len(s.data)
		return s.eof()
	}
	v, err := s.decode(s.data[s.pos:s.pos+end], true)
	if err != nil {
		return err
	}
	s.pos += end + 1
	a.Name.Space, a.Name.Local, a.Value = name.Space, name.Local, s.value(v)
	return nil
}

func (s *scanner) endTag(t *tok) error {
	s.pos += 2 // "</"
	name, err := s.name("element name after </")
	if err != nil {
		return err
	}
	s.space()
	if s.pos >= len(s.data) {
		return s.eof()
	}
	if s.data[s.pos] != '>' {
		return s.syntaxError("invalid characters between </" + name.Local + " and >")
	}
	s.pos++
	t.kind, t.start = tokEnd, xml.StartElement{Name: name}
	return nil
}

// procInst skips <?target …?>, refusing an XML declaration of a version
// other than 1.0 or an encoding other than UTF-8.
func (s *scanner) procInst() error {
	s.pos += 2 // "<?"
	target, err := s.rawName("target name after <?")
	if err != nil {
		return err
	}
	s.space()
	end := bytes.Index(s.data[s.pos:], []byte("?>"))
	if end < 0 {
		s.pos = len(s.data)
		return s.eof()
	}
	body := s.data[s.pos : s.pos+end]
	s.pos += end + 2
	if string(target) != "xml" {
		return nil
	}
	if v := declParam(body, "version"); v != "" && v != "1.0" {
		return fmt.Errorf("xml: unsupported version %q; only version 1.0 is supported", v)
	}
	if enc := declParam(body, "encoding"); enc != "" && !bytes.EqualFold([]byte(enc), []byte("utf-8")) {
		return fmt.Errorf("xml: encoding %q declared but Decoder.CharsetReader is nil", enc)
	}
	return nil
}

// declParam finds param='value' or param="value" in an XML declaration,
// with no space around the '=', skipping occurrences not followed by a
// quote.
func declParam(body []byte, param string) string {
	key := []byte(param + "=")
	for rest := body; ; {
		k := bytes.Index(rest, key)
		if k < 0 || k+len(key) >= len(rest) {
			return ""
		}
		rest = rest[k+len(key):]
		if q := rest[0]; q == '"' || q == '\'' {
			end := bytes.IndexByte(rest[1:], q)
			if end < 0 {
				return ""
			}
			return string(rest[1 : 1+end])
		}
		rest = rest[1:]
	}
}

// bang handles <!-- comments -->, <![CDATA[…]]> (read into t as text) and
// <!DIRECTIVES>.
func (s *scanner) bang(t *tok) (bool, error) {
	rest := s.data[s.pos:]
	switch {
	case len(rest) >= 3 && rest[2] == '-':
		if len(rest) < 4 {
			s.pos = len(s.data)
			return false, s.eof()
		}
		if rest[3] != '-' {
			return false, s.syntaxError("invalid sequence <!- not part of <!--")
		}
		end := bytes.Index(rest[4:], []byte("--"))
		if end < 0 {
			s.pos = len(s.data)
			return false, s.eof()
		}
		after := 4 + end + 2
		if after >= len(rest) {
			s.pos = len(s.data)
			return false, s.eof()
		}
		if rest[after] != '>' {
			s.pos += after
			return false, s.syntaxError(`invalid sequence "--" not allowed in comments`)
		}
		s.pos += after + 1
		return false, nil
	case bytes.HasPrefix(rest, []byte("<![CDATA[")):
		end := bytes.Index(rest[9:], []byte("]]>"))
		if end < 0 {
			s.pos = len(s.data)
			return false, s.eof()
		}
		text := rest[9 : 9+end]
		if err := s.checkChars(text); err != nil {
			return false, err
		}
		s.pos += 9 + end + 3
		if bytes.IndexByte(text, '\r') >= 0 {
			s.buf = append(s.buf[:0], text...)
			s.buf = bytes.ReplaceAll(bytes.ReplaceAll(s.buf, []byte("\r\n"), []byte("\n")), []byte("\r"), []byte("\n"))
			text = s.buf
		}
		t.kind, t.text = tokText, text
		return true, nil
	case len(rest) > 2 && rest[2] == '[':
		return false, s.syntaxError("invalid <![ sequence")
	}
	return false, s.directive()
}

// directive skips <!…> such as a DOCTYPE: quotes hide '<' and '>', other
// angle brackets nest, and <!--…--> inside is a comment.
func (s *scanner) directive() error {
	s.pos += 2 // "<!"
	if s.pos >= len(s.data) {
		return s.eof()
	}
	s.pos++ // the first byte is taken as it is
	var quote byte
	depth := 0
	for {
		if s.pos >= len(s.data) {
			return s.eof()
		}
		c := s.data[s.pos]
		s.pos++
		if quote == 0 && c == '>' && depth == 0 {
			return nil
		}
		for again := true; again; {
			again = false
			switch {
			case c == quote:
				quote = 0
			case quote != 0:
			case c == '\'' || c == '"':
				quote = c
			case c == '>':
				depth--
			case c == '<':
				matched := 0
				for ; matched < 3; matched++ {
					if s.pos >= len(s.data) {
						return s.eof()
					}
					c = s.data[s.pos]
					s.pos++
					if c != "!--"[matched] {
						break
					}
				}
				if matched < 3 {
					// Not a comment: the '<' nests, and the byte that broke
					// the match is looked at afresh.
					depth++
					again = true
					continue
				}
				end := bytes.Index(s.data[s.pos:], []byte("-->"))
				if end < 0 {
					s.pos = len(s.data)
					return s.eof()
				}
				s.pos += end + 3
			}
		}
	}
}
