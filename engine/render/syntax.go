package render

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aymerick/raymond/ast"
	"github.com/aymerick/raymond/lexer"
	"github.com/aymerick/raymond/parser"
)

// ParseError is a template that cannot be used, with where the problem is.
type ParseError struct {
	Name    string // template name, e.g. "session_report"
	Line    int    // 1-based
	Column  int    // 1-based, in characters
	Message string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("template %s: line %d, column %d: %s", e.Name, e.Line, e.Column, e.Message)
}

// Messages for the handlebars.js 4 constructs raymond (handlebars 3) lacks.
const (
	msgPartialBlock  = "partial blocks ({{#> name}}…{{/name}} and @partial-block) are a Handlebars 4 feature this engine does not support; put the shared text in a partial file and include it with {{> name}}"
	msgInlinePartial = "inline partials ({{#*inline \"name\"}}) are a Handlebars 4 feature this engine does not support; save the partial as its own file under partials/ instead"
	msgDecorator     = "decorators ({{* name}} and {{#* name}}) are a Handlebars 4 feature this engine does not support"
)

// treePasses rewrite a parsed tree into handlebars.js's meaning, in order.
var treePasses = []func(*ast.Program){controlWhitespace, literalsToPaths}

// check parses a template's source and validates it: syntax, the
// handlebars.js 4 constructs raymond cannot parse, helper names, and (when
// hasPartial is not nil) the partials it includes by name. Errors are
// *ParseError. A panic in any pass (a bug of ours, met by a template
// nobody tried) refuses the template instead of taking the process down.
func check(name, src string, hasPartial func(string) bool, hs helperSet) (prog *ast.Program, err error) {
	defer func() {
		if p := recover(); p != nil {
			prog = nil
			err = &ParseError{Name: name, Line: 1, Column: 1, Message: fmt.Sprintf(
				"Switchboard could not check this template (%v); it was refused rather than saved. Please report it with the template", p)}
		}
	}()
	return checkSource(name, src, hasPartial, hs)
}

func checkSource(name, src string, hasPartial func(string) bool, hs helperSet) (*ast.Program, error) {
	src = asHandlebarsJS(src)
	toks := lexer.Collect(src)
	errAt := func(pos int, msg string) error {
		line, col := position(src, pos)
		return &ParseError{Name: name, Line: line, Column: col, Message: unmark(msg)}
	}
	for i, t := range toks {
		rest := strings.TrimLeft(src[min(t.Pos+len(t.Val), len(src)):], " \t")
		switch {
		case t.Kind == lexer.TokenOpenBlock && strings.HasPrefix(rest, ">"):
			return nil, errAt(t.Pos, msgPartialBlock)
		case t.Kind == lexer.TokenOpenBlock && strings.HasPrefix(rest, "*inline"):
			return nil, errAt(t.Pos, msgInlinePartial)
		case (t.Kind == lexer.TokenOpenBlock || t.Kind == lexer.TokenOpen) && strings.HasPrefix(rest, "*"):
			return nil, errAt(t.Pos, msgDecorator)
		case t.Kind == lexer.TokenData && i+1 < len(toks) && toks[i+1].Val == "partial-block":
			return nil, errAt(t.Pos, msgPartialBlock)
		case t.Kind == lexer.TokenError:
			return nil, errAt(t.Pos, t.Val)
		case t.Kind == lexer.TokenNumber && i > 0 && toks[i-1].Kind == lexer.TokenSep:
			return nil, errAt(t.Pos, numberEndsPath(src, toks, i))
		}
	}
	if err := checkBlocks(src, toks, errAt); err != nil {
		return nil, err
	}
	prog, err := parse(src)
	if err != nil {
		line, col, msg := parserErrorPosition(src, toks, err.Error())
		return nil, &ParseError{Name: name, Line: line, Column: col, Message: unmark(msg)}
	}
	for _, pass := range treePasses {
		pass(prog)
	}
	var problem error
	blockExprs := map[*ast.Expression]bool{}
	walk(prog, func(n ast.Node) {
		if problem != nil {
			return
		}
		switch n := n.(type) {
		case *ast.BlockStatement:
			blockExprs[n.Expression] = true
		case *ast.Expression:
			if msg := checkCall(n, blockExprs[n], hs); msg != "" {
				problem = errAt(n.Location().Pos, msg)
			}
		case *ast.PartialStatement:
			p, ok := ast.HelperNameStr(n.Name)
			if ok && hasPartial != nil && !hasPartial(p) {
				problem = errAt(n.Location().Pos, fmt.Sprintf("partial %q not found: save it as partials/%s.hbs first", p, p))
			}
		}
	})
	if problem != nil {
		return nil, problem
	}
	return prog, nil
}

// checkBlocks matches block tags by name. Besides saying where both tags
// are, it keeps these common mistakes away from raymond's parser, which
// leaks a goroutine on every syntax error.
func checkBlocks(src string, toks []lexer.Token, errAt func(int, string) error) error {
	type opened struct {
		name string
		pos  int
	}
	var stack []opened
	for i, t := range toks {
		switch t.Kind {
		case lexer.TokenOpenBlock, lexer.TokenOpenInverse:
			stack = append(stack, opened{blockName(toks[i+1:]), t.Pos})
		case lexer.TokenOpenEndBlock:
			name := blockName(toks[i+1:])
			if len(stack) == 0 {
				return errAt(t.Pos, fmt.Sprintf("{{/%s}} closes no open block", name))
			}
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if top.name != "" && name != top.name {
				line, col := position(src, top.pos)
				return errAt(t.Pos, fmt.Sprintf("{{/%s}} does not close {{#%s}}, opened at line %d, column %d", name, top.name, line, col))
			}
		}
	}
	if len(stack) > 0 {
		top := stack[len(stack)-1]
		return errAt(top.pos, fmt.Sprintf("{{#%s}} is never closed", top.name))
	}
	return nil
}

