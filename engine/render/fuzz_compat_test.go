package render

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// FuzzHandlebarsJSDifferential builds templates from the fuzz input out of
// the pieces template authors combine (nested and indented blocks, else
// chains, partials, ../, @data, literals, numeric names, ~, comments, CR
// and CRLF) and requires handlebars.js and Switchboard to print the same
// text or both refuse the template. Run it with
//
//	go test ./engine/render -run '^$' -fuzz FuzzHandlebarsJSDifferential -fuzztime 60s -parallel 1
//
// Without -fuzz only the seeds run, as part of the normal tests.
func FuzzHandlebarsJSDifferential(f *testing.F) {
	node := nodeWithHandlebars(f)
	for _, seed := range []string{
		"\x00\x01\x20\x21\x30\x31\xff\xfe",
		"\x00\x23\x01\x23\x22\x22\xff\x23\xff\x23",
		"\x02\x30\x26\x27\x28\x29\x2a\xff",
		"\x03\x20\x2b\x2c\x2d\x2e\x2f\x21\xff",
		"\x05\x23\x34\x35\x36\x37\x38\x39\x3a\x3b\x3c",
	} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	writeFile(f, dir, "partials/p.hbs", fuzzPartial)
	r := newTestRenderer(f, dir)
	var data any
	if err := json.Unmarshal([]byte(fuzzData), &data); err != nil {
		f.Fatal(err)
	}
	js := &jsRenderer{node: node}
	f.Fuzz(func(t *testing.T, program []byte) {
		text := fuzzTemplate(program)
		p, err := r.PreviewText("", "fuzz", text, data)
		want, jsErr, jsFailed := js.render(text, data)
		if jsFailed != nil {
			t.Fatal(jsFailed)
		}
		switch {
		case err != nil && jsErr == "":
			// The pieces hold none of the constructs docs/templates.md
			// says are refused, so a refusal here is a difference.
			t.Fatalf("template %q: handlebars.js prints %q, Switchboard refuses it: %v", text, want, err)
		case err != nil:
			return // refused by both
		case jsErr != "":
			t.Fatalf("template %q: Switchboard prints %q, handlebars.js fails: %s", text, p.Output, jsErr)
		case p.Output != want:
			t.Fatalf("template %q:\nhandlebars.js %q\nSwitchboard   %q", text, want, p.Output)
		}
	})
}

const (
	fuzzPartial = "{{#if a}}\n  [{{x}}|{{../x}}|{{@index}}|{{n}}]\n{{/if}}\n"
	// Objects list their keys in alphabetical order: #each over a map goes
	// in key order here, in insertion order in handlebars.js.
	fuzzData = `{"a": true, "b": false, "x": "X", "n": "N", "z": 0, "e": [],
	  "o": {"a": 1, "n": "ON", "o": {"x": "OOX"}, "x": "OX"},
	  "l": [{"n": "L0", "o": {"x": "LOX"}, "x": "LX0"}, {"a": 0, "l": [{"n": "LL"}], "n": "L1\r\nnext"}],
	  "0": {"n": "zero"}, "42": "forty-two", "true": "T", "s": "a\rb"}`
)

// Blocks the generator opens; it closes each one it opened.
var fuzzBlocks = [][2]string{
	{"{{#if a}}", "{{/if}}"}, {"{{#unless b}}", "{{/unless}}"}, {"{{#each l}}", "{{/each}}"},
	{"{{#with o}}", "{{/with}}"}, {"{{#each l as |i k|}}", "{{/each}}"}, {"{{#o}}", "{{/o}}"},
	{"{{^z}}", "{{/z}}"}, {"{{#if z includeZero=true}}", "{{/if}}"}, {"{{#each e}}", "{{/each}}"},
	{"{{~#if a~}}", "{{~/if~}}"}, {"{{#with l.0.o}}", "{{/with}}"}, {"{{#\"o\"}}", "{{/\"o\"}}"},
	{"{{#each o}}", "{{/each}}"}, {"{{#if (eq x \"X\")}}", "{{/if}}"}, {"{{#with l.1 as |w|}}", "{{/with}}"},
	{"{{#each ../l}}", "{{/each}}"}, {"{{#unless @first}}", "{{/unless}}"}, {"  {{#if a}}\n", "  {{/if}}\n"},
}

