package render

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/aymerick/raymond/ast"
)

// Templates are parsed by raymond and evaluated here. raymond's own
// evaluator costs 0.5–3 ms for a 50-line report (reflection on every name,
// fmt.Sprintf for every value, quadratic string building in #each), 20 times
// the budget; it also HTML-escapes. This evaluator walks raymond's AST with
// cached field indexes, writes into one buffer and never escapes, and
// follows handlebars.js 4 where raymond differs, since that is what
// template authors read: no lookup in parent contexts without ../, a
// partial's hash extends its context, lists print comma-separated.

// maxPartialDepth bounds partials including partials, so a partial that
// includes itself is an error rather than a stack overflow.
const maxPartialDepth = 32

// evalError is a template error found while rendering; execute turns it
// into the returned error.
type evalError struct{ err error }

func fail(format string, args ...any) { panic(evalError{fmt.Errorf(format, args...)}) }

// frame is a data frame: @index, @key, @first, @last of an #each, chained
// to the frame of the enclosing #each for @../index.
type frame struct {
	parent *frame
	root   reflect.Value
	index  int
	key    reflect.Value
	first  bool
	last   bool
	each   bool
}

// blockScope holds the block parameters of one block: as |item index|.
type blockScope struct {
	names  []string
	values [2]reflect.Value
}

type evaluator struct {
	out      *strings.Builder
	ctx      []reflect.Value
	frame    *frame
	scopes   []blockScope
	partials map[string]*ast.Program
	depth    int
	lint     *lintRun
	file     string
}

// execute renders prog with data and the given partials, turning every
// error and panic (a helper's bug included) into the returned error.
func execute(name string, prog *ast.Program, partials map[string]*ast.Program, data any, lint *lintRun) (out string, err error) {
	var b strings.Builder
	root := reflect.ValueOf(data)
	e := &evaluator{
		out:      &b,
		ctx:      []reflect.Value{root},
		frame:    &frame{root: root},
		partials: partials,
		lint:     lint,
		file:     name,
	}
	defer func() {
		if p := recover(); p != nil {
			var ee evalError
			if pe, ok := p.(evalError); ok {
				ee = pe
			} else if perr, ok := p.(error); ok {
				ee = evalError{perr}
			} else {
				ee = evalError{fmt.Errorf("%v", p)}
			}
			out, err = "", fmt.Errorf("render %s: %w", name, ee.err)
		}
	}()
	e.program(prog)
	return b.String(), nil
}

func (e *evaluator) program(p *ast.Program) {
	if p == nil {
		return
	}
	for _, n := range p.Body {
		switch n := n.(type) {
		case *ast.ContentStatement:
			e.out.WriteString(n.Value)
		case *ast.MustacheStatement:
			e.mustache(n)
		case *ast.BlockStatement:
			e.block(n)
		case *ast.PartialStatement:
			e.partial(n)
		}
	}
}

func (e *evaluator) mustache(n *ast.MustacheStatement) {
	x := n.Expression
	if len(x.Params) == 0 && x.Hash == nil {
		if name := helperName(x); name != "" {
			writeValue(e.out, e.callHelper(name, x))
			return
		}
		v := e.expr(x.Path)
		if p, ok := x.Path.(*ast.PathExpression); ok && e.lint != nil {
			e.lint.record(e.file, p, v, true)
		}
		writeValue(e.out, v)
		return
	}
	name := helperName(x)
	if name == "" {
		fail("line %d: unknown helper %q", x.Location().Line, x.HelperName())
	}
	writeValue(e.out, e.callHelper(name, x))
}

// helperName returns the helper an expression calls, or "".
func helperName(x *ast.Expression) string {
	p, ok := x.Path.(*ast.PathExpression)
	if !ok || p.Data || p.Depth > 0 || len(p.Parts) != 1 || p.Scoped {
		return ""
	}
	if _, ok := helpers[p.Parts[0]]; ok || blockHelpers[p.Parts[0]] {
		return p.Parts[0]
	}
	return ""
}

