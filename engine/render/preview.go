package render

import (
	"cmp"
	"fmt"
	"path"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/aymerick/raymond/ast"
)

// Preview is a template rendered for the admin, with its lint.
type Preview struct {
	Output string `json:"output"`
	// Missing lists the placeholders that resolved to nothing, in template
	// order: a printed {{x}} that printed nothing every time it ran, and a
	// helper argument that named no field of the data. raymond has no
	// strict mode, so this is how typos show.
	Missing []string `json:"missing"`
	// Serving says which version of a saved template rendered (Preview
	// only): a saved version, a file, or the built-in default.
	Serving string `json:"serving,omitempty"`
	// Refused says why a newer version the admin saved or wrote does not
	// serve (Preview only): its line, column and message.
	Refused string `json:"refused,omitempty"`
}

// Preview renders the template serving name in set against data (the
// built-in sample session when data is nil) and lints it.
func (r *Renderer) Preview(set, name string, data any) (Preview, error) {
	return r.PluginPreview("", set, name, data)
}

// PluginPreview is Preview for the configurations of plugin.
func (r *Renderer) PluginPreview(plugin, set, name string, data any) (Preview, error) {
	text, err := r.PluginSource(plugin, set, name)
	if err != nil {
		return Preview{}, err
	}
	p, err := r.PluginPreviewText(plugin, set, name, text, data)
	if err != nil {
		return Preview{}, err
	}
	if info, ok := r.PluginInfo(plugin, set, name); ok {
		p.Serving, p.Refused = info.Serving(), info.Error
	}
	return p, nil
}

// Info describes the template serving name in a set.
func (r *Renderer) Info(set, name string) (TemplateInfo, bool) { return r.PluginInfo("", set, name) }

// PluginInfo is Info for the configurations of plugin.
func (r *Renderer) PluginInfo(plugin, set, name string) (TemplateInfo, bool) {
	for _, info := range r.PluginList(plugin, set) {
		if info.Name == name {
			return info, true
		}
	}
	return TemplateInfo{}, false
}

// PreviewText is Preview for text not saved yet, as the editor shows it
// before Save: it renders as name would in set, with the set's partials.
func (r *Renderer) PreviewText(set, name, text string, data any) (Preview, error) {
	return r.PluginPreviewText("", set, name, text, data)
}

// PluginPreviewText is PreviewText for the configurations of plugin, with
// its partials.
func (r *Renderer) PluginPreviewText(plugin, set, name, text string, data any) (Preview, error) {
	s, err := r.scope(plugin, set)
	if err != nil {
		return Preview{}, err
	}
	if data == nil {
		data = NewData(SampleSession(), time.UTC)
	}
	c := s.current()
	partials := map[string]*program{}
	sources := map[string]string{name: text}
	for n, f := range c.files {
		if p, ok := strings.CutPrefix(n, partialDir+"/"); ok && n != name {
			partials[p] = f.prog
			sources[n] = f.text
		}
	}
	tree, err := check(name, text, func(p string) bool { return partials[p] != nil }, r.helpers)
	if err != nil {
		return Preview{}, err
	}
	run := &lintRun{sites: map[*ast.PathExpression]*lintSite{}}
	out, err := execute(name, compile(tree, r.helpers), partials, data, run, r.log)
	if err != nil {
		return Preview{}, err
	}
	return Preview{Output: out, Missing: run.missing(name, sources, data)}, nil
}

// lintSite is what a preview saw of one placeholder.
type lintSite struct {
	file     string
	path     *ast.PathExpression
	output   bool // printed by a mustache, so "" counts as nothing too
	resolved bool
}

// lintRun records, during one preview, whether each placeholder resolved.
type lintRun struct {
	sites map[*ast.PathExpression]*lintSite
}

func (l *lintRun) record(file string, p *ast.PathExpression, v reflect.Value, output bool) {
	s := l.sites[p]
	if s == nil {
		s = &lintSite{file: file, path: p}
		l.sites[p] = s
	}
	s.output = s.output || output
	if v = indirect(v); v.IsValid() && (!output || str(v) != "") {
		s.resolved = true
	}
}

// missing lists the placeholders that never resolved, template first,
// then partials by name, each in source order.
func (l *lintRun) missing(name string, sources map[string]string, data any) []string {
	type entry struct {
		file      string
		line, col int
		text      string
	}
	fields, open := fieldNames(reflect.TypeOf(data))
	var found []entry
	for _, s := range l.sites {
		if s.resolved {
			continue
		}
		text := unmark(s.path.Original)
		line, col := position(sources[s.file], s.path.Location().Pos)
		switch {
		case s.output:
			found = append(found, entry{s.file, line, col, fmt.Sprintf("{{%s}} printed nothing", text)})
		case !open && !fields[lastSegment(text)] && !isSpecialPath(text):
			found = append(found, entry{s.file, line, col, text + " is not a field"})
		}
	}
	slices.SortFunc(found, func(a, b entry) int {
		return cmp.Or(cmp.Compare(b2i(a.file != name), b2i(b.file != name)), strings.Compare(a.file, b.file),
			cmp.Compare(a.line, b.line), cmp.Compare(a.col, b.col))
	})
	out := make([]string, 0, len(found))
	for _, f := range found {
		where := fmt.Sprintf("line %d, column %d", f.line, f.col)
		if f.file != name {
			where = f.file + ": " + where
		}
		out = append(out, where+": "+f.text)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// fieldNames lists every name a template can use on values of type t (and
// the types inside it, with "length" for lists), and
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
			if t.Kind() != reflect.Pointer {
				names["length"] = true
			}
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
			for name, i := range structFields(t).byName {
				names[name] = true
				visit(t.Field(i).Type)
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
