package render

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aymerick/raymond/ast"

	"switchboard/engine"
)

// writeFile writes a template file and gives it a modification time of its
// own, so that two writes within the file system's clock tick still differ.
func writeFile(t testing.TB, dir, rel, text string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	mtime := time.Now().Add(time.Duration(bumps.Add(1)) * time.Millisecond)
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

var bumps atomic.Int64

func render(t testing.TB, r *Renderer, set, name string, data any) string {
	t.Helper()
	out, err := r.Set(set).Render(name, data)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPlainText proves that no value is HTML-escaped, whichever way it
// reaches the output.
func TestPlainText(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "partials/company.hbs", "{{company}}")
	r := newTestRenderer(t, dir)
	type item struct{ Company string }
	data := map[string]any{
		"company": escapingCompany,
		"items":   []item{{escapingCompany}, {escapingCompany}},
		"names":   []string{escapingCompany, "<b>"},
		"nested":  map[string]any{"inner": map[string]any{"company": escapingCompany}},
	}
	c := escapingCompany
	tests := []struct{ name, tpl, want string }{
		{"mustache", "{{company}}", c},
		{"triple", "{{{company}}}", c},
		{"ampersand", "{{& company}}", c},
		{"strip", "x {{~company~}} y", "x" + c + "y"},
		{"each", "{{#each items}}[{{company}}]{{/each}}", "[" + c + "][" + c + "]"},
		{"each this", "{{#each names}}{{this}};{{/each}}", c + ";<b>;"},
		{"with", "{{#with nested.inner}}{{company}}{{/with}}", c},
		{"parent", "{{#each items}}{{#with this}}{{../company}}{{/with}}{{/each}}", c + c},
		{"lookup", `{{lookup nested.inner "company"}}`, c},
		{"lookup index", `{{lookup names 0}}`, c},
		{"block params", "{{#each items as |it i|}}{{i}}={{it.company}} {{/each}}", "0=" + c + " 1=" + c + " "},
		{"helper", "{{upper company}}", strings.ToUpper(c)},
		{"helper of helper", `{{default missing (lower company)}}`, strings.ToLower(c)},
		{"join", `{{join names " & "}}`, c + " & <b>"},
		{"if else", "{{#if missing}}no{{else}}{{company}}{{/if}}", c},
		{"partial", "{{> company}}", c},
		{"partial context", "{{> company nested.inner}}", c},
		{"partial hash", `{{> company company="<&>"}}`, "<&>"},
		{"string literal", `{{default missing "a < b & c"}}`, "a < b & c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := r.PreviewText("", "t", tt.tpl, data)
			if err != nil {
				t.Fatal(err)
			}
			if p.Output != tt.want {
				t.Errorf("%s rendered %q, want %q", tt.tpl, p.Output, tt.want)
			}
		})
	}
	t.Run("session", func(t *testing.T) {
		t.Parallel()
		d := NewData(escapingSession(), nil)
		p, err := r.PreviewText("", "t", "{{customer.company}}|{{customer.name}}|{{#each chat}}{{#if @first}}{{text}}{{/if}}{{/each}}", d)
		if err != nil {
			t.Fatal(err)
		}
		want := c + `|O'Brien & Co <b>bold</b>|<script>alert("x")</script> & 'quotes' = ` + "`backticks`" + ` {{not a tag}}`
		if p.Output != want {
			t.Errorf("got %q, want %q", p.Output, want)
		}
	})
}

