package connectwisetest

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// The conditions language as connectwise-psa-api.md §3 lists it: field paths
// with "/", strings in double or single quotes, bare numbers and booleans,
// datetimes in brackets, the operators = != < <= > >= contains like in, not,
// and/or in any case, parentheses, and "!= null". How a quote inside a
// quoted value is escaped is not documented (§3, [U]), so the simulator
// accepts none: a string ends at its first matching quote.

// cond is a parsed condition expression.
type cond interface {
	match(rec map[string]any) bool
}

type andCond []cond
type orCond []cond
type notCond struct{ c cond }

type cmpCond struct {
	path []string
	op   string // = != < <= > >= contains like in
	vals []value
}

// value is one literal of an expression.
type value struct {
	kind byte // 's' string, 'n' number, 'b' bool, 't' time, '0' null
	s    string
	n    float64
	b    bool
	t    time.Time
}

func (a andCond) match(rec map[string]any) bool {
	for _, c := range a {
		if !c.match(rec) {
			return false
		}
	}
	return true
}

func (o orCond) match(rec map[string]any) bool {
	for _, c := range o {
		if c.match(rec) {
			return true
		}
	}
	return false
}

func (n notCond) match(rec map[string]any) bool { return !n.c.match(rec) }

func (c cmpCond) match(rec map[string]any) bool {
	got, ok := lookup(rec, c.path)
	if c.op == "in" {
		for _, v := range c.vals {
			if ok && compare(got, v) == 0 {
				return true
			}
		}
		return false
	}
	v := c.vals[0]
	if v.kind == '0' {
		isNull := !ok || got == nil
		switch c.op {
		case "=":
			return isNull
		case "!=":
			return !isNull
		}
		return false
	}
	if !ok || got == nil {
		return false
	}
	switch c.op {
	case "contains":
		s, isStr := got.(string)
		return isStr && v.kind == 's' && strings.Contains(s, v.s)
	case "like":
		s, isStr := got.(string)
		return isStr && v.kind == 's' && like(s, v.s)
	}
	r := compare(got, v)
	switch c.op {
	case "=":
		return r == 0
	case "!=":
		return r != 0 && r != incomparable
	case "<":
		return r == -1
	case "<=":
		return r == -1 || r == 0
	case ">":
		return r == 1
	case ">=":
		return r == 1 || r == 0
	}
	return false
}

const incomparable = 2

// compare orders a stored value against a literal: -1, 0, 1, or
// incomparable when their kinds differ.
func compare(got any, v value) int {
	switch g := got.(type) {
	case string:
		switch v.kind {
		case 's':
			return strings.Compare(g, v.s)
		case 't':
			t, err := time.Parse(time.RFC3339, g)
			if err != nil {
				return incomparable
			}
			return t.Compare(v.t)
		}
	case float64:
		if v.kind == 'n' {
			return cmpFloat(g, v.n)
		}
	case int64:
		if v.kind == 'n' {
			return cmpFloat(float64(g), v.n)
		}
	case bool:
		if v.kind == 'b' {
			if g == v.b {
				return 0
			}
			return incomparable
		}
	}
	return incomparable
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// like matches SQL-style: % is any run of characters.
func like(s, pattern string) bool {
	parts := strings.Split(pattern, "%")
	if len(parts) == 1 {
		return s == pattern
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

// lookup follows a/b/c through nested objects.
func lookup(rec map[string]any, path []string) (any, bool) {
	var cur any = rec
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// parseConditions reads an expression; an empty one matches everything.
func parseConditions(text string) (cond, error) {
	toks, err := tokenize(text)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return andCond{}, nil
	}
	p := &parser{toks: toks}
	c, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		return nil, fmt.Errorf("unexpected %q at position %d", p.toks[p.i].text, p.toks[p.i].pos)
	}
	return c, nil
}

type token struct {
	kind byte // 'w' word, 's' string, 't' datetime, 'o' operator, '(' ')' ','
	text string
	pos  int
}

func tokenize(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')' || c == ',':
			out = append(out, token{kind: c, text: string(c), pos: i})
			i++
		case c == '"' || c == '\'':
			end := strings.IndexByte(s[i+1:], c)
			if end < 0 {
				return nil, fmt.Errorf("unterminated string starting at position %d", i)
			}
			out = append(out, token{kind: 's', text: s[i+1 : i+1+end], pos: i})
			i += end + 2
		case c == '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("unterminated datetime starting at position %d", i)
			}
			out = append(out, token{kind: 't', text: s[i+1 : i+end], pos: i})
			i += end + 1
		case c == '=' || c == '<' || c == '>' || c == '!':
			op := string(c)
			if i+1 < len(s) && s[i+1] == '=' {
				op += "="
			}
			if op == "!" {
				return nil, fmt.Errorf("unexpected ! at position %d", i)
			}
			out = append(out, token{kind: 'o', text: op, pos: i})
			i += len(op)
		default:
			j := i
			for j < len(s) && (isWordByte(s[j])) {
				j++
			}
			if j == i {
				return nil, fmt.Errorf("unexpected %q at position %d", string(s[i]), i)
			}
			out = append(out, token{kind: 'w', text: s[i:j], pos: i})
			i = j
		}
	}
	return out, nil
}