// blockHelpers are the built-in helpers that run a block.
var blockHelpers = map[string]bool{"if": true, "unless": true, "each": true, "with": true, "lookup": true, "log": true}

func (e *evaluator) block(n *ast.BlockStatement) {
	x := n.Expression
	name := helperName(x)
	if name == "" {
		if len(x.Params) > 0 || x.Hash != nil {
			fail("line %d: unknown helper %q", x.Location().Line, x.HelperName())
		}
		e.sectionBlock(n, e.param(x.Path))
		return
	}
	if !blockHelpers[name] || name == "lookup" || name == "log" {
		writeValue(e.out, e.callHelper(name, x))
		return
	}
	args := e.args(x)
	if len(args) != 1 {
		fail("line %d: #%s takes one argument, got %d", x.Location().Line, name, len(args))
	}
	v := args[0]
	switch name {
	case "if", "unless":
		cond := truthy(v)
		if ih, ok := e.hash(x)["includeZero"]; ok && truthy(ih) && isNumber(v) {
			cond = true
		}
		if cond == (name == "if") {
			e.program(n.Program)
		} else {
			e.program(n.Inverse)
		}
	case "with":
		if isEmpty(v) {
			e.program(n.Inverse)
			return
		}
		e.withContext(n.Program, v, v, reflect.Value{}, nil)
	case "each":
		e.each(n, v)
	}
}

// sectionBlock is {{#name}}…{{/name}} where name is not a helper: the
// handlebars.js blockHelperMissing rules.
func (e *evaluator) sectionBlock(n *ast.BlockStatement, v reflect.Value) {
	v = indirect(v)
	switch {
	case !v.IsValid():
		e.program(n.Inverse)
	case v.Kind() == reflect.Bool:
		if v.Bool() {
			e.program(n.Program)
		} else {
			e.program(n.Inverse)
		}
	case v.Kind() == reflect.Slice || v.Kind() == reflect.Array:
		if v.Len() == 0 {
			e.program(n.Inverse)
			return
		}
		e.each(n, v)
	default:
		e.withContext(n.Program, v, v, reflect.Value{}, nil)
	}
}

// withContext runs p with ctx as this and up to two block parameters.
func (e *evaluator) withContext(p *ast.Program, ctx, param0, param1 reflect.Value, f *frame) {
	if p == nil {
		return
	}
	e.ctx = append(e.ctx, ctx)
	if len(p.BlockParams) > 0 {
		e.scopes = append(e.scopes, blockScope{names: p.BlockParams, values: [2]reflect.Value{param0, param1}})
	}
	saved := e.frame
	if f != nil {
		e.frame = f
	}
	e.program(p)
	e.frame = saved
	if len(p.BlockParams) > 0 {
		e.scopes = e.scopes[:len(e.scopes)-1]
	}
	e.ctx = e.ctx[:len(e.ctx)-1]
}

// each runs the block once per item of a list, field of a struct or
// entry of a map (in key order), else its inverse.
func (e *evaluator) each(n *ast.BlockStatement, v reflect.Value) {
	v = indirect(v)
	ran := false
	iter := func(i, count int, key, item reflect.Value) {
		ran = true
		f := &frame{parent: e.frame, root: e.frame.root, index: i, key: key, first: i == 0, last: i == count-1, each: true}
		second := key
		if !key.IsValid() {
			second = reflect.ValueOf(i)
		}
		e.withContext(n.Program, item, item, second, f)
	}
	switch v.Kind() {
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			iter(i, v.Len(), reflect.Value{}, v.Index(i))
		}
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(str(a), str(b)) })
		for i, k := range keys {
			iter(i, len(keys), k, v.MapIndex(k))
		}
	case reflect.Struct:
		fs := structFields(v.Type())
		for i, f := range fs.ordered {
			iter(i, len(fs.ordered), reflect.ValueOf(f.name), v.Field(f.index))
		}
	}
	if !ran {
		e.program(n.Inverse)
	}
}

