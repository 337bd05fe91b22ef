package render

import (
	"encoding/json"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bt "switchboard/engine/beyondtrust"
)

// compatDir holds the handlebars.js harness: npm ci --prefix engine/render/testdata/compat.
var compatDir = filepath.Join("testdata", "compat")

// TestHandlebarsJSCompatibility renders the default templates (against
// every sample session) and a corpus of tricky templates with this package
// and with handlebars.js (noEscape, the same data as JSON, the helpers
// mirrored in JavaScript), and requires the same text. With CI=true a
// missing node or handlebars package fails the test.
func TestHandlebarsJSCompatibility(t *testing.T) {
	t.Parallel()
	node := nodeWithHandlebars(t)

	type jsCase struct {
		Template string `json:"template"`
		Data     any    `json:"data"`
	}
	var (
		names []string
		cases []jsCase
		want  []string
	)
	partials := map[string]string{}
	add := func(name, text string, data any, goOut string) {
		names = append(names, name)
		cases = append(cases, jsCase{text, data})
		want = append(want, goOut)
	}

	r := newTestRenderer(t, "")
	for _, info := range r.List("") {
		src, err := r.Source("", info.Name)
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := strings.CutPrefix(info.Name, partialDir+"/"); ok {
			partials[p] = src
		}
	}
	sessions := map[string]Data{}
	for _, s := range samples {
		sessions[s.name] = sampleData(t, s)
	}
	for name, s := range compatSessions() {
		sessions[name] = NewData(s, time.UTC)
	}
	for _, session := range slices.Sorted(maps.Keys(sessions)) {
		data := sessions[session]
		for _, name := range defaultTemplates {
			src, err := r.Source("", name)
			if err != nil {
				t.Fatal(err)
			}
			add(session+"/"+name, src, data, render(t, r, "", name, data))
		}
	}

	corpusDir := filepath.Join(compatDir, "corpus")
	corpus := newTestRenderer(t, corpusDir)
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.hbs"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus in %s: %v", corpusDir, err)
	}
	partialFiles, _ := filepath.Glob(filepath.Join(corpusDir, partialDir, "*.hbs"))
	for _, p := range partialFiles {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		partials[strings.TrimSuffix(filepath.Base(p), ".hbs")] = string(b)
	}
	for _, p := range files {
		name := strings.TrimSuffix(filepath.Base(p), ".hbs")
		text, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		// NAME.json, and any NAME.VARIANT.json: more data for the same template.
		variants, _ := filepath.Glob(filepath.Join(corpusDir, name+".*.json"))
		for _, d := range append([]string{filepath.Join(corpusDir, name+".json")}, variants...) {
			raw, err := os.ReadFile(d)
			if err != nil {
				t.Fatal(err)
			}
			var data any
			if err := json.Unmarshal(raw, &data); err != nil {
				t.Fatalf("%s: %v", d, err)
			}
			add("corpus/"+strings.TrimSuffix(filepath.Base(d), ".json"), string(text), data, render(t, corpus, "", name, data))
		}
	}

	input, err := json.Marshal(map[string]any{"partials": partials, "cases": cases})
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "cases.json")
	if err := os.WriteFile(in, input, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join(compatDir, "compat.js"), in)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node compat.js: %v", err)
	}
	var results []struct {
		Output *string `json:"output"`
		Error  string  `json:"error"`
	}
	if err := json.Unmarshal(out, &results); err != nil || len(results) != len(cases) {
		t.Fatalf("node compat.js printed %d results for %d cases: %v", len(results), len(cases), err)
	}
	for i, res := range results {
		switch {
		case res.Output == nil:
			t.Errorf("%s: handlebars.js failed: %s", names[i], res.Error)
		case *res.Output != want[i]:
			t.Errorf("%s: handlebars.js and Switchboard differ\n--- handlebars.js ---\n%s\n--- switchboard ---\n%s", names[i], *res.Output, want[i])
		}
	}
}

// compatSessions are sessions beyond the golden samples that the default
// templates are compared on: the line breaks a chat or a custom field may
// carry (CRLF, a lone CR), and every optional part of a report missing.
func compatSessions() map[string]*bt.Session {
	breaks := SampleSession()
	breaks.Events = append(breaks.Events,
		chatEvent(30, actorCustomer, "line one\r\nline two\r\n"),
		chatEvent(31, actorRep, "one\rtwo\rthree"),
		chatEvent(32, actorRep, "\r\n"))
	breaks.CustomAttributes = append(breaks.CustomAttributes,
		bt.CustomAttribute{CodeName: "crlf", DisplayName: "Windows text", Value: "a\r\nb\r\n"},
		bt.CustomAttribute{CodeName: "cr", DisplayName: "Old Mac text", Value: "a\rb"})
	bare := SampleSession()
	bare.EndTime, bare.Duration = time.Time{}, 0
	bare.PublicSite, bare.ExternalKey, bare.CustomAttributes = bt.Ref{}, "", nil
	bare.PrimaryCustomer, bare.Customers = bt.Person{}, nil
	bare.PrimaryRep, bare.Reps = bt.Person{}, nil
	bare.CustomerSurveys, bare.RepSurveys, bare.Events = nil, nil, nil
	bare.ChatViewURL, bare.ChatDownloadURL, bare.RecordingViewURL, bare.RecordingDownloadURL = "", "", "", ""
	return map[string]*bt.Session{"line_breaks": breaks, "nothing_optional": bare}
}

// nodeWithHandlebars finds node and the installed handlebars package. A
// developer without them gets a skip; CI gets a failure.
func nodeWithHandlebars(t testing.TB) string {
	t.Helper()
	missing := func(err error) string {
		msg := "the handlebars.js compatibility test needs node and `npm ci --prefix engine/render/testdata/compat`: " + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
		return ""
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return missing(err)
	}
	var pinned, installed struct {
		Version      string
		Dependencies map[string]string
	}
	raw, err := os.ReadFile(filepath.Join(compatDir, "node_modules", "handlebars", "package.json"))
	if err != nil {
		return missing(errors.New("handlebars is not installed"))
	}
	if err := json.Unmarshal(raw, &installed); err != nil {
		t.Fatalf("installed handlebars: %v", err)
	}
	if raw, err = os.ReadFile(filepath.Join(compatDir, "package.json")); err == nil {
		err = json.Unmarshal(raw, &pinned)
	}
	if err != nil {
		t.Fatal(err)
	}
	// A stale install would compare against another handlebars.js.
	if want := pinned.Dependencies["handlebars"]; installed.Version != want {
		t.Fatalf("handlebars %s is installed, the harness pins %s: run npm ci --prefix %s", installed.Version, want, compatDir)
	}
	return node
}
