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
// dispatcher loads configurations through its Loader, not engine/service.
// Test files may import what they like (a harness builds a renderer).
func TestImportBoundaries(t *testing.T) {
	t.Parallel()
	rules := []struct {
		root      string // relative to this package; every package under it
		forbidden []string
	}{
		{"../plugins", []string{"switchboard/engine/render", "switchboard/engine/store", "switchboard/engine/service"}},
		{"../admin-ui", []string{"switchboard/engine/store"}},
		{"httpapi", []string{"switchboard/engine/store"}},
		{"dispatch", []string{"switchboard/engine/service"}},
	}
	for _, rule := range rules {
		seen := 0
		err := filepath.WalkDir(rule.root, func(dir string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			if name := d.Name(); name == "testdata" || (name != "." && name[0] == '.') {
				return filepath.SkipDir
			}
			pkg, err := build.ImportDir(dir, 0)
			if _, none := err.(*build.NoGoError); none {
				return nil
			} else if err != nil {
				return err
			}
			seen++
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