func (e *evaluator) partial(n *ast.PartialStatement) {
	var name string
	switch p := n.Name.(type) {
	case *ast.SubExpression:
		name = str(e.expr(p))
	default:
		name, _ = ast.HelperNameStr(p)
	}
	prog := e.partials[name]
	if prog == nil {
		fail("line %d: partial %q not found", n.Location().Line, name)
	}
	if e.depth >= maxPartialDepth {
		fail("line %d: partials nested more than %d deep", n.Location().Line, maxPartialDepth)
	}
	if len(n.Params) > 1 {
		fail("line %d: a partial takes at most one context argument", n.Location().Line)
	}
	ctx := e.ctx[len(e.ctx)-1]
	if len(n.Params) == 1 {
		ctx = e.param(n.Params[0])
	}
	if n.Hash != nil {
		ctx = reflect.ValueOf(&extended{base: ctx, hash: e.hashOf(n.Hash)})
	}
	saved, savedFile := e.out, e.file
	var buf strings.Builder
	if n.Indent != "" {
		e.out = &buf
	}
	e.depth++
	e.file = partialDir + "/" + name
	e.ctx = append(e.ctx, ctx)
	e.program(prog)
	e.ctx = e.ctx[:len(e.ctx)-1]
	e.file = savedFile
	e.depth--
	if n.Indent != "" {
		e.out = saved
		e.out.WriteString(indentLines(buf.String(), n.Indent))
	}
}

// indentLines puts indent before every line of a standalone partial's
// output, as handlebars.js does.
func indentLines(s, indent string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString(indent)
			b.WriteString(l)
		}
	}
	return b.String()
}

// extended is a partial's context with its hash arguments on top.
type extended struct {
	base reflect.Value
	hash map[string]reflect.Value
}

var extendedType = reflect.TypeFor[*extended]()

// expr evaluates a parameter: a path, a literal or a sub-expression.
func (e *evaluator) expr(n ast.Node) reflect.Value {
	switch n := n.(type) {
	case *ast.PathExpression:
		return e.path(n)
	case *ast.StringLiteral:
		return reflect.ValueOf(n.Value)
	case *ast.NumberLiteral:
		return reflect.ValueOf(n.Number())
	case *ast.BooleanLiteral:
		return reflect.ValueOf(n.Value)
	case *ast.SubExpression:
		x := n.Expression
		name := helperName(x)
		if name == "" {
			fail("line %d: unknown helper %q", x.Location().Line, x.HelperName())
		}
		return e.callHelper(name, x)
	case *ast.Expression:
		return e.expr(n.Path)
	}
	return reflect.Value{}
}

// path resolves a path expression the way handlebars.js 4 does: block
// parameters first, @data from the frames, then the context ../ names,
// with no search of parent contexts.
func (e *evaluator) path(p *ast.PathExpression) reflect.Value {
	parts := p.Parts
	var v reflect.Value
	switch {
	case p.Data:
		if len(parts) == 0 {
			return reflect.Value{}
		}
		f := e.frame
		for range p.Depth {
			if f.parent == nil {
				return reflect.Value{}
			}
			f = f.parent
		}
		v = f.data(parts[0])
		parts = parts[1:]
	case p.Depth == 0 && !p.Scoped && len(parts) > 0 && e.isBlockParam(parts[0]):
		v = e.blockParam(parts[0])
		parts = parts[1:]
	default:
		i := len(e.ctx) - 1 - p.Depth
		if i < 0 {
			return reflect.Value{}
		}
		v = e.ctx[i]
	}
	for _, part := range parts {
		if v = field(v, unbracket(part)); !v.IsValid() {
			return v
		}
	}
	return v
}

