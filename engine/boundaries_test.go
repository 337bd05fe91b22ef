package engine

import (
	"go/build"
	"io/fs"
	"path/filepath"
	"slices"
	"testing"
)

// TestImportBoundaries keeps the plugin contract and the layering true:
// plugins render through Job.RenderSession, never engine/render; the admin
// UI and the JSON API reach the store only through engine/service; the
// dispatcher loads configurations through its Loader, not engine/service;
// engine/render is the only package that parses templates (a plugin's
// templates and helpers go through engine.Info).
// Test files may import what they like (a harness builds a renderer).
func TestImportBoundaries(t *testing.T) {
	t.Parallel()
	rules := []struct {
		root      string // relative to this package; every package under it
		forbidden []string
		except    string // a package under root the rule spares
	}{
		{root: "../plugins", forbidden: []string{"switchboard/engine/render", "switchboard/engine/store", "switchboard/engine/service"}},
		{root: "../admin-ui", forbidden: []string{"switchboard/engine/store"}},
		{root: "httpapi", forbidden: []string{"switchboard/engine/store"}},
		{root: "dispatch", forbidden: []string{"switchboard/engine/service"}},
		{root: "..", forbidden: raymond, except: "../engine/render"},
	}
	for _, rule := range rules {
		seen := 0
		err := filepath.WalkDir(rule.root, func(dir string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			if name := d.Name(); dir != rule.root && (name == "testdata" || name[0] == '.') {
				return filepath.SkipDir
			}
			pkg, err := build.ImportDir(dir, 0)
			if _, none := err.(*build.NoGoError); none {
				return nil
			} else if err != nil {
				return err
			}
			seen++
			if dir == rule.except {
				return nil
			}
			for _, imp := range pkg.Imports {
				if slices.Contains(rule.forbidden, imp) {
					t.Errorf("%s (%s) imports %s", pkg.Name, dir, imp)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if seen == 0 {
			t.Errorf("no Go package under %s: the rule checks nothing", rule.root)
		}
	}
}

// raymond are aymerick/raymond's packages: only engine/render parses templates.
var raymond = []string{
	"github.com/aymerick/raymond", "github.com/aymerick/raymond/ast",
	"github.com/aymerick/raymond/lexer", "github.com/aymerick/raymond/parser",
}
