package render

import (
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
)

// Templates are parsed by raymond and evaluated here. raymond's own
// evaluator costs 0.5–3 ms for a 50-line report (reflection on every name,
// fmt.Sprintf for every value, quadratic string building in #each), 20 times
// the budget; it also HTML-escapes. This evaluator runs the tree compile.go
// builds from raymond's AST, writes into one buffer, never escapes, and
// follows handlebars.js 4 where raymond differs, since that is what
// template authors read: no lookup in parent contexts without ../, a
// partial's hash extends its context, lists print comma-separated.

// none is the value of a name that resolves to nothing.
var none reflect.Value

// maxPooledScratch caps the helper buffer a pooled evaluator keeps.
const maxPooledScratch = 64 << 10

// maxPartialDepth bounds partials including partials, so a partial that
// includes itself is an error rather than a stack overflow.
const maxPartialDepth = 32

// A render that runs more blocks than maxRuns, or writes more than
// maxOutput bytes, is a template error: nested {{#each}} or partials that
// include each other twice multiply, and a template must not hold a worker
// (or the admin's preview) for minutes or fill its memory. The default
// report of a large session runs a few thousand blocks.
const (
	maxRuns   = 2_000_000
	maxOutput = 4 << 20
)

// errTooBig tells the admin why such a render stopped.
var errTooBig = errors.New("the template does too much work")

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

type evaluator struct {
	out *output
	ctx []reflect.Value
	// ctxBase is where the running partial's contexts start: as in
	// handlebars.js, ../ in a partial never climbs into its caller's.
	ctxBase  int
	frame    *frame
	scopes   [][2]reflect.Value // block parameter values, innermost last
	vals     []reflect.Value    // helper arguments being evaluated
	partials map[string]*program
	depth    int
	runs     int // blocks run so far, bounded by maxRuns
	lint     *lintRun
	file     string

	scratch []byte // text helpers' output on its way to out
	root    frame
}

// evaluators are reused: a render then allocates little besides its text.
var evaluators = sync.Pool{New: func() any { return new(evaluator) }}

// execute renders prog with data and the given partials, turning every
// error and panic into the returned error: a *TemplateError for what the
// template did, ErrInternal (logged with its stack) for a bug.
func execute(name string, prog *program, partials map[string]*program, data any, lint *lintRun, log *slog.Logger) (out string, err error) {
	b := newOutput(int(prog.sizeHint.Load()))
	root := reflect.ValueOf(data)
	e := evaluators.Get().(*evaluator)
	e.out, e.partials, e.lint, e.file, e.depth, e.runs = b, partials, lint, name, 0, 0
	e.ctx = append(e.ctx[:0], root)
	e.scopes, e.vals = e.scopes[:0], e.vals[:0]
	e.root = frame{root: root}
	e.frame = &e.root
	defer func() {
		// Keep the stacks' capacity, not the data they pointed to.
		clear(e.ctx[:cap(e.ctx)])
		clear(e.scopes[:cap(e.scopes)])
		clear(e.vals[:cap(e.vals)])
		scratch := e.scratch[:0]
		if cap(scratch) > maxPooledScratch {
			scratch = nil
		}
		*e = evaluator{ctx: e.ctx[:0], scopes: e.scopes[:0], vals: e.vals[:0], scratch: scratch}
		evaluators.Put(e)
	}()
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		out = ""
		if ee, ok := p.(evalError); ok {
			err = &TemplateError{fmt.Errorf("render %s: %w", name, ee.err)}
			return
		}
		log.Error("render: internal error, a bug rather than the template", "template", name,
			"panic", fmt.Sprintf("%v", p), "stack", string(debug.Stack()))
		if perr, ok := p.(error); ok {
			err = fmt.Errorf("render %s: %w: %w", name, ErrInternal, perr)
		} else {
			err = fmt.Errorf("render %s: %w: %v", name, ErrInternal, p)
		}
	}()
	e.run(prog, none, none, none, nil)
	prog.sizeHint.Store(int64(b.Len()))
	return b.String(), nil
}

