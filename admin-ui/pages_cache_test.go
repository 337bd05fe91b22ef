package adminui

import (
	"html/template"
	"slices"
	"strings"
	"sync"
	"testing"

	"switchboard/engine/server"
)

// TestPagesAreParsedWhenFirstShown holds the admin UI's memory promise: New
// checks every page template but keeps none parsed (they were 4 MiB of live
// heap in an engine whose UI nobody opened); a page is parsed when first
// shown, once however many requests show it at the same time, and renders
// as the checked one does.
func TestPagesAreParsedWhenFirstShown(t *testing.T) {
	t.Parallel()
	h := newBareHarness(t, server.Options{})
	ui, err := New(Options{Service: h.srv.Service, Auth: h.srv.Auth})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(ui.pages.parsed); n != 0 {
		t.Fatalf("New kept %d parsed pages, want none", n)
	}
	if len(ui.pages.known) < 10 {
		t.Fatalf("New knows %d pages", len(ui.pages.known))
	}
	got := make([]any, 8)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			tmpl, err := ui.pages.get("login")
			if err != nil {
				t.Error(err)
			}
			got[i] = tmpl
		})
	}
	wg.Wait()
	for _, g := range got[1:] {
		if g != got[0] {
			t.Fatal("concurrent first requests parsed the page more than once")
		}
	}
	if n := len(ui.pages.parsed); n != 1 {
		t.Fatalf("%d pages parsed after showing one", n)
	}
	if _, err := ui.pages.get("no-such-page"); err == nil {
		t.Fatal("an unknown page was found")
	}
	checked, err := parsePages()
	if err != nil {
		t.Fatal(err)
	}
	for name := range ui.pages.known {
		lazy, err := ui.pages.get(name)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := templateNames(lazy), templateNames(checked[name]); a != b {
			t.Errorf("page %s: parsed when shown defines %s, checked at start %s", name, a, b)
		}
	}
}

// templateNames lists the templates t defines, sorted.
func templateNames(t *template.Template) string {
	var names []string
	for _, x := range t.Templates() {
		names = append(names, x.Name())
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}
