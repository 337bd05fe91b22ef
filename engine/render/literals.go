package render

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unsafe"

	"github.com/aymerick/raymond/ast"
	"github.com/aymerick/raymond/lexer"
)

// Where raymond's lexer and handlebars.js's read the words inside a tag
// differently, this file brings raymond's reading to handlebars.js's.
//
// handlebars.js reads a run of digits as a number only when a space, ~, }
// or ) follows it; otherwise, as in customers.0.name, it is a name.
// raymond always starts a number at a digit or a minus sign and then
// fails ("bad number syntax"). So before raymond lexes a template, the
// first character of each such name is replaced by a mark of the same
// length, which raymond reads as the start of a name; compiling the path
// turns the mark back into the digit. Positions in the text do not move,
// so error positions and lint stay right.

// Marks: '0'…'9' become 0x10…0x19 and '-' becomes 0x1a, control
// characters no template needs.
const (
	markDigit = 0x10
	markMinus = 0x1a
)

var (
	// reJSNumber is handlebars.js's NUMBER token, without its lookahead.
	reJSNumber = regexp.MustCompile(`^-?[0-9]+(?:\.[0-9]+)?`)
	unmarker   = strings.NewReplacer(
		"\x10", "0", "\x11", "1", "\x12", "2", "\x13", "3", "\x14", "4",
		"\x15", "5", "\x16", "6", "\x17", "7", "\x18", "8", "\x19", "9", "\x1a", "-")
)

// asHandlebarsJS rewrites src, byte for byte, where raymond's lexer would
// read a tag differently from handlebars.js: it marks the names that start
// like a number, and turns CR, VT and FF inside a tag, which raymond reads
// as part of a name (so {{#if x}} written over a CRLF line break tested
// "x\r"), into the spaces handlebars.js reads them as.
func asHandlebarsJS(src string) string {
	b := []byte(src)
	changed := false
	// raymond's lexer stops at its first error, and a space where a CR was
	// can change how the rest of its tag reads: after such a change the
	// tag is read again from its start. Everything before the first tag
	// read again is settled, so each pass starts at or after the previous
	// pass's last change and the work stays linear in the template.
	for offset := 0; ; {
		// A view, not a copy, or the passes would copy quadratically. The
		// lexer is done reading it when Collect returns, and each change
		// below is to a token already read.
		cur := unsafe.String(unsafe.SliceData(b[offset:]), len(b)-offset)
		tag, again := offset, -1
		for _, t := range lexer.Collect(cur) {
			pos := offset + t.Pos
			switch {
			case opensTag(t.Kind):
				tag = pos
			case t.Kind == lexer.TokenID && !strings.HasPrefix(t.Val, "[") && strings.ContainsAny(t.Val, "\r\v\f"):
				for i := pos; i < pos+len(t.Val); i++ {
					if b[i] == '\r' || b[i] == '\v' || b[i] == '\f' {
						b[i] = ' '
					}
				}
				changed = true
				if again < 0 {
					again = tag
				}
			case t.Kind == lexer.TokenNumber || t.Kind == lexer.TokenError && strings.HasPrefix(t.Val, "bad number syntax"):
				n := jsName(cur, t.Pos)
				if n == 0 {
					continue
				}
				if c := b[pos]; c == '-' {
					b[pos] = markMinus
				} else {
					b[pos] = markDigit + c - '0'
				}
				changed = true
				// Read again unless raymond read the same extent as a number
				// that it now reads as a name (0/x, but not 0.1.x).
				if (t.Kind == lexer.TokenError || n != len(t.Val)) && again < 0 {
					again = tag
				}
			}
		}
		if again < 0 {
			break
		}
		offset = again
	}
	if !changed {
		return src
	}
	return string(b)
}

// opensTag reports the tokens that start a tag.
func opensTag(k lexer.TokenKind) bool {
	switch k {
	case lexer.TokenOpen, lexer.TokenOpenUnescaped, lexer.TokenOpenBlock, lexer.TokenOpenEndBlock,
		lexer.TokenOpenInverse, lexer.TokenOpenInverseChain, lexer.TokenOpenPartial,
		lexer.TokenOpenRawBlock, lexer.TokenOpenEndRawBlock:
		return true
	}
	return false
}

