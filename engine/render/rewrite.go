package render

import (
	"slices"
	"strconv"
	"strings"

	"github.com/aymerick/raymond/lexer"
)

// Reports are plain text, but raymond HTML-escapes {{x}} and has no option
// to stop it. Rather than make every value a SafeString (which misses data
// that is not ours, lookups and helper results), the source raymond runs is
// rewritten token by token: every {{x}} becomes {{&x}}, the unescaped form,
// which handlebars.js also knows. Positions in errors come from checking
// the original text, so the rewrite never shows.
//
// For lint, the same walk can wrap every placeholder in a tracking helper:
// {{customer.name}} becomes {{&__lint "3" customer.name}} and a helper
// argument x becomes (__lint "4" x). The helper passes the value through
// and records whether it resolved to anything.

// lintHelper is the helper name the lint rewrite calls. Templates cannot
// use it: identifiers starting with two underscores are not helpers.
const lintHelper = "__lint"

// lintSite is one placeholder the lint rewrite tracks.
type lintSite struct {
	file   string
	text   string
	line   int
	col    int
	output bool // printed by a mustache, so "" counts as nothing too
}

// lintTable collects the placeholders of one template and its partials.
type lintTable struct{ sites []lintSite }

func (l *lintTable) add(file, src, text string, pos int, output bool) string {
	line, col := position(src, pos)
	l.sites = append(l.sites, lintSite{file: file, text: text, line: line, col: col, output: output})
	return strconv.Itoa(len(l.sites) - 1)
}

type insertion struct {
	pos  int
	text string
}

// element is one item inside a tag: a path, a literal, a sub-expression, a
// hash pair or block parameters.
type element struct {
	kind       elementKind
	start, end int
	text       string
}

type elementKind int

const (
	elemPath elementKind = iota
	elemSexpr
	elemHash
	elemOther
)

type rewriter struct {
	src  string
	toks []lexer.Token
	i    int
	ins  []insertion
	lint *lintTable
	file string
}

// prepare returns the source raymond should run: unescaped, and with lint
// tracking when lint is not nil. src must have passed check.
func prepare(src string, lint *lintTable, file string) string {
	w := &rewriter{src: src, toks: lexer.Collect(src), lint: lint, file: file}
	w.program()
	if len(w.ins) == 0 {
		return src
	}
	slices.SortStableFunc(w.ins, func(a, b insertion) int { return a.pos - b.pos })
	var b strings.Builder
	last := 0
	for _, in := range w.ins {
		b.WriteString(src[last:in.pos])
		b.WriteString(in.text)
		last = in.pos
	}
	b.WriteString(src[last:])
	return b.String()
}

func (w *rewriter) insert(pos int, text string) { w.ins = append(w.ins, insertion{pos, text}) }

func (w *rewriter) program() {
	for w.i < len(w.toks) {
		t := w.toks[w.i]
		w.i++
		switch t.Kind {
		case lexer.TokenOpen:
			if !strings.Contains(t.Val, "&") {
				w.insert(t.Pos+len(t.Val), "&")
			}
			w.mustache()
		case lexer.TokenOpenUnescaped:
			w.mustache()
		case lexer.TokenOpenBlock, lexer.TokenOpenInverse, lexer.TokenOpenInverseChain:
			if elems := w.elements(); len(elems) > 1 {
				w.call(elems)
			}
		case lexer.TokenOpenPartial:
			elems := w.elements()
			for _, e := range elems[min(1, len(elems)):] {
				w.track(e, false)
			}
		}
	}
}

// mustache handles {{x}}: a lone path is printed output; anything else is
// a helper call.
func (w *rewriter) mustache() {
	elems := w.elements()
	if len(elems) == 1 && elems[0].kind == elemPath && !isHelper(elems[0].text) {
		if w.lint != nil {
			id := w.lint.add(w.file, w.src, elems[0].text, elems[0].start, true)
			w.insert(elems[0].start, lintHelper+` "`+id+`" `)
		}
		return
	}
	w.call(elems)
}

// call tracks the arguments of a helper call; elems[0] is the helper.
func (w *rewriter) call(elems []element) {
	for _, e := range elems[min(1, len(elems)):] {
		w.track(e, false)
	}
}

func (w *rewriter) track(e element, output bool) {
	if w.lint == nil || e.kind != elemPath {
		return
	}
	id := w.lint.add(w.file, w.src, e.text, e.start, output)
	w.insert(e.start, "("+lintHelper+` "`+id+`" `)
	w.insert(e.end, ")")
}

// elements reads the items of a tag up to its closing token.
func (w *rewriter) elements() []element {
	var out []element
	for w.i < len(w.toks) {
		t := w.toks[w.i]
		switch t.Kind {
		case lexer.TokenClose, lexer.TokenCloseUnescaped, lexer.TokenCloseSexpr, lexer.TokenEOF, lexer.TokenError:
			w.i++
			return out
		case lexer.TokenOpenBlockParams:
			for w.i < len(w.toks) && w.toks[w.i].Kind != lexer.TokenCloseBlockParams {
				w.i++
			}
			w.i++
			continue
		}
		if t.Kind == lexer.TokenID && w.i+1 < len(w.toks) && w.toks[w.i+1].Kind == lexer.TokenEquals {
			w.i += 2
			value := w.element()
			w.track(value, false)
			out = append(out, element{kind: elemHash})
			continue
		}
		out = append(out, w.element())
	}
	return out
}

// element reads one path, literal or sub-expression.
func (w *rewriter) element() element {
	if w.i >= len(w.toks) {
		return element{kind: elemOther}
	}
	t := w.toks[w.i]
	switch t.Kind {
	case lexer.TokenOpenSexpr:
		w.i++
		w.call(w.elements())
		return element{kind: elemSexpr}
	case lexer.TokenData, lexer.TokenID:
		start := t.Pos
		end := t.Pos + len(t.Val)
		if t.Kind == lexer.TokenData {
			w.i++
		}
		for w.i < len(w.toks) {
			t = w.toks[w.i]
			if t.Kind != lexer.TokenID && t.Kind != lexer.TokenSep {
				break
			}
			end = t.Pos + len(t.Val)
			w.i++
			if t.Kind == lexer.TokenID && (w.i >= len(w.toks) || w.toks[w.i].Kind != lexer.TokenSep) {
				break
			}
		}
		return element{kind: elemPath, start: start, end: end, text: w.src[start:end]}
	}
	w.i++
	return element{kind: elemOther}
}