// run renders p. A valid ctx becomes this for the block; param0 and param1
// are its block parameters; a non-nil f is its data frame.
func (e *evaluator) run(p *program, ctx, param0, param1 reflect.Value, f *frame) {
	if p == nil {
		return
	}
	if e.runs++; e.runs > maxRuns || e.out.Len() > maxOutput {
		fail("%w: it ran %d blocks and wrote %d bytes before it was stopped (at most %d blocks and %d MiB); look for nested {{#each}} or partials that include each other", errTooBig, e.runs, e.out.Len(), maxRuns, maxOutput>>20)
	}
	// No defers restore the stacks: a panic ends the whole render.
	nctx, nscopes, savedFrame := len(e.ctx), len(e.scopes), e.frame
	if ctx.IsValid() && !same(ctx, e.ctx[len(e.ctx)-1]) {
		// As in handlebars.js, a block whose context is the current one
		// adds no level for ../ to climb.
		e.ctx = append(e.ctx, ctx)
	}
	if len(p.blockParams) > 0 {
		e.scopes = append(e.scopes, [2]reflect.Value{param0, param1})
	}
	if f != nil {
		e.frame = f
	}
	for _, n := range p.nodes {
		switch n := n.(type) {
		case textNode:
			e.out.WriteString(n.text)
		case outputNode:
			e.output(n.x)
		case blockNode:
			e.block(&n)
		case partialNode:
			e.partial(&n)
		}
	}
	e.ctx, e.scopes = e.ctx[:nctx], e.scopes[:nscopes]
	if f != nil {
		e.frame = savedFrame
	}
}

func (e *evaluator) output(x *expr) {
	var v reflect.Value
	switch x.kind {
	case exprPath:
		v = e.path(x.path)
		if e.lint != nil {
			e.lint.record(e.file, x.path.src, v, true)
		}
	case exprLiteral:
		v = x.literal
	case exprCall:
		if x.helper != nil && x.helper.appendText != nil {
			e.callText(x)
			return
		}
		v = e.call(x)
	}
	writeValue(e.out, v)
}

func (e *evaluator) block(n *blockNode) {
	x := n.x
	if x.kind != exprCall {
		e.section(n, e.param(x))
		return
	}
	switch x.builtin {
	case builtinIf, builtinUnless, builtinWith, builtinEach:
	default:
		writeValue(e.out, e.call(x))
		return
	}
	if len(x.args) != 1 {
		fail("line %d: #%s takes one argument, got %d", x.line, x.name, len(x.args))
	}
	v := e.param(x.args[0])
	switch x.builtin {
	case builtinIf, builtinUnless:
		cond := truthy(v)
		for _, h := range x.hash {
			if h.key == "includeZero" && truthy(e.param(h.value)) && isNumber(v) {
				cond = true
			}
		}
		if cond == (x.builtin == builtinIf) {
			e.run(n.fn, none, none, none, nil)
		} else {
			e.run(n.inverse, none, none, none, nil)
		}
	case builtinWith:
		if isEmpty(v) {
			e.run(n.inverse, none, none, none, nil)
			return
		}
		e.run(n.fn, v, v, none, nil)
	case builtinEach:
		e.each(n, v)
	}
}

// section is {{#name}}…{{/name}} where name is not a helper: the
// handlebars.js blockHelperMissing rules.
func (e *evaluator) section(n *blockNode, v reflect.Value) {
	v = indirect(v)
	switch {
	case !v.IsValid() || v.Kind() == reflect.Bool && !v.Bool():
		e.run(n.inverse, none, none, none, nil)
	case v.Kind() == reflect.Bool:
		e.run(n.fn, none, none, none, nil)
	case v.Kind() == reflect.Slice || v.Kind() == reflect.Array:
		if v.Len() == 0 {
			e.run(n.inverse, none, none, none, nil)
			return
		}
		e.each(n, v)
	default:
		e.run(n.fn, v, v, none, nil)
	}
}

// each runs the block once per item of a list, field of a struct or
// entry of a map (in key order), else its inverse.
func (e *evaluator) each(n *blockNode, v reflect.Value) {
	v = indirect(v)
	var count int
	switch v.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		count = v.Len()
	case reflect.Struct:
		count = len(structFields(v.Type()).ordered)
	}
	if count == 0 {
		e.run(n.inverse, none, none, none, nil)
		return
	}
	// One frame serves every item: an item's frame is only read while the
	// item renders.
	f := &frame{parent: e.frame, root: e.frame.root, each: true}
	iter := func(i int, key, item reflect.Value) {
		f.index, f.key, f.first, f.last = i, key, i == 0, i == count-1
		second := key
		if !key.IsValid() {
			second = reflect.ValueOf(i)
		}
		e.run(n.fn, item, item, second, f)
	}
	switch v.Kind() {
	case reflect.Slice, reflect.Array:
		for i := range count {
			iter(i, none, v.Index(i))
		}
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(str(a), str(b)) })
		for i, k := range keys {
			iter(i, k, v.MapIndex(k))
		}
	case reflect.Struct:
		for i, f := range structFields(v.Type()).ordered {
			iter(i, reflect.ValueOf(f.name), v.Field(f.index))
		}
	}
}

