package render

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files and the generated part of docs/templates.md")

// defaultTemplates are the templates every sample is rendered with.
var defaultTemplates = []string{SessionReport, CustomerSurvey, RepSurvey}

func newTestRenderer(t testing.TB, dir string) *Renderer {
	t.Helper()
	r, err := New(Options{OverrideDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func sampleData(t testing.TB, s sample) Data {
	t.Helper()
	loc, err := time.LoadLocation(s.zone)
	if err != nil {
		t.Fatal(err)
	}
	return NewData(s.session(), loc)
}

// golden compares got with testdata/<name>, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", filepath.FromSlash(name))
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

var reHeading = regexp.MustCompile(`(?m)^(.+)\n-+\n(\n|$)`)

func TestDefaultTemplatesGolden(t *testing.T) {
	t.Parallel()
	r := newTestRenderer(t, "")
	for _, s := range samples {
		for _, name := range defaultTemplates {
			t.Run(s.name+"/"+name, func(t *testing.T) {
				got, err := r.Set("").Render(name, sampleData(t, s))
				if err != nil {
					t.Fatal(err)
				}
				golden(t, "golden/"+s.name+"/"+name+".txt", got)
				// A ticket note reads well: no runs of blank lines, no heading
				// without a body, no blank first line, one final newline.
				if strings.Contains(got, "\n\n\n") {
					t.Error("output has a run of blank lines")
				}
				if m := reHeading.FindString(got); m != "" {
					t.Errorf("empty section %q", m)
				}
				if strings.HasPrefix(got, "\n") || !strings.HasSuffix(got, "\n") || strings.HasSuffix(got, "\n\n") {
					t.Errorf("output should start with text and end with one newline: %q", got)
				}
			})
		}
	}
}