// Everything else it writes.
var fuzzPieces = []string{
	"{{x}}", "{{../x}}", "{{../../x}}", "{{@index}}", "{{@key}}", "{{@first}}", "{{@last}}", "{{@root.x}}",
	"{{this}}", "{{.}}", "{{n}}", "{{i}}", "{{k}}", "{{i.n}}", "{{> p}}", "{{> p o}}", "{{> p x=n}}",
	"{{~x~}}", "{{~n}}", "{{x~}}", "{{!c}}", "{{!-- c --}}", "{{0.n}}", "{{l.1.n}}", "{{l.1.l.0.n}}",
	`{{"x"}}`, "{{42}}", "{{true}}", `{{lookup . "x"}}`, "{{{x}}}", "{{&n}}", "\\{{x}}", "{{else}}",
	"{{else if b}}", "{{else if a}}", "{{s}}", "{{s.length}}", "{{l.length}}", "{{#if a}}{{else}}{{/if}}",
	"{{l.1}}", "{{0}}", "{{-1}}", "{{1.5}}", "{{@key}}={{this}}", `{{default n "d"}}`, "{{> p a=false}}", "{{~> p~}}", "{{w.n}}", "{{lookup l 1}}",
	"{{lookup ../l @index}}", "{{./x}}", "{{this.x}}", "{{[x]}}", "{{@root.l.0.n}}", "{{@../index}}",
	"{{join e \",\"}}", "{{upper n}}", "{{truncate s 1}}", "{{pluralize l \"item\"}}", "{{indent n 2}}",
	"\n", "\n", "\n", "\r\n", "\r", "  ", "  ", "\t", "a", "b c",
}

// fuzzTemplate turns fuzz bytes into a template: 0xff closes the innermost
// open block, a byte below len(fuzzBlocks) opens one, any other picks a
// piece.
func fuzzTemplate(program []byte) string {
	var b strings.Builder
	var open []string
	for _, c := range program {
		switch {
		case c == 0xff:
			if len(open) > 0 {
				b.WriteString(open[len(open)-1])
				open = open[:len(open)-1]
			}
		case int(c) < len(fuzzBlocks):
			b.WriteString(fuzzBlocks[c][0])
			open = append(open, fuzzBlocks[c][1])
		default:
			b.WriteString(fuzzPieces[int(c)%len(fuzzPieces)])
		}
	}
	for i := len(open) - 1; i >= 0; i-- {
		b.WriteString(open[i])
	}
	return b.String()
}

// jsRenderer keeps one node process (compat.js --lines) per fuzz worker.
type jsRenderer struct {
	node string
	once sync.Once
	in   *json.Encoder
	out  *bufio.Scanner
	err  error
}

func (j *jsRenderer) render(text string, data any) (out, jsErr string, err error) {
	j.once.Do(func() {
		cmd := exec.Command(j.node, filepath.Join(compatDir, "compat.js"), "--lines")
		stdin, err := cmd.StdinPipe()
		if err != nil {
			j.err = err
			return
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			j.err = err
			return
		}
		// The process ends when the fuzz worker does and stdin closes.
		if j.err = cmd.Start(); j.err != nil {
			return
		}
		j.in = json.NewEncoder(stdin)
		j.out = bufio.NewScanner(stdout)
		j.out.Buffer(nil, 16<<20)
		j.err = j.in.Encode(map[string]any{"partials": map[string]string{"p": fuzzPartial}})
	})
	if j.err != nil {
		return "", "", fmt.Errorf("node compat.js --lines: %w", j.err)
	}
	if err := j.in.Encode(map[string]any{"template": text, "data": data}); err != nil {
		return "", "", err
	}
	if !j.out.Scan() {
		return "", "", fmt.Errorf("node compat.js --lines stopped: %v", j.out.Err())
	}
	var res struct {
		Output *string `json:"output"`
		Error  string  `json:"error"`
	}
	if err := json.Unmarshal(j.out.Bytes(), &res); err != nil {
		return "", "", err
	}
	if res.Output == nil {
		return "", res.Error, nil
	}
	return *res.Output, "", nil
}