// jsName returns the length of the name (ID) handlebars.js reads at pos
// although it starts with a digit or a minus sign, or 0.
func jsName(src string, pos int) int {
	rest := src[pos:]
	if rest == "" || rest[0] != '-' && (rest[0] < '0' || rest[0] > '9') {
		return 0
	}
	if m := reJSNumber.FindString(rest); m != "" && (len(m) == len(rest) || strings.IndexByte("~})", rest[len(m)]) >= 0 || isJSSpace(rest[len(m)])) {
		return 0
	}
	n := 0
	for n < len(rest) && isJSNameByte(rest[n]) {
		n++
	}
	if n > 0 && n < len(rest) && (strings.IndexByte("=~}/.)|", rest[n]) >= 0 || isJSSpace(rest[n])) {
		return n
	}
	return 0
}

// isJSNameByte reports a byte handlebars.js's ID token may contain.
func isJSNameByte(c byte) bool {
	return c >= 0x80 || !isJSSpace(c) && strings.IndexByte("!\"#%&'()*+,./;<=>@[\\]^`{|}~", c) < 0
}

func isJSSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// unmark gives back the text a mark replaced.
func unmark(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return r >= markDigit && r <= markMinus }) < 0 {
		return s
	}
	return unmarker.Replace(s)
}

// numberEndsPath is the message for a path such as customers.0, which
// handlebars.js refuses: a number after a dot is a number there, not a
// name. toks[i] is the number.
func numberEndsPath(src string, toks []lexer.Token, i int) string {
	start := i - 1 // the separator; names and separators alternate before it
	for start > 0 && toks[start-1].Kind == lexer.TokenID {
		start--
		if start == 0 || toks[start-1].Kind != lexer.TokenSep {
			break
		}
		start--
	}
	if start > 0 && toks[start-1].Kind == lexer.TokenData {
		start--
	}
	path := unmark(src[toks[start].Pos:toks[i].Pos])
	steps := strings.Split(toks[i].Val, ".")
	return fmt.Sprintf("handlebars.js reads the %s in %s%s as a number, not a name: write %s[%s]",
		toks[i].Val, path, toks[i].Val, path, strings.Join(steps, "].["))
}

// literalsToPaths makes a literal that stands where a name or helper
// belongs ({{"foo"}}, {{42}}, {{#true}}…{{/true}}) the name it spells, as
// handlebars.js does: {{42}} prints the field "42", not 42.
func literalsToPaths(prog *ast.Program) {
	walk(prog, func(n ast.Node) {
		x, ok := n.(*ast.Expression)
		if !ok {
			return
		}
		var name string
		switch lit := x.Path.(type) {
		case *ast.StringLiteral:
			name = lit.Value
		case *ast.NumberLiteral:
			name = jsNumber(lit.Value)
		case *ast.BooleanLiteral:
			name = strconv.FormatBool(lit.Value)
		default:
			return
		}
		loc := x.Path.Location()
		p := ast.NewPathExpression(loc.Pos, loc.Line, false)
		p.Part(name)
		x.Path = p
	})
}

// isNullLiteral reports a helper argument handlebars.js reads as null or
// undefined, which raymond reads as a name.
func isNullLiteral(p *ast.PathExpression) bool {
	return !p.Data && p.Depth == 0 && !p.Scoped && len(p.Parts) == 1 &&
		(p.Original == "null" || p.Original == "undefined")
}

// jsNumber prints a number as JavaScript's String(n) does.
func jsNumber(f float64) string {
	switch a := math.Abs(f); {
	case f == 0:
		return "0"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case math.IsNaN(f):
		return "NaN"
	case a >= 1e21 || a < 1e-6:
		s := strconv.FormatFloat(f, 'e', -1, 64)
		mant, exp, _ := strings.Cut(s, "e")
		sign, digits := exp[:1], strings.TrimLeft(exp[1:], "0")
		return mant + "e" + sign + digits
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