// param evaluates a helper argument, noting for lint whether a path in it
// resolved.
func (e *evaluator) param(n ast.Node) reflect.Value {
	v := e.expr(n)
	if p, ok := n.(*ast.PathExpression); ok && e.lint != nil {
		e.lint.record(e.file, p, v, false)
	}
	return v
}

func unbracket(s string) string {
	if len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' {
		return s[1 : len(s)-1]
	}
	return s
}

func (f *frame) data(name string) reflect.Value {
	switch name {
	case "root":
		return f.root
	case "index":
		if f.each {
			return reflect.ValueOf(f.index)
		}
	case "key":
		if f.each {
			if f.key.IsValid() {
				return f.key
			}
			return reflect.ValueOf(f.index)
		}
	case "first":
		if f.each {
			return reflect.ValueOf(f.first)
		}
	case "last":
		if f.each {
			return reflect.ValueOf(f.last)
		}
	}
	return reflect.Value{}
}

func (e *evaluator) isBlockParam(name string) bool {
	for i := len(e.scopes) - 1; i >= 0; i-- {
		if slices.Contains(e.scopes[i].names, name) {
			return true
		}
	}
	return false
}

func (e *evaluator) blockParam(name string) reflect.Value {
	for i := len(e.scopes) - 1; i >= 0; i-- {
		s := e.scopes[i]
		if j := slices.Index(s.names, name); j >= 0 {
			if j < len(s.values) {
				return s.values[j]
			}
			return reflect.Value{}
		}
	}
	return reflect.Value{}
}

// args evaluates a call's positional arguments.
func (e *evaluator) args(x *ast.Expression) []reflect.Value {
	if len(x.Params) == 0 {
		return nil
	}
	out := make([]reflect.Value, len(x.Params))
	for i, p := range x.Params {
		out[i] = e.param(p)
	}
	return out
}

func (e *evaluator) hash(x *ast.Expression) map[string]reflect.Value {
	if x.Hash == nil {
		return nil
	}
	return e.hashOf(x.Hash)
}

func (e *evaluator) hashOf(h *ast.Hash) map[string]reflect.Value {
	out := make(map[string]reflect.Value, len(h.Pairs))
	for _, p := range h.Pairs {
		out[p.Key] = e.param(p.Val)
	}
	return out
}

// callHelper runs a value helper (or lookup/log) and returns its result.
func (e *evaluator) callHelper(name string, x *ast.Expression) reflect.Value {
	args := e.args(x)
	switch name {
	case "lookup":
		if len(args) != 2 {
			fail("line %d: lookup takes 2 arguments, got %d", x.Location().Line, len(args))
		}
		return field(args[0], str(args[1]))
	case "log":
		return reflect.Value{}
	}
	h, ok := helpers[name]
	if !ok {
		fail("line %d: %s needs a block: {{#%s …}}…{{/%s}}", x.Location().Line, name, name, name)
	}
	if len(args) != h.args {
		fail("line %d: %s takes %d argument%s, got %d", x.Location().Line, name, h.args, plural(h.args), len(args))
	}
	res := h.fn(&call{name: name, args: args, hash: e.hash(x)})
	if rv, ok := res.(reflect.Value); ok {
		return rv
	}
	return reflect.ValueOf(res)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// fieldSet is the names a struct type answers to.
type fieldSet struct {
	byName  map[string]int
	ordered []namedField
}

type namedField struct {
	name  string
	index int
}

var fieldCache sync.Map // reflect.Type → *fieldSet

// structFields lists the exported fields of t under their template names:
// the json tag, the handlebars tag, the Go name and the Go name with a
// lower-case first letter.
func structFields(t reflect.Type) *fieldSet {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.(*fieldSet)
	}
	fs := &fieldSet{byName: map[string]int{}}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := strings.ToLower(f.Name[:1]) + f.Name[1:]
		if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag != "" && tag != "-" {
			name = tag
		}
		fs.ordered = append(fs.ordered, namedField{name, i})
		for _, n := range []string{f.Tag.Get("handlebars"), f.Name, strings.ToLower(f.Name[:1]) + f.Name[1:], name} {
			if _, taken := fs.byName[n]; n != "" && !taken {
				fs.byName[n] = i
			}
		}
	}
	fieldCache.Store(t, fs)
	return fs
}

