package render

import (
	"reflect"
	"slices"
	"sync/atomic"

	"github.com/aymerick/raymond/ast"
)

// A template is parsed by raymond once and compiled here into a tree that
// renders without map lookups: helpers are bound, block parameters are
// resolved to their scope, and every path step keeps the field index it
// found last time for the struct type it met.

// program is a compiled template body.
type program struct {
	nodes       []node
	blockParams []string
	// sizeHint is the length of the last output, so a render of similar
	// data allocates its buffer once.
	sizeHint atomic.Int64
}

type node interface{ isNode() }

type textNode struct{ text string }

// outputNode is {{x}}.
type outputNode struct{ x *expr }

// blockNode is {{#x}}…{{else}}…{{/x}} or {{^x}}…{{/x}}.
type blockNode struct {
	x           *expr
	fn, inverse *program
	line        int
}

// partialNode is {{> name ctx key=value}}.
type partialNode struct {
	name    string
	dynamic *expr // {{> (expr)}}
	ctx     *expr
	hash    []hashArg
	indent  string
	nArgs   int
	line    int
}

func (textNode) isNode()    {}
func (outputNode) isNode()  {}
func (blockNode) isNode()   {}
func (partialNode) isNode() {}

type exprKind int

const (
	exprPath exprKind = iota
	exprLiteral
	exprCall
)

// builtin names the built-in helpers the evaluator runs itself.
type builtin int

const (
	notBuiltin builtin = iota
	builtinIf
	builtinUnless
	builtinEach
	builtinWith
	builtinLookup
	builtinLog
)

var builtins = map[string]builtin{
	"if": builtinIf, "unless": builtinUnless, "each": builtinEach,
	"with": builtinWith, "lookup": builtinLookup, "log": builtinLog,
}

// expr is a path, a literal or a helper call.
type expr struct {
	kind    exprKind
	path    *pathExpr
	literal reflect.Value
	// Calls only.
	name    string
	helper  *helper
	builtin builtin
	args    []*expr
	hash    []hashArg
	line    int
}

type hashArg struct {
	key   string
	value *expr
}

// pathExpr is a compiled path expression.
type pathExpr struct {
	src   *ast.PathExpression // for lint
	data  bool                // @index, @root.x, …
	depth int                 // number of ../
	// scope and param locate a block parameter: scope is how many blocks
	// with parameters up, param which of its parameters; scope < 0 when the
	// path does not start with one.
	scope, param int
	parts        []step
}

// step is one name of a path, with the field index it found last.
type step struct {
	name string
	hit  *atomic.Pointer[fieldHit]
}

type fieldHit struct {
	t     reflect.Type
	index int
}

// compiler turns raymond's AST into a program.
type compiler struct {
	helpers helperSet
	scopes  [][]string // block parameters of the enclosing blocks, innermost last
}

func compile(p *ast.Program, hs helperSet) *program {
	return (&compiler{helpers: hs}).program(p)
}

func (c *compiler) program(p *ast.Program) *program {
	if p == nil {
		return nil
	}
	out := &program{blockParams: p.BlockParams}
	if len(p.BlockParams) > 0 {
		c.scopes = append(c.scopes, p.BlockParams)
		defer func() { c.scopes = c.scopes[:len(c.scopes)-1] }()
	}
	for _, n := range p.Body {
		switch n := n.(type) {
		case *ast.ContentStatement:
			if n.Value != "" {
				out.nodes = append(out.nodes, textNode{n.Value})
			}
		case *ast.MustacheStatement:
			out.nodes = append(out.nodes, outputNode{c.statement(n.Expression)})
		case *ast.BlockStatement:
			out.nodes = append(out.nodes, blockNode{
				x:       c.statement(n.Expression),
				fn:      c.program(n.Program),
				inverse: c.program(n.Inverse),
				line:    n.Location().Line,
			})
		case *ast.PartialStatement:
			out.nodes = append(out.nodes, c.partial(n))
		}
	}
	return out
}

// statement compiles the expression of a mustache or block: a lone name
// that is a helper is a call without arguments.
func (c *compiler) statement(x *ast.Expression) *expr {
	if len(x.Params) == 0 && x.Hash == nil && !c.helpers.isHelper(x.HelperName()) {
		if p, ok := x.Path.(*ast.PathExpression); ok {
			return &expr{kind: exprPath, path: c.path(p)}
		}
		return c.expr(x.Path)
	}
	return c.call(x)
}

func (c *compiler) call(x *ast.Expression) *expr {
	e := &expr{kind: exprCall, name: x.HelperName(), line: x.Location().Line}
	if h, ok := c.helpers.lookup(e.name); ok {
		e.helper = &h
	}
	e.builtin = builtins[e.name]
	for _, p := range x.Params {
		e.args = append(e.args, c.expr(p))
	}
	e.hash = c.hash(x.Hash)
	return e
}

func (c *compiler) hash(h *ast.Hash) []hashArg {
	if h == nil {
		return nil
	}
	out := make([]hashArg, 0, len(h.Pairs))
	for _, p := range h.Pairs {
		out = append(out, hashArg{p.Key, c.expr(p.Val)})
	}
	return out
}

func (c *compiler) expr(n ast.Node) *expr {
	switch n := n.(type) {
	case *ast.PathExpression:
		if isNullLiteral(n) {
			return &expr{kind: exprLiteral}
		}
		return &expr{kind: exprPath, path: c.path(n)}
	case *ast.StringLiteral:
		return &expr{kind: exprLiteral, literal: reflect.ValueOf(n.Value)}
	case *ast.NumberLiteral:
		return &expr{kind: exprLiteral, literal: reflect.ValueOf(n.Number())}
	case *ast.BooleanLiteral:
		return &expr{kind: exprLiteral, literal: reflect.ValueOf(n.Value)}
	case *ast.SubExpression:
		return c.call(n.Expression)
	case *ast.Expression:
		return c.statement(n)
	}
	return &expr{kind: exprLiteral}
}

func (c *compiler) path(n *ast.PathExpression) *pathExpr {
	p := &pathExpr{src: n, data: n.Data, depth: n.Depth, scope: -1}
	parts := n.Parts
	if !n.Data && n.Depth == 0 && !n.Scoped && len(parts) > 0 {
		// Block parameters are lexical, as in handlebars.js.
		for up := range c.scopes {
			names := c.scopes[len(c.scopes)-1-up]
			if i := slices.Index(names, parts[0]); i >= 0 {
				p.scope, p.param = up, i
				parts = parts[1:]
				break
			}
		}
	}
	for _, part := range parts {
		p.parts = append(p.parts, step{name: unbracket(unmark(part)), hit: new(atomic.Pointer[fieldHit])})
	}
	return p
}

func (c *compiler) partial(n *ast.PartialStatement) partialNode {
	p := partialNode{indent: n.Indent, line: n.Location().Line, nArgs: len(n.Params), hash: c.hash(n.Hash)}
	if sub, ok := n.Name.(*ast.SubExpression); ok {
		p.dynamic = c.call(sub.Expression)
	} else {
		p.name, _ = ast.HelperNameStr(n.Name)
	}
	if len(n.Params) > 0 {
		p.ctx = c.expr(n.Params[0])
	}
	return p
}

func unbracket(s string) string {
	if len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' {
		return s[1 : len(s)-1]
	}
	return s
}
