package render

import (
	"regexp"

	"github.com/aymerick/raymond/ast"
)

// raymond strips whitespace around tags while it parses, but it decides
// whether a tag stands alone on its line by looking at the text the
// previous tag already stripped, where handlebars.js looks at the text as
// written. After a standalone {{/if}} that took the line break away, the
// next line's indented {{/if}} no longer looked standalone and left its
// indentation behind as a whitespace-only line. raymond also lets a block's
// closing tag stand alone before a tag on the same line at the root. So
// the tree's text is put back as written and whitespace control is done
// again here, by handlebars.js 4's rules (its whitespace-control.js):
//
//   - a tag's ~ strips all whitespace on that side, line breaks included;
//   - a block tag, else, partial or comment alone on its line (only spaces
//     and tabs around it) takes its line with it; a partial alone on its
//     line indents every line it prints by the spaces before it;
//   - "alone" is judged on the original text next to the tag, and at the
//     start or end of the template a line needs no line break.

// jsSpace is JavaScript's \s, which handlebars.js's patterns use: wider
// than RE2's \s.
const jsSpace = `[\t\n\v\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}]`

var (
	reLineBefore        = regexp.MustCompile(`\r?\n` + jsSpace + `*?$`)
	reLineOrStartBefore = regexp.MustCompile(`(^|\r?\n)` + jsSpace + `*?$`)
	reLineAfter         = regexp.MustCompile(`^` + jsSpace + `*?\r?\n`)
	reLineOrEndAfter    = regexp.MustCompile(`^` + jsSpace + `*?(\r?\n|$)`)

	reLeadingLine   = regexp.MustCompile(`^[ \t]*\r?\n?`)
	reLeadingSpace  = regexp.MustCompile(`^` + jsSpace + `+`)
	reTrailingTabs  = regexp.MustCompile(`[ \t]+$`)
	reTrailingSpace = regexp.MustCompile(jsSpace + `+$`)
)

// strip is what a statement asks of the text around it.
type strip struct {
	open, close      bool // ~ inside the opening or closing braces
	openStandalone   bool // a block whose opening tag may stand alone
	closeStandalone  bool // a block whose closing tag may stand alone
	inlineStandalone bool // a partial or comment, which may stand alone
}

// controlWhitespace redoes whitespace control on a tree raymond parsed.
func controlWhitespace(p *ast.Program) {
	walk(p, func(n ast.Node) {
		switch n := n.(type) {
		case *ast.ContentStatement:
			n.Value, n.LeftStripped, n.RightStripped = n.Original, false, false
		case *ast.PartialStatement:
			n.Indent = ""
		}
	})
	(&whitespace{}).program(p)
}

type whitespace struct{ rootSeen bool }

func (w *whitespace) program(p *ast.Program) {
	root := !w.rootSeen
	w.rootSeen = true
	body := p.Body
	for i, n := range body {
		s, ok := w.statement(n)
		if !ok {
			continue
		}
		before, after := lineBefore(body, i, root), lineAfter(body, i, root)
		if s.close {
			trimAfter(body, i, true)
		}
		if s.open {
			trimBefore(body, i, true)
		}
		if s.inlineStandalone && before && after {
			trimAfter(body, i, false)
			if trimBefore(body, i, false) {
				if partial, ok := n.(*ast.PartialStatement); ok {
					partial.Indent = reTrailingTabs.FindString(body[i-1].(*ast.ContentStatement).Original)
				}
			}
		}
		b, ok := n.(*ast.BlockStatement)
		if !ok {
			continue
		}
		if s.openStandalone && before {
			trimAfter(orProgram(b.Program, b.Inverse).Body, -1, false)
			trimBefore(body, i, false)
		}
		if s.closeStandalone && after {
			trimAfter(body, i, false)
			last := orProgram(b.Inverse, b.Program).Body
			trimBefore(last, len(last), false)
		}
	}
}

// statement handles the programs inside n and says what n asks of the
// text around it; ok is false for text.
func (w *whitespace) statement(n ast.Node) (s strip, ok bool) {
	switch n := n.(type) {
	case *ast.BlockStatement:
		return w.block(n), true
	case *ast.MustacheStatement:
		return tildes(n.Strip), true
	case *ast.PartialStatement:
		s = tildes(n.Strip)
		s.inlineStandalone = true
		return s, true
	case *ast.CommentStatement:
		s = tildes(n.Strip)
		s.inlineStandalone = true
		return s, true
	}
	return strip{}, false
}