// blockName reads the name after a block tag's opening: a path such as
// each or customer.name.
func blockName(toks []lexer.Token) string {
	var b strings.Builder
	wantID := true // IDs and separators alternate; a second ID is an argument
	for _, t := range toks {
		switch {
		case t.Kind == lexer.TokenData && b.Len() == 0:
		case t.Kind == lexer.TokenID && wantID, t.Kind == lexer.TokenSep && !wantID:
			wantID = !wantID
		default:
			return b.String()
		}
		b.WriteString(t.Val)
	}
	return b.String()
}

// parse runs raymond's parser, which re-panics runtime errors; a template
// must never take the process down.
func parse(src string) (prog *ast.Program, err error) {
	defer func() {
		if p := recover(); p != nil {
			prog, err = nil, fmt.Errorf("parser failed: %v", p)
		}
	}()
	return parser.Parse(src)
}

// checkCall says what is wrong with a helper call, or "": handlebars.js
// fails on these when it renders, Switchboard already when a template is
// saved.
func checkCall(x *ast.Expression, block bool, hs helperSet) string {
	name := x.HelperName()
	switch b := builtins[name]; {
	case b == builtinIf || b == builtinUnless || b == builtinWith || b == builtinEach:
		if !block {
			return fmt.Sprintf("%s needs a block: {{#%s …}}…{{/%s}}", name, name, name)
		}
		if len(x.Params) != 1 {
			return fmt.Sprintf("#%s takes one argument, got %d", name, len(x.Params))
		}
	case b == builtinLookup:
		if len(x.Params) != 2 {
			return fmt.Sprintf("lookup takes 2 arguments, got %d", len(x.Params))
		}
	case b == builtinLog:
	default:
		if h, ok := hs.lookup(name); ok {
			if len(x.Params) != h.args {
				return fmt.Sprintf("%s takes %d argument%s, got %d", name, h.args, plural(h.args), len(x.Params))
			}
			return ""
		}
		if len(x.Params) > 0 || x.Hash != nil {
			if name == "" {
				name = x.Canonical()
			}
			return fmt.Sprintf("unknown helper %q", name)
		}
	}
	return ""
}

// walk calls fn on every node of the tree in source order.
func walk(n ast.Node, fn func(ast.Node)) {
	if n == nil {
		return
	}
	fn(n)
	switch n := n.(type) {
	case *ast.Program:
		for _, s := range n.Body {
			walk(s, fn)
		}
	case *ast.MustacheStatement:
		walk(n.Expression, fn)
	case *ast.BlockStatement:
		walk(n.Expression, fn)
		if n.Program != nil {
			walk(n.Program, fn)
		}
		if n.Inverse != nil {
			walk(n.Inverse, fn)
		}
	case *ast.PartialStatement:
		walk(n.Name, fn)
		for _, p := range n.Params {
			walk(p, fn)
		}
		walkHash(n.Hash, fn)
	case *ast.Expression:
		walk(n.Path, fn)
		for _, p := range n.Params {
			walk(p, fn)
		}
		walkHash(n.Hash, fn)
	case *ast.SubExpression:
		walk(n.Expression, fn)
	}
}

func walkHash(h *ast.Hash, fn func(ast.Node)) {
	if h == nil {
		return
	}
	for _, p := range h.Pairs {
		walk(p.Val, fn)
	}
}

// position turns a byte offset into a 1-based line and character column.
func position(src string, pos int) (line, col int) {
	pos = min(max(pos, 0), len(src))
	before := src[:pos]
	line = strings.Count(before, "\n") + 1
	col = utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:]) + 1
	return line, col
}

var (
	reParseLine = regexp.MustCompile(`^Parse error on line (\d+):\n`)
	// raymond names the offending token as "got: 'Kind{"val"}'" or "Token: Kind{"val"}".
	reParseToken = regexp.MustCompile(`(?:got: '|Token: )(.*?)'?$`)
)

// parserErrorPosition finds where raymond's parser stopped. Its errors give
// the line and print the offending token; the column comes from finding
// that token on that line (or the line's first tag for errors about a
// block's closing tag).
func parserErrorPosition(src string, toks []lexer.Token, text string) (line, col int, msg string) {
	m := reParseLine.FindStringSubmatch(text)
	if m == nil {
		return 1, 1, text
	}
	line, _ = strconv.Atoi(m[1])
	body := strings.Split(text[len(m[0]):], "\n")
	msg = body[0]
	want := ""
	for _, l := range body {
		if tm := reParseToken.FindStringSubmatch(l); tm != nil {
			want = tm[1]
		}
	}
	var first, closing, match = -1, -1, -1
	for _, t := range toks {
		if t.Line != line {
			continue
		}
		if t.Kind != lexer.TokenContent && first < 0 {
			first = t.Pos
		}
		if t.Kind == lexer.TokenOpenEndBlock && closing < 0 {
			closing = t.Pos
		}
		if want != "" && t.String() == want && match < 0 {
			match = t.Pos
		}
	}
	pos := first
	switch {
	case match >= 0:
		pos = match
	case closing >= 0 && (strings.Contains(msg, "match") || strings.Contains(msg, "closing")):
		pos = closing
	}
	if pos < 0 {
		return line, 1, msg
	}
	_, col = position(src, pos)
	return line, col, msg
}
