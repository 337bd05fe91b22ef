package render

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
)

// docsPath is the template author's guide, whose field reference and
// example are generated from this package so they cannot drift.
const docsPath = "../../docs/templates.md"

const (
	fieldsBegin  = "<!-- BEGIN GENERATED FIELDS (go test ./engine/render -update) -->\n"
	fieldsEnd    = "<!-- END GENERATED FIELDS -->\n"
	exampleBegin = "<!-- BEGIN GENERATED EXAMPLE (go test ./engine/render -update) -->\n"
	exampleEnd   = "<!-- END GENERATED EXAMPLE -->\n"
)

func TestDocsMatchDataModel(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	r := newTestRenderer(t, "")
	example := render(t, r, "", SessionReport, NewData(SampleSession(), time.UTC))
	want := replaceBetween(t, doc, fieldsBegin, fieldsEnd, fieldReference(t))
	want = replaceBetween(t, want, exampleBegin, exampleEnd, "```text\n"+example+"```\n")
	if *update {
		if err := os.WriteFile(docsPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		doc = want
	}
	if doc != want {
		t.Errorf("%s is out of date with the data model or the default report: run go test ./engine/render -update", docsPath)
	}
	for name := range helpers {
		if !strings.Contains(doc, "### `"+name+"`") {
			t.Errorf("helper %s is not documented in %s", name, docsPath)
		}
	}
	for name := range builtins {
		if !strings.Contains(doc, "`"+name+"`") {
			t.Errorf("built-in helper %s is not documented in %s", name, docsPath)
		}
	}
}

func replaceBetween(t *testing.T, doc, begin, end, body string) string {
	t.Helper()
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the markers %q … %q", docsPath, begin, end)
	}
	return doc[:i+len(begin)] + body + doc[j:]
}

// fieldReference writes one table per type of the data model, from the
// types themselves (names, kinds) and their doc comments in data.go.
func fieldReference(t *testing.T) string {
	t.Helper()
	comments := fieldComments(t, "data.go")
	var b strings.Builder
	seen := map[reflect.Type]bool{}
	queue := []reflect.Type{reflect.TypeFor[Data]()}
	for len(queue) > 0 {
		typ := queue[0]
		queue = queue[1:]
		if seen[typ] {
			continue
		}
		seen[typ] = true
		title := "The root"
		if typ.Name() != "Data" {
			title = typ.Name()
		}
		fmt.Fprintf(&b, "\n#### %s\n\n| field | kind | meaning |\n|---|---|---|\n", title)
		for _, f := range reflect.VisibleFields(typ) {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			kind, elem := kindOf(f.Type)
			if elem != nil && !seen[elem] && !slices.Contains(queue, elem) {
				queue = append(queue, elem)
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", name, kind, meaning(f.Name, comments[typ.Name()+"."+f.Name]))
		}
	}
	return b.String()
}

// kindOf names a field's type for template authors, and returns the
// struct type to document further, if any.
func kindOf(t reflect.Type) (string, reflect.Type) {
	switch t {
	case reflect.TypeFor[Time]():
		return "time", nil
	case reflect.TypeFor[Duration]():
		return "duration", nil
	}
	switch t.Kind() {
	case reflect.String:
		return "text", nil
	case reflect.Bool:
		return "true/false", nil
	case reflect.Int, reflect.Int64:
		return "number", nil
	case reflect.Pointer:
		kind, elem := kindOf(t.Elem())
		return kind + ", or nothing", elem
	case reflect.Slice:
		kind, elem := kindOf(t.Elem())
		return "list of " + kind, elem
	case reflect.Struct:
		return "[" + t.Name() + "](#" + strings.ToLower(t.Name()) + ")", t
	}
	return t.String(), nil
}

// meaning turns "LSID is the session's id." into "The session's id.".
func meaning(goName, comment string) string {
	comment = strings.Join(strings.Fields(comment), " ")
	for _, verb := range []string{" is ", " are "} {
		if rest, ok := strings.CutPrefix(comment, goName+verb); ok {
			r := []rune(rest)
			r[0] = unicode.ToUpper(r[0])
			return string(r)
		}
	}
	return comment
}

// fieldComments maps "Type.Field" to the field's doc comment.
func fieldComments(t *testing.T, file string) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok {
			return true
		}
		st, ok := ts.Type.(*ast.StructType)
		if !ok {
			return false
		}
		for _, fld := range st.Fields.List {
			for _, name := range fld.Names {
				if !name.IsExported() {
					continue
				}
				if fld.Doc == nil {
					t.Errorf("%s.%s has no doc comment", ts.Name.Name, name.Name)
					continue
				}
				out[ts.Name.Name+"."+name.Name] = fld.Doc.Text()
			}
		}
		return false
	})
	return out
}