func TestOverridePrecedence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r, err := New(Options{OverrideDir: dir, CheckInterval: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	data := NewData(SampleSession(), nil)
	embedded := render(t, r, "", SessionReport, data)
	if !strings.HasPrefix(embedded, "Remote Support session") {
		t.Fatalf("embedded default rendered %q", embedded)
	}

	writeFile(t, dir, "session_report.hbs", "override {{lsid}}")
	writeFile(t, dir, "acme/session_report.hbs", "acme {{lsid}}")
	writeFile(t, dir, "acme/partials/survey_answers.hbs", "{{#each answers}}{{name}}={{value}};{{/each}}")
	if got := render(t, r, "", SessionReport, data); got != "override "+data.LSID {
		t.Errorf("override dir: got %q", got)
	}
	if got := render(t, r, "acme", SessionReport, data); got != "acme "+data.LSID {
		t.Errorf("set: got %q", got)
	}
	if got := render(t, r, "other", SessionReport, data); got != "override "+data.LSID {
		t.Errorf("a set without the file falls back to the override: got %q", got)
	}
	// The set's partial serves the embedded survey template.
	if got := render(t, r, "acme", CustomerSurvey, data); !strings.Contains(got, "rating=5;comments=") {
		t.Errorf("set partial not used by the embedded template: %q", got)
	}

	infos := map[string]TemplateInfo{}
	for _, i := range r.List("acme") {
		infos[i.Name] = i
	}
	for name, want := range map[string]string{
		SessionReport:             SourceSet,
		CustomerSurvey:            SourceEmbedded,
		"partials/survey_answers": SourceSet,
	} {
		if infos[name].Source != want {
			t.Errorf("List: %s comes from %q, want %q", name, infos[name].Source, want)
		}
	}
	if !infos["partials/survey_answers"].Partial || infos[SessionReport].Partial {
		t.Error("List: partial flags wrong")
	}

	if err := r.Revert("acme", SessionReport); err != nil {
		t.Fatal(err)
	}
	if got := render(t, r, "acme", SessionReport, data); got != "override "+data.LSID {
		t.Errorf("after revert of the set file: got %q", got)
	}
	if err := r.Revert("", SessionReport); err != nil {
		t.Fatal(err)
	}
	if got := render(t, r, "acme", SessionReport, data); got != embedded {
		t.Errorf("after revert of the override: got %q", got)
	}
}

func TestHotReload(t *testing.T) {
	t.Parallel()
	data := NewData(SampleSession(), nil)
	t.Run("checked every interval", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		r, err := New(Options{OverrideDir: dir, CheckInterval: time.Nanosecond})
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, dir, "note.hbs", "one")
		if got := render(t, r, "", "note", data); got != "one" {
			t.Fatalf("got %q", got)
		}
		writeFile(t, dir, "note.hbs", "two")
		if got := render(t, r, "", "note", data); got != "two" {
			t.Errorf("changed file not picked up: %q", got)
		}
		writeFile(t, dir, "partials/p.hbs", "P1")
		writeFile(t, dir, "note.hbs", "{{> p}}")
		writeFile(t, dir, "partials/p.hbs", "P2")
		if got := render(t, r, "", "note", data); got != "P2" {
			t.Errorf("changed partial not picked up: %q", got)
		}
	})
	t.Run("not before the interval", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		r, err := New(Options{OverrideDir: dir, CheckInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, dir, "note.hbs", "one")
		if got := render(t, r, "", "note", data); got != "one" {
			t.Fatalf("got %q", got)
		}
		writeFile(t, dir, "note.hbs", "two")
		if got := render(t, r, "", "note", data); got != "one" {
			t.Errorf("files were looked at again within the interval: %q", got)
		}
		// Save makes every set look at once.
		if err := r.Save("", "note", "three"); err != nil {
			t.Fatal(err)
		}
		if got := render(t, r, "", "note", data); got != "three" {
			t.Errorf("saved template not serving: %q", got)
		}
	})
}

