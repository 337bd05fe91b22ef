package render

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPreviewDefaultsHaveNoMissing(t *testing.T) {
	t.Parallel()
	r := newTestRenderer(t, "")
	for _, name := range defaultTemplates {
		p, err := r.Preview("", name, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := render(t, r, "", name, NewData(SampleSession(), time.UTC))
		if p.Output != want {
			t.Errorf("%s: preview output differs from a render of the sample session", name)
		}
		if len(p.Missing) > 0 {
			t.Errorf("%s: the sample session leaves placeholders empty: %q", name, p.Missing)
		}
	}
}

func TestPreviewLint(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "partials/sig.hbs", "-- {{rep.nmae}}")
	r := newTestRenderer(t, dir)
	full := NewData(SampleSession(), nil)
	bare := NewData(noCustomer(), nil)
	tests := []struct {
		name string
		text string
		data any
		want []string
	}{
		{"typo printed", "Hi {{customer.nmae}}!", full, []string{"line 1, column 6: {{customer.nmae}} printed nothing"}},
		{"empty field printed", "Key: {{externalKey}}", bare, []string{"line 1, column 8: {{externalKey}} printed nothing"}},
		{"found", "{{lsid}} {{customer.name}}", full, nil},
		{"typo in condition", "{{#if custmer}}x{{/if}}\n{{#each chatt}}{{/each}}", full, []string{
			"line 1, column 7: custmer is not a field",
			"line 2, column 9: chatt is not a field",
		}},
		{"absent optional section", "{{#if customer}}{{customer.name}}{{/if}}{{#with recordings}}{{view}}{{/with}}", bare, nil},
		{"typo in helper argument", `{{upper customer.compny}} {{default rep.nmae "x"}}`, full, []string{
			"line 1, column 9: customer.compny is not a field",
			"line 1, column 37: rep.nmae is not a field",
		}},
		{"typo in hash", `{{formatTime start "15:04" tz=timeZon}}`, full, []string{"line 1, column 31: timeZon is not a field"}},
		{"sometimes empty is fine", "{{#each chat}}{{to}}{{/each}}", full, nil},
		{"never evaluated is not reported", "{{#if false}}{{nothing}}{{/if}}", full, nil},
		{"each context", "{{#each chat}}{{speaker}}{{speakr}}{{../lsid}}{{@index}}{{/each}}", full, []string{"line 1, column 28: {{speakr}} printed nothing"}},
		{"block params", "{{#each reps as |r|}}{{r.name}}{{r.nam}}{{/each}}", full, []string{"line 1, column 34: {{r.nam}} printed nothing"}},
		{"partial", "{{> sig}}", full, []string{"partials/sig: line 1, column 6: {{rep.nmae}} printed nothing"}},
		{"map data names are open", `{{#if nope}}{{/if}}{{default x "y"}}`, map[string]any{"a": 1}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := r.PreviewText("", "t", tt.text, tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.Missing, tt.want) {
				t.Errorf("Missing = %q\nwant      %q", p.Missing, tt.want)
			}
		})
	}
}

func TestPreviewRefusesBadText(t *testing.T) {
	t.Parallel()
	r := newTestRenderer(t, "")
	if _, err := r.PreviewText("", "t", "{{#if x}}", nil); err == nil {
		t.Error("broken text previewed")
	}
	if _, err := r.Preview("", "nothere", nil); err == nil {
		t.Error("missing template previewed")
	}
}

// FuzzRender feeds arbitrary templates and data through the whole
// pipeline: check, rewrite, parse, render and lint must return errors,
// never panic.
func FuzzRender(f *testing.F) {
	for _, name := range defaultTemplates {
		b, err := os.ReadFile(filepath.Join("..", "..", "templates", name+".hbs"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b), `{}`)
	}
	corpus, err := filepath.Glob(filepath.Join("testdata", "compat", "corpus", "*.hbs"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range corpus {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		data, _ := os.ReadFile(strings.TrimSuffix(p, ".hbs") + ".json")
		f.Add(string(b), string(data))
	}
	f.Add("{{#each x as |a b|}}{{a}}{{b}}{{/each}}", `{"x":[1,"two",{"a":null}]}`)
	f.Add("{{lookup . 1}}{{{{raw}}}}{{x}}{{{{/raw}}}}", `[1,2]`)
	f.Add("{{formatTime x \"2006\" tz=y}}{{truncate x -1}}{{pluralize x \"a\"}}", `{"x":"2025-01-01T00:00:00Z","y":"UTC"}`)
	r, err := New(Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text, data string) {
		var v any
		if json.Unmarshal([]byte(data), &v) != nil {
			v = NewData(SampleSession(), nil)
		}
		// Errors are fine; a panic fails the fuzz run by itself.
		_, _ = r.PreviewText("", "fuzz", text, v)
	})
}