// field returns the member name of v: a struct field, a map entry, a list
// item by number, or a list's length.
func field(v reflect.Value, name string) reflect.Value {
	v = indirect(v)
	if !v.IsValid() {
		return v
	}
	if v.Type() == extendedType.Elem() {
		x := v.Addr().Interface().(*extended)
		if hv, ok := x.hash[name]; ok {
			return hv
		}
		return field(x.base, name)
	}
	switch v.Kind() {
	case reflect.Struct:
		if i, ok := structFields(v.Type()).byName[name]; ok {
			return v.Field(i)
		}
	case reflect.Map:
		if v.Type().Key().Kind() == reflect.String {
			return v.MapIndex(reflect.ValueOf(name).Convert(v.Type().Key()))
		}
	case reflect.Slice, reflect.Array, reflect.String:
		if name == "length" {
			if v.Kind() == reflect.String {
				return reflect.ValueOf(len([]rune(v.String())))
			}
			return reflect.ValueOf(v.Len())
		}
		if i, err := strconv.Atoi(name); err == nil && i >= 0 && i < v.Len() && v.Kind() != reflect.String {
			return v.Index(i)
		}
	}
	return reflect.Value{}
}

// indirect follows pointers and interfaces; nil gives the invalid value.
func indirect(v reflect.Value) reflect.Value {
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) {
		if v.IsNil() {
			return reflect.Value{}
		}
		if v.Type() == extendedType {
			return v.Elem()
		}
		v = v.Elem()
	}
	return v
}

var errNotPrintable = errors.New("value cannot be printed")

var (
	stringerType = reflect.TypeFor[fmt.Stringer]()
	stringType   = reflect.TypeFor[string]()
	timeType     = reflect.TypeFor[Time]()
)

// writeValue prints a value as handlebars.js prints its JSON twin.
func writeValue(b *strings.Builder, v reflect.Value) {
	v = indirect(v)
	if !v.IsValid() {
		return
	}
	if v.Type() == stringType {
		b.WriteString(v.String())
		return
	}
	b.WriteString(str(v))
}

// str is the text of a value: Stringers print themselves, lists print
// their items comma-separated, objects print [object Object].
func str(v reflect.Value) string {
	v = indirect(v)
	if !v.IsValid() {
		return ""
	}
	if v.Type().Implements(stringerType) {
		return v.Interface().(fmt.Stringer).String()
	}
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'f', -1, 64)
	case reflect.Slice, reflect.Array:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = str(v.Index(i))
		}
		return strings.Join(parts, ",")
	case reflect.Map, reflect.Struct:
		return "[object Object]"
	}
	panic(evalError{fmt.Errorf("%w: %s", errNotPrintable, v.Type())})
}

// truthy is handlebars.js's #if test: false, 0, "", null, an empty list
// and an unset time are false; any object is true.
func truthy(v reflect.Value) bool {
	v = indirect(v)
	if !v.IsValid() {
		return false
	}
	switch v.Kind() {
	case reflect.Bool:
		return v.Bool()
	case reflect.String:
		return v.Len() > 0
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() != 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() != 0
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		return f != 0 && f == f
	case reflect.Slice, reflect.Array:
		return v.Len() > 0
	case reflect.Struct:
		if v.Type() == timeType {
			return !v.Interface().(Time).t.IsZero()
		}
	}
	return true
}

func isNumber(v reflect.Value) bool {
	v = indirect(v)
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// isEmpty is handlebars.js's test for #with: false, "", null and an empty
// list, but not 0.
func isEmpty(v reflect.Value) bool { return !truthy(v) && !isNumber(v) }
