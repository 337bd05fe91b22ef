package render

import (
	"fmt"
	"path"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/aymerick/raymond"
)

// Preview is a template rendered for the admin, with its lint.
type Preview struct {
	Output string `json:"output"`
	// Missing lists the placeholders that resolved to nothing, in template
	// order: a printed {{x}} that printed nothing every time it ran, and a
	// helper argument that named no field of the data. raymond has no
	// strict mode, so this is how typos show.
	Missing []string `json:"missing"`
}

// Preview renders the template serving name in set against data (the
// built-in sample session when data is nil) and lints it.
func (r *Renderer) Preview(set, name string, data any) (Preview, error) {
	text, err := r.Source(set, name)
	if err != nil {
		return Preview{}, err
	}
	return r.PreviewText(set, name, text, data)
}

// PreviewText is Preview for text not saved yet, as the editor shows it
// before Save: it renders as name would in set, with the set's partials.
func (r *Renderer) PreviewText(set, name, text string, data any) (Preview, error) {
	s, err := r.set(set)
	if err != nil {
		return Preview{}, err
	}
	if data == nil {
		data = NewData(SampleSession(), time.UTC)
	}
	c := s.current()
	partials := map[string]*file{}
	for n, f := range c.files {
		if p, ok := strings.CutPrefix(n, partialDir+"/"); ok && n != name {
			partials[p] = f
		}
	}
	if err := check(name, text, func(p string) bool { return partials[p] != nil }); err != nil {
		return Preview{}, err
	}

	tpl, err := raymond.Parse(prepare(text, nil, name))
	if err != nil {
		return Preview{}, fmt.Errorf("render: preview %s: %w", name, err)
	}
	tpl.RegisterHelpers(helpers)
	for p, f := range partials {
		tpl.RegisterPartialTemplate(p, f.tpl)
	}
	out, err := execute(tpl, name, data)
	if err != nil {
		return Preview{}, err
	}

	missing, err := lint(name, text, partials, data)
	if err != nil {
		return Preview{}, err
	}
	return Preview{Output: out, Missing: missing}, nil
}

// siteState is what one lint run saw of a placeholder.
type siteState struct{ seen, resolved bool }

// lint renders a copy of the template whose placeholders report what they
// resolve to, and lists those that never resolved to anything.
func lint(name, text string, partials map[string]*file, data any) ([]string, error) {
	table := &lintTable{}
	tpl, err := raymond.Parse(prepare(text, table, name))
	if err != nil {
		return nil, fmt.Errorf("render: lint %s: %w", name, err)
	}
	for p, f := range partials {
		pt, err := raymond.Parse(prepare(f.text, table, f.name))
		if err != nil {
			return nil, fmt.Errorf("render: lint %s: %w", f.name, err)
		}
		tpl.RegisterPartialTemplate(p, pt)
	}
	states := make([]siteState, len(table.sites))
	tpl.RegisterHelpers(helpers)
	tpl.RegisterHelper(lintHelper, func(id string, v any) any {
		i, err := strconv.Atoi(id)
		if err != nil || i < 0 || i >= len(states) {
			panic(fmt.Errorf("lint: bad placeholder id %q", id))
		}
		states[i].seen = true
		if v != nil && (!table.sites[i].output || raymond.Str(v) != "") {
			states[i].resolved = true
		}
		return v
	})
	if _, err := execute(tpl, name, data); err != nil {
		return nil, err
	}
	fields, open := fieldNames(reflect.TypeOf(data))
	var out []string
	for i, site := range table.sites {
		if !states[i].seen || states[i].resolved {
			continue
		}
		where := fmt.Sprintf("line %d, column %d", site.line, site.col)
		if site.file != name {
			where = site.file + ": " + where
		}
		switch {
		case site.output:
			out = append(out, fmt.Sprintf("%s: {{%s}} printed nothing", where, site.text))
		case !open && !fields[lastSegment(site.text)] && !isSpecialPath(site.text):
			out = append(out, fmt.Sprintf("%s: %s is not a field", where, site.text))
		}
	}
	return out, nil
}

// fieldNames lists every name a template can use on values of type t, and
// whether t holds maps or interfaces whose names cannot be known.
func fieldNames(t reflect.Type) (names map[string]bool, open bool) {
	names = map[string]bool{}
	seen := map[reflect.Type]bool{}
	var visit func(t reflect.Type)
	visit = func(t reflect.Type) {
		if t == nil {
			open = true
			return
		}
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			t = t.Elem()
		}
		if seen[t] {
			return
		}
		seen[t] = true
		switch t.Kind() {
		case reflect.Map, reflect.Interface:
			open = true
		case reflect.Struct:
			for i := range t.NumField() {
				f := t.Field(i)
				if !f.IsExported() {
					continue
				}
				names[strings.ToLower(f.Name[:1])+f.Name[1:]] = true
				names[f.Name] = true
				if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag != "" {
					names[tag] = true
				}
				if tag := f.Tag.Get("handlebars"); tag != "" {
					names[tag] = true
				}
				visit(f.Type)
			}
		}
	}
	visit(t)
	return names, open
}

// lastSegment is the field a path ends in: "customer.name" → "name".
func lastSegment(p string) string {
	p = path.Base(strings.ReplaceAll(p, ".", "/"))
	return strings.TrimSuffix(strings.TrimPrefix(p, "["), "]")
}

// isSpecialPath reports paths that name no field: this, ../, @data.
func isSpecialPath(p string) bool {
	last := lastSegment(p)
	return strings.HasPrefix(p, "@") || last == "this" || last == "/" || last == ".." || p == "."
}