func (e *evaluator) partial(n *partialNode) {
	name := n.name
	if n.dynamic != nil {
		name = str(e.call(n.dynamic))
	}
	prog := e.partials[name]
	if prog == nil {
		fail("line %d: partial %q not found", n.line, name)
	}
	if e.depth >= maxPartialDepth {
		fail("line %d: partials nested more than %d deep", n.line, maxPartialDepth)
	}
	if n.nArgs > 1 {
		fail("line %d: a partial takes at most one context argument", n.line)
	}
	ctx := e.ctx[len(e.ctx)-1]
	if n.ctx != nil {
		ctx = e.param(n.ctx)
	}
	if len(n.hash) > 0 {
		x := &extended{base: ctx, hash: make(map[string]reflect.Value, len(n.hash))}
		for _, h := range n.hash {
			x.hash[h.key] = e.param(h.value)
		}
		ctx = reflect.ValueOf(x)
	}
	if !ctx.IsValid() {
		// A missing context is still a context: names in it resolve to nothing.
		ctx = reflect.ValueOf(map[string]any(nil))
	}
	saved, savedFile, savedBase := e.out, e.file, e.ctxBase
	if n.indent != "" {
		e.out = newOutput(0)
	}
	e.depth++
	e.file = partialDir + "/" + name
	e.ctxBase = len(e.ctx)
	e.ctx = append(e.ctx, ctx)
	e.run(prog, none, none, none, nil)
	e.ctx = e.ctx[:e.ctxBase]
	e.file, e.ctxBase = savedFile, savedBase
	e.depth--
	if n.indent != "" {
		text := e.out.String()
		e.out = saved
		e.out.WriteString(indentLines(text, n.indent))
	}
}