func TestRefusedFileKeepsPreviousVersion(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var logs bytes.Buffer
	var logMu sync.Mutex
	r, err := New(Options{
		OverrideDir:   dir,
		CheckInterval: time.Nanosecond,
		Logger:        slog.New(slog.NewTextHandler(lockedWriter{&logs, &logMu}, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	data := NewData(SampleSession(), nil)

	// Broken from the start: the embedded default serves.
	writeFile(t, dir, "customer_exit_survey.hbs", "{{#each customerSurveys}}")
	if got := render(t, r, "", CustomerSurvey, data); !strings.HasPrefix(got, "Customer exit survey") {
		t.Errorf("broken override without a previous version: got %q", got)
	}

	writeFile(t, dir, "session_report.hbs", "good {{lsid}}")
	if got := render(t, r, "", SessionReport, data); got != "good "+data.LSID {
		t.Fatalf("got %q", got)
	}
	writeFile(t, dir, "session_report.hbs", "line one\n  {{#if end}}\n{{/each}}")
	if got := render(t, r, "", SessionReport, data); got != "good "+data.LSID {
		t.Errorf("broken edit replaced the good version: %q", got)
	}
	var info TemplateInfo
	for _, i := range r.List("") {
		if i.Name == SessionReport {
			info = i
		}
	}
	if !strings.Contains(info.Error, "line 3, column 1") || info.Source != SourceOverride {
		t.Errorf("List does not report the refused file: %+v", info)
	}
	logMu.Lock()
	defer logMu.Unlock()
	if n := strings.Count(logs.String(), "template refused"); n != 2 {
		t.Errorf("want one log line per refused file version, got %d:\n%s", n, logs.String())
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestSaveRefuses(t *testing.T) {
	t.Parallel()
	r := newTestRenderer(t, t.TempDir())
	tests := []struct {
		name, text string
		line, col  int
		msg        string
	}{
		{"unclosed block", "Hello\n{{#if lsid}}\nx", 2, 1, "{{#if}} is never closed"},
		{"mismatched close", "a\n b {{#if lsid}}x{{/each}}", 2, 17, "{{/each}} does not close {{#if}}, opened at line 2, column 4"},
		{"stray close", "a {{/if}}", 1, 3, "{{/if}} closes no open block"},
		{"parser error", "{{#if x}}\n{{> }}\n{{/if}}", 2, 5, "Expecting"},
		{"block helper without argument", "x {{#each}}y{{/each}}", 1, 3, "#each takes one argument, got 0"},
		{"block helper without block", "x {{if lsid}}", 1, 3, "if needs a block"},
		{"helper arity", "{{formatTime start}}", 1, 1, "formatTime takes 2 arguments, got 1"},
		{"lookup arity", "{{lookup lsid}}", 1, 1, "lookup takes 2 arguments, got 1"},
		{"bad character", "ok\n\tok {{lsid!}}", 2, 11, "Unexpected character"},
		{"unclosed tag", "ok {{lsid", 1, 10, ""},
		{"unicode column", "äöü {{#if x}}", 1, 5, "never closed"},
		{"partial block", "x\n  {{#> layout}}body{{/layout}}", 2, 3, "partial blocks"},
		{"partial block ref", "{{> @partial-block}}", 1, 5, "partial blocks"},
		{"inline partial", `{{#*inline "p"}}x{{/inline}}`, 1, 1, "inline partials"},
		{"decorator", "a {{* deco}}", 1, 3, "decorators"},
		{"decorator block", "{{#* deco}}x{{/deco}}", 1, 1, "decorators"},
		{"unknown helper", "{{#if x}}\n{{uper lsid}}{{/if}}", 2, 1, "unknown helper \"uper\""},
		{"unknown block helper", "{{#iff x}}y{{/iff}}", 1, 1, "unknown helper \"iff\""},
		{"path called as helper", "x {{customer.name lsid}}", 1, 3, "unknown helper \"customer.name\""},
		{"lint helper is not for templates", `{{__lint "0" x}}`, 1, 1, "unknown helper"},
		{"missing partial", "a {{> nothere}}", 1, 3, `partial "nothere" not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := r.Save("", "t_"+strings.ReplaceAll(tt.name, " ", "_"), tt.text)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Save(%q) = %v, want a *ParseError", tt.text, err)
			}
			if pe.Line != tt.line || pe.Column != tt.col || !strings.Contains(pe.Message, tt.msg) {
				t.Errorf("Save(%q): line %d column %d %q; want line %d column %d containing %q",
					tt.text, pe.Line, pe.Column, pe.Message, tt.line, tt.col, tt.msg)
			}
		})
	}
	t.Run("names", func(t *testing.T) {
		t.Parallel()
		for _, bad := range [][2]string{{"", "../x"}, {"", "a/b"}, {"", ""}, {"../x", "a"}, {"partials", "a"}} {
			if err := r.Save(bad[0], bad[1], "x"); err == nil {
				t.Errorf("Save(%q, %q) accepted", bad[0], bad[1])
			}
		}
	})
	t.Run("no folder", func(t *testing.T) {
		t.Parallel()
		if err := newTestRenderer(t, "").Save("", "x", "x"); err == nil {
			t.Error("Save without a template folder accepted")
		}
	})
}

func TestSaveWritesAndServes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := newTestRenderer(t, dir)
	data := NewData(SampleSession(), nil)
	if err := r.Save("acme", "partials/sig", "-- {{rep.name}}"); err != nil {
		t.Fatal(err)
	}
	if err := r.Save("acme", "closing", "Bye.\n{{> sig}}\n"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "acme", "closing.hbs"))
	if err != nil || string(b) != "Bye.\n{{> sig}}\n" {
		t.Fatalf("file on disk: %q, %v", b, err)
	}
	if got := render(t, r, "acme", "closing", data); got != "Bye.\n-- Sam Rivera" {
		t.Errorf("got %q", got)
	}
	if src, err := r.Source("acme", "closing"); err != nil || src != string(b) {
		t.Errorf("Source = %q, %v", src, err)
	}
	if _, err := r.Source("", "closing"); err == nil {
		t.Error("a set's template leaked into the default set")
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "acme", ".tmp-*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestRenderErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "bad_zone.hbs", `{{formatTime start "15:04" tz="Mars/Olympus"}}`)
	writeFile(t, dir, "bad_width.hbs", `{{indent lsid "wide"}}`)
	writeFile(t, dir, "bad_style.hbs", `{{formatDuration duration "fortnights"}}`)
	writeFile(t, dir, "bad_arity.hbs", `{{upper lsid lsid}}`) // refused when loaded
	writeFile(t, dir, "bad_partial_ctx.hbs", `{{> (lookup . "nope")}}`)
	r := newTestRenderer(t, dir)
	data := NewData(SampleSession(), nil)
	for name, want := range map[string]string{
		"bad_zone":        "unknown time zone",
		"bad_width":       "not a whole number",
		"bad_style":       "unknown style",
		"bad_arity":       `no template "bad_arity"`,
		"bad_partial_ctx": `partial "" not found`,
		"nothere":         `no template "nothere"`,
	} {
		_, err := r.Set("").Render(name, data)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, want)
		}
	}
	if _, err := r.Set("../up").Render(SessionReport, data); err == nil {
		t.Error("invalid set name accepted")
	}
}

// TestPanicsBecomeErrors covers panics from code a render calls: here a
// value's String method with a runtime error and with a plain value. Both
// are bugs, not the template's fault: the error is ErrInternal, which the
// dispatcher retries, and the log keeps the stack. Template errors stay
// permanent.
func TestPanicsBecomeErrors(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	r, err := New(Options{Logger: slog.New(slog.NewJSONHandler(lockedWriter{w: &logs, mu: new(sync.Mutex)}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]any{
		"nil map":     map[string]any{"x": panicky("")},
		"plain value": map[string]any{"x": panicky("plain value")},
	} {
		for _, text := range []string{"{{x}}", "{{upper x}}", "{{#each x}}{{/each}}{{join x \",\"}}"} {
			_, err := r.PreviewText("", "t", text, data)
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s with %s: err = %v", text, name, err)
			}
			// As the plugin returns it: wrapped, and classified by the engine.
			wrapped := fmt.Errorf("autotask: render t: %w", err)
			if !errors.Is(wrapped, ErrInternal) || outcome(wrapped) != engine.OutcomeRetry {
				t.Errorf("%s with %s: %v is not a retryable internal error", text, name, err)
			}
		}
	}
	if !strings.Contains(logs.String(), `"stack":"goroutine`) || !strings.Contains(logs.String(), "panicky.String") {
		t.Errorf("no stack naming the panicking method in the log:\n%s", logs.String())
	}
	_, err = r.PreviewText("", "t", `{{formatDuration x "fortnights"}}`, map[string]any{"x": 1})
	var te *TemplateError
	if !errors.As(err, &te) || errors.Is(err, ErrInternal) || outcome(fmt.Errorf("autotask: %w", err)) != engine.OutcomePermanent {
		t.Errorf("template error %v is not permanent", err)
	}
}

func outcome(err error) engine.Outcome {
	o, _ := engine.Classify(err)
	return o
}

// panicky panics when printed: with its text, or when empty with a runtime
// error.
type panicky string

func (p panicky) String() string {
	if p == "" {
		var m map[string]int
		m["x"]++ //lint:ignore SA5000 the test needs a runtime error
	}
	panic(string(p))
}

func TestConcurrentRender(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "partials/survey_answers.hbs", "{{#each answers}}{{label}}{{/each}}")
	r, err := New(Options{OverrideDir: dir, CheckInterval: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	data := NewData(SampleSession(), nil)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Go(func() {
			set := []string{"", "acme"}[g%2]
			for range 50 {
				for _, name := range defaultTemplates {
					if _, err := r.Set(set).Render(name, data); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 20 {
			text := fmt.Sprintf("{{#each answers}}{{label}}{{/each}}%d", i)
			if err := r.Save("acme", "partials/survey_answers", text); err != nil {
				errs <- err
				return
			}
			if _, err := r.Preview("acme", CustomerSurvey, nil); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A bug in one of our own tree passes, met by a template nobody tried,
// refuses that template on Save; it must not panic in the admin's request
// or in the file watcher. Not parallel: it swaps the package's passes.
func TestPassPanicRefusesTemplate(t *testing.T) {
	dir := t.TempDir()
	r := newTestRenderer(t, dir)
	saved := treePasses
	t.Cleanup(func() { treePasses = saved })
	treePasses = append([]func(*ast.Program){func(*ast.Program) { panic("pass bug") }}, saved...)

	err := r.Save("", "session_end", "Hello {{lsid}}")
	var pe *ParseError
	if !errors.As(err, &pe) || !strings.Contains(pe.Message, "pass bug") {
		t.Fatalf("Save = %v, want a *ParseError naming the panic", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "session_end.hbs")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the refused template was written: %v", err)
	}
	if _, err := r.PreviewText("", "t", "{{lsid}}", nil); !errors.As(err, &pe) {
		t.Errorf("PreviewText = %v, want a *ParseError", err)
	}
}
