package render

import (
	"errors"
	"strings"
	"testing"
)

// TestMatchesHandlebarsJS pins cases where Switchboard differed from
// handlebars.js 4.7. Each want is what handlebars.js 4.7.8 prints for the
// template (noEscape) and data; the same cases run against handlebars.js
// itself in the compatibility corpus (testdata/compat/corpus).
func TestMatchesHandlebarsJS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "partials/climb.hbs", "[{{../t}}|{{n}}|{{@index}}|{{@root.t}}|{{#with .}}{{../n}}{{/with}}]")
	writeFile(t, dir, "partials/climb_ctx.hbs", "{{n}}/{{../n}}/{{../../n}}")
	writeFile(t, dir, "partials/climb_hash.hbs", "{{x}}/{{n}}/{{../n}}")
	writeFile(t, dir, "partials/own_blocks.hbs", "{{#each l}}{{../n}}{{/each}}")
	writeFile(t, dir, "partials/lines.hbs", "P\nQ\n")
	r := newTestRenderer(t, dir)
	tests := []struct {
		name, tpl string
		data      map[string]any
		want      string
	}{
		// Item 10: a standalone tag is judged on the text as written.
		{"nested indented closes", "{{#if f}}\n{{#if f}}\nx\n{{/if}}\n  {{/if}}\nend\n", map[string]any{"f": true}, "x\nend\n"},
		{"nested indented each", "{{#with o}}\n  {{#each l}}\n    - {{.}}\n    {{/each}}\n  {{/with}}\n",
			map[string]any{"o": map[string]any{"l": []any{1, 2}}}, "    - 1\n    - 2\n"},
		{"nested indented CRLF", "{{#if f}}\r\n  {{#if f}}\r\n  x\r\n  {{/if}}\r\n  {{/if}}\r\nend\r\n", map[string]any{"f": true}, "  x\r\nend\r\n"},
		{"close before a tag on its line", "x\n{{#if f}}\ny\n{{/if}}  {{z}}\n", map[string]any{"f": true, "z": "Z"}, "x\ny\n  Z\n"},
		{"standalone partial in a block", "{{#if f}}\n  {{> lines}}\n{{/if}}\n", map[string]any{"f": true}, "  P\n  Q\n"},
		// Item 11: a partial's ../ starts at the partial's context.
		{"partial ../ in each", "{{#each items}}{{> climb}}{{/each}}",
			map[string]any{"t": "T", "items": []any{map[string]any{"n": "a"}}}, "[|a|0|T|]"},
		{"partial ../ with a context", "{{#with a}}{{> climb_ctx b}}{{/with}}",
			map[string]any{"a": map[string]any{"n": "A", "b": map[string]any{"n": "B"}}}, "B//"},
		{"partial ../ with a hash", "{{#with a}}{{> climb_hash x=n}}{{/with}}",
			map[string]any{"n": "R", "a": map[string]any{"n": "A"}}, "A/A/"},
		{"partial ../ in its own blocks", "{{#each items}}{{> own_blocks}}{{/each}}",
			map[string]any{"items": []any{map[string]any{"n": "a", "l": []any{1}}}}, "a"},
		// Item 11: a literal where a name belongs is that name.
		{"literals are names", "{{\"foo\"}}|{{true}}|{{42}}|{{false}}|{{-1}}|{{1.50}}|{{007}}|{{'a.b'}}",
			map[string]any{"foo": "FOO", "true": "T", "42": "N", "false": "F", "-1": "M", "1.5": "H", "7": "S", "a.b": "D"},
			"FOO|T|N|F|M|H|S|D"},
		{"literal blocks", "{{#\"foo\"}}x{{/\"foo\"}}|{{#42}}[{{this}}]{{/42}}|{{^false}}n{{/false}}",
			map[string]any{"foo": true, "42": []any{1, 2}, "false": 0}, "x|[1][2]|"},
		{"quoted helper names", `{{"lookup" . "x"}}|{{#"if" t}}y{{/"if"}}`, map[string]any{"x": "X", "t": 1}, "X|y"},
		{"null argument", "{{null}}|{{#if null}}T{{else}}F{{/if}}|{{#if undefined}}T{{else}}F{{/if}}",
			map[string]any{"null": "N", "undefined": "U"}, "N|F|F"},
		// Item 11: a number followed by . / = | is a name.
		{"numeric segments", "{{customers.0.name}}|{{0.x}}|{{a.0/b}}|{{a.1-2}}|{{a.0b}}|{{a.-1.b}}|{{#each customers.1.tags}}{{.}}{{/each}}",
			map[string]any{
				"customers": []any{map[string]any{"name": "A"}, map[string]any{"tags": []any{"t1", "t2"}}},
				"0":         map[string]any{"x": "Z"},
				"a":         map[string]any{"0": map[string]any{"b": "X"}, "1-2": "Y", "0b": "Z", "-1": map[string]any{"b": "W"}},
			},
			"A|Z|X|Y|Z|W|t1t2"},
		// A line break inside a tag is a space, CRLF included.
		{"CRLF inside a tag", "{{#if a\r\n}}x{{/if}}|{{#each l\r\nas |i|}}{{i}}{{/each}}|{{a\v}}{{a\f}}",
			map[string]any{"a": 1, "l": []any{1, 2}}, "x|12|11"},
		// A text's length is JavaScript's: UTF-16 code units.
		{"text length", "{{s.length}}|{{t.length}}", map[string]any{"s": "😀a", "t": "äb"}, "3|2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := r.PreviewText("", "t", tt.tpl, tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if p.Output != tt.want {
				t.Errorf("got %q, handlebars.js prints %q", p.Output, tt.want)
			}
		})
	}
}

// TestNumberEndingPathRefused: handlebars.js cannot parse customers.0 (a
// number after a dot, then }} or a space, is a number); Save says what to
// write instead.
func TestNumberEndingPathRefused(t *testing.T) {
	t.Parallel()
	r := newTestRenderer(t, t.TempDir())
	for _, tt := range []struct{ text, want string }{
		{"{{customers.0}}", "write customers.[0]"},
		{"x\n{{#each a.1.5 }}{{/each}}", "write a.[1].[5]"},
		{"{{lookup ../a.0 \"x\"}}", "write ../a.[0]"},
		{"{{@root.list.2}}", "write @root.list.[2]"},
	} {
		err := r.Save("", "t", tt.text)
		var pe *ParseError
		if !errors.As(err, &pe) || !strings.Contains(pe.Message, tt.want) {
			t.Errorf("Save(%q) = %v, want a *ParseError saying %q", tt.text, err, tt.want)
		}
	}
}