func isWordByte(b byte) bool {
	return b == '/' || b == '_' || b == '.' || b == '-' || b == '+' || b < 0x80 && (unicode.IsLetter(rune(b)) || unicode.IsDigit(rune(b)))
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peekWord(w string) bool {
	return p.i < len(p.toks) && p.toks[p.i].kind == 'w' && strings.EqualFold(p.toks[p.i].text, w)
}

// or and and read a run of operands joined by their word; one operand
// stands alone.
func (p *parser) or() (cond, error) {
	parts, err := p.joined("or", p.and)
	if err != nil || len(parts) == 1 {
		return first(parts), err
	}
	return orCond(parts), nil
}

func (p *parser) and() (cond, error) {
	parts, err := p.joined("and", p.factor)
	if err != nil || len(parts) == 1 {
		return first(parts), err
	}
	return andCond(parts), nil
}

func (p *parser) joined(word string, operand func() (cond, error)) ([]cond, error) {
	var out []cond
	for {
		c, err := operand()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		if !p.peekWord(word) {
			return out, nil
		}
		p.i++
	}
}

func first(cs []cond) cond {
	if len(cs) == 0 {
		return nil
	}
	return cs[0]
}

func (p *parser) factor() (cond, error) {
	if p.i >= len(p.toks) {
		return nil, fmt.Errorf("the expression ends too early")
	}
	t := p.toks[p.i]
	switch {
	case t.kind == 'w' && strings.EqualFold(t.text, "not"):
		p.i++
		c, err := p.factor()
		return notCond{c}, err
	case t.kind == '(':
		p.i++
		c, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.i >= len(p.toks) || p.toks[p.i].kind != ')' {
			return nil, fmt.Errorf("missing ) for ( at position %d", t.pos)
		}
		p.i++
		return c, nil
	case t.kind != 'w':
		return nil, fmt.Errorf("expected a field name at position %d, found %q", t.pos, t.text)
	}
	p.i++
	c := cmpCond{path: strings.Split(t.text, "/")}
	negate := false
	if p.peekWord("not") {
		negate = true
		p.i++
	}
	if p.i >= len(p.toks) {
		return nil, fmt.Errorf("expected an operator after %s", t.text)
	}
	op := p.toks[p.i]
	p.i++
	switch {
	case op.kind == 'o':
		c.op = op.text
	case op.kind == 'w' && (strings.EqualFold(op.text, "contains") || strings.EqualFold(op.text, "like") || strings.EqualFold(op.text, "in")):
		c.op = strings.ToLower(op.text)
	default:
		return nil, fmt.Errorf("expected an operator after %s at position %d, found %q", t.text, op.pos, op.text)
	}
	if c.op == "in" {
		vals, err := p.list()
		if err != nil {
			return nil, err
		}
		c.vals = vals
	} else {
		v, err := p.literal()
		if err != nil {
			return nil, err
		}
		c.vals = []value{v}
	}
	if negate {
		return notCond{c}, nil
	}
	return c, nil
}

func (p *parser) list() ([]value, error) {
	if p.i >= len(p.toks) || p.toks[p.i].kind != '(' {
		return nil, fmt.Errorf("in needs a list such as (1,2,3)")
	}
	p.i++
	var out []value
	for {
		v, err := p.literal()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		if p.i >= len(p.toks) {
			return nil, fmt.Errorf("the list is not closed with )")
		}
		t := p.toks[p.i]
		p.i++
		if t.kind == ')' {
			return out, nil
		}
		if t.kind != ',' {
			return nil, fmt.Errorf("expected , or ) at position %d", t.pos)
		}
	}
}

func (p *parser) literal() (value, error) {
	if p.i >= len(p.toks) {
		return value{}, fmt.Errorf("the expression ends before a value")
	}
	t := p.toks[p.i]
	p.i++
	switch t.kind {
	case 's':
		return value{kind: 's', s: t.text}, nil
	case 't':
		tm, err := time.Parse(time.RFC3339, strings.TrimSpace(t.text))
		if err != nil {
			return value{}, fmt.Errorf("[%s] is not a UTC ISO-8601 datetime", t.text)
		}
		return value{kind: 't', t: tm}, nil
	case 'w':
		switch strings.ToLower(t.text) {
		case "true", "false":
			return value{kind: 'b', b: strings.EqualFold(t.text, "true")}, nil
		case "null":
			return value{kind: '0'}, nil
		}
		n, err := strconv.ParseFloat(t.text, 64)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			return value{}, fmt.Errorf("%q at position %d is not a value: quote strings", t.text, t.pos)
		}
		return value{kind: 'n', n: n}, nil
	}
	return value{}, fmt.Errorf("expected a value at position %d, found %q", t.pos, t.text)
}