// indentLines puts indent before every line of a standalone partial's
// output, as handlebars.js does.
func indentLines(s, indent string) string {
	var b strings.Builder
	for l := range strings.SplitAfterSeq(s, "\n") {
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

var (
	extendedType   = reflect.TypeFor[*extended]()
	extendedStruct = extendedType.Elem()
)

// expr evaluates an expression.
func (e *evaluator) expr(x *expr) reflect.Value {
	switch x.kind {
	case exprPath:
		return e.path(x.path)
	case exprCall:
		return e.call(x)
	}
	return x.literal
}

// param evaluates a helper argument, noting for lint whether a path in it
// resolved.
func (e *evaluator) param(x *expr) reflect.Value {
	v := e.expr(x)
	if x.kind == exprPath && e.lint != nil {
		e.lint.record(e.file, x.path.src, v, false)
	}
	return v
}

// path resolves a path the way handlebars.js 4 does: block parameters,
// @data from the frames, else the context ../ names, with no search of
// parent contexts.
func (e *evaluator) path(p *pathExpr) reflect.Value {
	var v reflect.Value
	steps := p.parts
	switch {
	case p.data:
		f := e.frame
		for range p.depth {
			if f.parent == nil {
				return none
			}
			f = f.parent
		}
		if len(steps) == 0 {
			return none
		}
		v = f.data(steps[0].name)
		steps = steps[1:]
	case p.scope >= 0:
		i := len(e.scopes) - 1 - p.scope
		if i < 0 {
			return none
		}
		v = e.scopes[i][p.param%2]
		if p.param > 1 {
			return none
		}
	default:
		i := len(e.ctx) - 1 - p.depth
		if i < e.ctxBase {
			return none
		}
		v = e.ctx[i]
	}
	for i := range steps {
		if v = lookup(v, &steps[i]); !v.IsValid() {
			return v
		}
	}
	return v
}

// same reports whether two contexts are the same object (or equal plain
// values), handlebars.js's test for a new ../ level.
func same(a, b reflect.Value) bool {
	for a.Kind() == reflect.Interface && !a.IsNil() {
		a = a.Elem()
	}
	for b.Kind() == reflect.Interface && !b.IsNil() {
		b = b.Elem()
	}
	if !a.IsValid() || !b.IsValid() || a.Type() != b.Type() {
		return false
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return a.Pointer() == b.Pointer()
	case reflect.Slice:
		return a.Pointer() == b.Pointer() && a.Len() == b.Len()
	case reflect.Struct, reflect.Array:
		if a.CanAddr() && b.CanAddr() {
			return a.UnsafeAddr() == b.UnsafeAddr()
		}
	}
	return a.Comparable() && b.Comparable() && a.Equal(b)
}

// lookup takes one step of a path, using the field index the step found
// for the same struct type before.
func lookup(v reflect.Value, s *step) reflect.Value {
	v = indirect(v)
	if v.Kind() == reflect.Struct {
		t := v.Type()
		// A hit is only ever stored for a plain struct type.
		if h := s.hit.Load(); h != nil && h.t == t {
			return v.Field(h.index)
		}
		if t == extendedStruct {
			return field(v, s.name)
		}
		i, ok := structFields(t).byName[s.name]
		if !ok {
			return none
		}
		s.hit.Store(&fieldHit{t, i})
		return v.Field(i)
	}
	return field(v, s.name)
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
	return none
}

// call runs a helper and returns its result.
func (e *evaluator) call(x *expr) reflect.Value {
	base := len(e.vals)
	if x.builtin == builtinLookup || x.builtin == builtinLog {
		args := e.args(x)
		e.vals = e.vals[:base]
		if x.builtin == builtinLog {
			return none
		}
		if len(args) != 2 {
			fail("line %d: lookup takes 2 arguments, got %d", x.line, len(args))
		}
		return field(args[0], str(args[1]))
	}
	res := x.helper.fn(e.helperCall(x))
	if rv, ok := res.(reflect.Value); ok {
		return rv
	}
	return reflect.ValueOf(res)
}

// callText runs a helper that makes text and prints its result, sparing
// the result a trip through an interface.
func (e *evaluator) callText(x *expr) {
	if x.helper.text != nil {
		e.out.WriteString(x.helper.text(e.helperCall(x)))
		return
	}
	e.scratch = x.helper.appendText(e.scratch[:0], e.helperCall(x))
	e.out.Write(e.scratch)
}

// args evaluates the arguments of lookup and log onto the argument stack;
// the caller truncates the stack after the call.
func (e *evaluator) args(x *expr) []reflect.Value {
	base := len(e.vals)
	for _, a := range x.args {
		e.vals = append(e.vals, e.param(a))
	}
	return e.vals[base:len(e.vals):len(e.vals)]
}

// helperCall checks and evaluates the arguments of a helper call.
func (e *evaluator) helperCall(x *expr) call {
	h := x.helper
	switch {
	case h == nil && x.builtin != notBuiltin:
		fail("line %d: %s needs a block: {{#%s …}}…{{/%s}}", x.line, x.name, x.name, x.name)
	case h == nil:
		fail("line %d: unknown helper %q", x.line, x.name)
	case len(x.args) != h.args:
		fail("line %d: %s takes %d argument%s, got %d", x.line, x.name, h.args, plural(h.args), len(x.args))
	}
	c := call{name: x.name}
	for i, a := range x.args {
		c.args[i] = e.param(a)
	}
	if len(x.hash) > 0 {
		c.hash = make(map[string]reflect.Value, len(x.hash))
		for _, p := range x.hash {
			c.hash[p.key] = e.param(p.value)
		}
	}
	return c
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
// item (or a text's UTF-16 code unit) by number, or a list's length.
func field(v reflect.Value, name string) reflect.Value {
	v = indirect(v)
	if !v.IsValid() {
		return v
	}
	if v.Type() == extendedStruct {
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
				return reflect.ValueOf(jsLength(v.String()))
			}
			return reflect.ValueOf(v.Len())
		}
		i, err := strconv.Atoi(name)
		if err != nil || i < 0 {
			break
		}
		if v.Kind() == reflect.String {
			// As JavaScript indexes a string: one UTF-16 code unit (half
			// of a surrogate pair prints as U+FFFD).
			if units := utf16.Encode([]rune(v.String())); i < len(units) {
				return reflect.ValueOf(string(utf16.Decode(units[i : i+1])))
			}
			break
		}
		if i < v.Len() {
			return v.Index(i)
		}
	}
	return none
}

// jsLength is a JavaScript string's length: UTF-16 code units, so an
// emoji counts 2.
func jsLength(s string) int {
	n := 0
	for _, r := range s {
		n += max(utf16.RuneLen(r), 1)
	}
	return n
}

// indirect follows pointers and interfaces; nil gives the invalid value.
func indirect(v reflect.Value) reflect.Value {
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) {
		if v.IsNil() {
			return none
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
func writeValue(b *output, v reflect.Value) {
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
	if v.Type() == stringType {
		return v.String()
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
		return jsNumber(v.Float())
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