func tildes(s *ast.Strip) strip {
	if s == nil {
		return strip{}
	}
	return strip{open: s.Open, close: s.Close}
}

func (w *whitespace) block(b *ast.BlockStatement) strip {
	if b.Program != nil {
		w.program(b.Program)
	}
	if b.Inverse != nil {
		w.program(b.Inverse)
	}
	program, inverse := b.Program, b.Inverse
	if program == nil {
		program, inverse = inverse, nil
	}
	// In an {{else if}} chain, the first else's text starts the first
	// nested program and the closing tag's text ends the last one.
	first, last := inverse, inverse
	if inverse != nil && inverse.Chained {
		first = inverse.Body[0].(*ast.BlockStatement).Program
		for last.Chained {
			last = last.Body[len(last.Body)-1].(*ast.BlockStatement).Program
		}
	}
	closing := orProgram(first, program)
	s := strip{
		openStandalone:  lineAfter(program.Body, -1, false),
		closeStandalone: lineBefore(closing.Body, len(closing.Body), false),
	}
	open, inv, cls := tildes(b.OpenStrip), tildes(b.InverseStrip), tildes(b.CloseStrip)
	s.open, s.close = open.open, cls.close
	if open.close {
		trimAfter(program.Body, -1, true)
	}
	if inverse == nil {
		if cls.open {
			trimBefore(program.Body, len(program.Body), true)
		}
		return s
	}
	if inv.open {
		trimBefore(program.Body, len(program.Body), true)
	}
	if inv.close {
		trimAfter(first.Body, -1, true)
	}
	if cls.open {
		trimBefore(last.Body, len(last.Body), true)
	}
	// A standalone {{else}}.
	if lineBefore(program.Body, len(program.Body), false) && lineAfter(first.Body, -1, false) {
		trimBefore(program.Body, len(program.Body), false)
		trimAfter(first.Body, -1, false)
	}
	return s
}

// orProgram is the first of a and b that is not nil.
func orProgram(a, b *ast.Program) *ast.Program {
	if a != nil {
		return a
	}
	return b
}

// lineBefore reports whether only spaces stand between body[i] and the
// line break before it (or the template's start, at the root).
func lineBefore(body []ast.Node, i int, root bool) bool {
	if i < 1 {
		return root
	}
	c, ok := body[i-1].(*ast.ContentStatement)
	if !ok {
		return false
	}
	if i == 1 && root {
		return reLineOrStartBefore.MatchString(c.Original)
	}
	return reLineBefore.MatchString(c.Original)
}

// lineAfter reports whether only spaces stand between body[i] and the
// line break after it (or the template's end, at the root).
func lineAfter(body []ast.Node, i int, root bool) bool {
	if i+1 >= len(body) {
		return root
	}
	c, ok := body[i+1].(*ast.ContentStatement)
	if !ok {
		return false
	}
	if i+2 >= len(body) && root {
		return reLineOrEndAfter.MatchString(c.Original)
	}
	return reLineAfter.MatchString(c.Original)
}

// trimAfter strips the start of the text after body[i]: all whitespace,
// or (once) the spaces and the line break that end the tag's line.
func trimAfter(body []ast.Node, i int, all bool) {
	if i+1 >= len(body) {
		return
	}
	c, ok := body[i+1].(*ast.ContentStatement)
	if !ok || !all && c.RightStripped {
		return
	}
	before := c.Value
	if all {
		c.Value = reLeadingSpace.ReplaceAllString(c.Value, "")
	} else {
		c.Value = reLeadingLine.ReplaceAllString(c.Value, "")
	}
	c.RightStripped = c.Value != before
}

// trimBefore strips the end of the text before body[i]: all whitespace,
// or (once) the spaces that start the tag's line. It reports whether it
// stripped anything.
func trimBefore(body []ast.Node, i int, all bool) bool {
	if i < 1 || i > len(body) {
		return false
	}
	c, ok := body[i-1].(*ast.ContentStatement)
	if !ok || !all && c.LeftStripped {
		return false
	}
	before := c.Value
	if all {
		c.Value = reTrailingSpace.ReplaceAllString(c.Value, "")
	} else {
		c.Value = reTrailingTabs.ReplaceAllString(c.Value, "")
	}
	c.LeftStripped = c.Value != before
	return c.LeftStripped
}
