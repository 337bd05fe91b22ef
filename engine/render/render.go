// Package render turns session data into report text with Handlebars
// templates (parsed by aymerick/raymond): default templates compiled in, overridden
// per file from the data directory, per configuration by a named template
// set, with helpers for dates, durations and text, plain-text output, and a
// preview that lists placeholders that resolved to nothing.
package render

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aymerick/raymond/ast"

	"switchboard/engine"
	"switchboard/engine/beyondtrust"
	"switchboard/templates"
)

// Names of the default templates.
const (
	SessionReport  = engine.TemplateSessionReport  // templates/session_report.hbs
	CustomerSurvey = engine.TemplateCustomerSurvey // templates/customer_exit_survey.hbs
	RepSurvey      = engine.TemplateRepSurvey      // templates/rep_exit_survey.hbs
)

// Where the template serving a name comes from, as List reports it.
const (
	SourceEmbedded = "embedded" // compiled into the binary
	SourcePlugin   = "plugin"   // a plugin's own default (engine.Info.Templates)
	SourceOverride = "override" // <OverrideDir>/<name>.hbs
	SourceSet      = "set"      // <OverrideDir>/<set>/<name>.hbs
)

// partialDir is the folder partials live in, in every layer. A partial
// partials/x.hbs is included as {{> x}}.
const partialDir = "partials"

const defaultCheckInterval = time.Second

var (
	reName = regexp.MustCompile(`^(` + partialDir + `/)?[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	reSet  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
)

// Options configure a Renderer.
type Options struct {
	// OverrideDir is the data directory's templates folder. A file there
	// overrides the embedded default of the same relative path, and each
	// subfolder is a template set. Empty means defaults only.
	OverrideDir string
	// Logger receives refused templates; nil logs nowhere.
	Logger *slog.Logger
	// CheckInterval is how often a set looks for changed files (default 1s).
	CheckInterval time.Duration
	// PluginTemplates are plugins' own default templates by plugin ID
	// (engine.Registry.Templates): a PluginSet serves them before the
	// embedded defaults.
	PluginTemplates map[string]fs.FS
	// PluginHelpers are plugins' template helpers by plugin ID
	// (engine.Registry.Helpers). Every template may call them; each name
	// carries its plugin's ID.
	PluginHelpers map[string]map[string]engine.Helper
}

// TemplateInfo describes the file serving one template name.
type TemplateInfo struct {
	Name    string    `json:"name"` // "session_report", "partials/survey_answers"
	Partial bool      `json:"partial"`
	Source  string    `json:"source"` // embedded | plugin | override | set
	Path    string    `json:"path"`   // on disk, or templates/<file> when embedded
	ModTime time.Time `json:"modTime"`
	// Version is the saved version serving (0: a file serves).
	Version int64 `json:"version,omitempty"`
	// Error says why a file above this one is refused; the admin should fix it.
	Error string `json:"error,omitempty"`
}

// Renderer renders report templates. It is safe for concurrent use.
type Renderer struct {
	dir      string
	log      *slog.Logger
	interval time.Duration
	embedded map[string]*file
	// plugins are plugins' default templates, by plugin ID and name.
	plugins map[string]map[string]*file
	// helpers are the plugins' helpers (Options.PluginHelpers).
	helpers helperSet

	mu     sync.Mutex
	sets   map[string]*set
	parsed map[string]*file // disk files by path, so a set reparses only what changed
	stored *storedLayer     // templates saved in the database (UseStored)
}

// file is one template file, checked and parsed.
type file struct {
	name    string
	source  string
	path    string
	modTime time.Time
	size    int64
	text    string
	prog    *program // nil when err is set
	err     error
	version int64 // the saved version; 0 for a file
}

// New parses the embedded default templates and prepares the override
// folder, which need not exist yet.
func New(opts Options) (*Renderer, error) {
	r := &Renderer{
		dir:      opts.OverrideDir,
		log:      opts.Logger,
		interval: opts.CheckInterval,
		embedded: map[string]*file{},
		plugins:  map[string]map[string]*file{},
		sets:     map[string]*set{},
		parsed:   map[string]*file{},
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.interval <= 0 {
		r.interval = defaultCheckInterval
	}
	var err error
	if r.helpers, err = pluginHelpers(opts.PluginHelpers); err != nil {
		return nil, err
	}
	if r.embedded, err = r.readDefaults(templates.FS, SourceEmbedded, "templates/", true); err != nil {
		return nil, fmt.Errorf("render: embedded templates: %w", err)
	}
	for id, fsys := range opts.PluginTemplates {
		if r.plugins[id], err = r.readDefaults(fsys, SourcePlugin, "plugins/"+id+"/", false); err != nil {
			return nil, fmt.Errorf("render: plugin %s's templates: %w", id, err)
		}
	}
	return r, nil
}

// readDefaults parses the templates at the root of fsys and in its
// partials folder; one that does not parse is an error. A missing partials
// folder is one only when must is set.
func (r *Renderer) readDefaults(fsys fs.FS, source, prefix string, must bool) (map[string]*file, error) {
	out := map[string]*file{}
	for _, dir := range []string{".", partialDir} {
		entries, err := fs.ReadDir(fsys, dir)
		if err != nil {
			if !must && errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, err
		}
		for _, e := range entries {
			name, ok := templateName(dir, e)
			if !ok {
				continue
			}
			p := path.Join(dir, e.Name())
			b, err := fs.ReadFile(fsys, p)
			if err != nil {
				return nil, err
			}
			f := r.parseFile(name, source, prefix+p, string(b), time.Time{}, int64(len(b)))
			if f.err != nil {
				return nil, f.err
			}
			out[name] = f
		}
	}
	return out, nil
}

// templateName maps a directory entry to a template name.
func templateName(dir string, e fs.DirEntry) (string, bool) {
	base, ok := strings.CutSuffix(e.Name(), ".hbs")
	if !ok || e.IsDir() {
		return "", false
	}
	name := path.Join(dir, base)
	return name, reName.MatchString(name)
}

func (r *Renderer) parseFile(name, source, p, text string, modTime time.Time, size int64) *file {
	f := &file{name: name, source: source, path: p, modTime: modTime, size: size, text: text}
	var tree *ast.Program
	if tree, f.err = check(name, text, nil, r.helpers); f.err == nil {
		f.prog = compile(tree, r.helpers)
	}
	return f
}

// Set returns the templates of a set: "" is the default set (overrides,
// then embedded defaults); a named set is the subfolder <OverrideDir>/<name>,
// whose files come before the overrides.
func (r *Renderer) Set(name string) engine.Templates {
	return r.PluginSet("", name)
}

// PluginSet is Set for a configuration of plugin: the plugin's own default
// templates (Options.PluginTemplates) come between the overrides and the
// embedded defaults. A plugin that ships none gets Set(name).
func (r *Renderer) PluginSet(plugin, name string) engine.Templates {
	s, err := r.scope(plugin, name)
	if err != nil {
		return errTemplates{&TemplateError{err}}
	}
	return s
}

var (
	_ engine.Templates        = (*set)(nil)
	_ engine.RefusedTemplates = (*set)(nil)
	_ engine.Templates        = errTemplates{}
)

type errTemplates struct{ err error }

func (e errTemplates) Render(string, any) (string, error) { return "", e.err }

func (e errTemplates) RenderSession(string, *beyondtrust.Session, *time.Location) (string, error) {
	return "", e.err
}

func (r *Renderer) set(name string) (*set, error) { return r.pluginSet("", name) }

// scope is the set of plugin's configurations, as PluginSet picks it.
func (r *Renderer) scope(plugin, name string) (*set, error) {
	if r.plugins[plugin] == nil {
		plugin = ""
	}
	return r.pluginSet(plugin, name)
}

func (r *Renderer) pluginSet(plugin, name string) (*set, error) {
	if name != "" && (!reSet.MatchString(name) || name == partialDir) {
		return nil, fmt.Errorf("render: invalid template set name %q", name)
	}
	key := name
	if plugin != "" {
		key = plugin + "\x00" + name // no set name holds a NUL
	}
	r.mu.Lock()
	s := r.sets[key]
	if s == nil {
		s = &set{r: r, name: name, defaults: r.plugins[plugin]}
		setDir, overrideDir := "", ""
		if r.dir != "" {
			setDir, overrideDir = filepath.Join(r.dir, name), r.dir
		}
		if name != "" {
			s.layers = append(s.layers, layer{SourceSet, name, setDir})
		}
		s.layers = append(s.layers, layer{SourceOverride, "", overrideDir})
		r.sets[key] = s
	}
	r.mu.Unlock()
	s.current()
	return s, nil
}

// List describes the templates and partials of a set, sorted by name.
func (r *Renderer) List(set string) []TemplateInfo { return r.PluginList("", set) }

// PluginList is List for the configurations of plugin: its own defaults
// (source "plugin") come between the overrides and the embedded ones.
func (r *Renderer) PluginList(plugin, set string) []TemplateInfo {
	s, err := r.scope(plugin, set)
	if err != nil {
		return nil
	}
	return slices.Clone(s.current().infos)
}

// Source returns the text of the template serving name in a set.
func (r *Renderer) Source(set, name string) (string, error) { return r.PluginSource("", set, name) }

// PluginSource is Source for the configurations of plugin.
func (r *Renderer) PluginSource(plugin, set, name string) (string, error) {
	s, err := r.scope(plugin, set)
	if err != nil {
		return "", err
	}
	f := s.current().files[name]
	if f == nil {
		return "", fmt.Errorf("render: %w %q", ErrNoTemplate, name)
	}
	return f.text, nil
}

// Save checks text and writes it as the set's file for name (set "" is
// the override folder). A template that does not parse, uses a handlebars.js
// 4 construct, calls an unknown helper or includes a missing partial is
// refused with a *ParseError. The file is replaced atomically and serves
// from the next render.
func (r *Renderer) Save(set, name, text string) error {
	s, target, err := r.target(set, name)
	if err != nil {
		return err
	}
	if err := r.Check(set, name, text); err != nil {
		return err
	}
	if err := writeAtomic(target, text); err != nil {
		return fmt.Errorf("render: save template %s: %w", name, err)
	}
	r.log.Info("template saved", "set", set, "template", name, "path", target)
	r.changed()
	s.reload()
	return nil
}

// Revert removes the set's own file for name, so the next layer's version
// serves again. Reverting a name the set does not override is not an error.
func (r *Renderer) Revert(set, name string) error {
	s, target, err := r.target(set, name)
	if err != nil {
		return err
	}
	if err := os.Remove(target); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("render: revert template %s: %w", name, err)
	}
	r.log.Info("template reverted", "set", set, "template", name, "path", target)
	r.changed()
	s.reload()
	return nil
}

// target is the file Save and Revert write for name in set.
func (r *Renderer) target(set, name string) (*set, string, error) {
	if r.dir == "" {
		return nil, "", errors.New("render: no template folder is configured")
	}
	if !reName.MatchString(name) {
		return nil, "", fmt.Errorf("render: invalid template name %q", name)
	}
	s, err := r.set(set)
	if err != nil {
		return nil, "", err
	}
	return s, filepath.Join(r.dir, set, filepath.FromSlash(name)+".hbs"), nil
}

// changed makes every set look at its files on its next render: a file in
// the override folder is part of every set.
func (r *Renderer) changed() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.sets {
		s.next.Store(0)
	}
}

func writeAtomic(target, text string) error {
	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*.hbs")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.WriteString(text); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// Templates may hold customer wording; only the service user reads them.
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), target)
}

// diskFile returns the checked and parsed file at p, reusing the last parse
// while its modification time and size are unchanged.
func (r *Renderer) diskFile(name, source, p string, info fs.FileInfo) *file {
	r.mu.Lock()
	f := r.parsed[p]
	r.mu.Unlock()
	if f != nil && f.modTime.Equal(info.ModTime()) && f.size == info.Size() && f.name == name {
		return f
	}
	b, err := os.ReadFile(p)
	if err != nil {
		f = &file{name: name, source: source, path: p, modTime: info.ModTime(), size: info.Size(), err: fmt.Errorf("read %s: %w", p, err)}
	} else {
		f = r.parseFile(name, source, p, string(b), info.ModTime(), info.Size())
	}
	if f.err != nil {
		r.log.Error("template refused", "template", name, "path", p, "error", f.err)
	}
	r.mu.Lock()
	r.parsed[p] = f
	r.mu.Unlock()
	return f
}

// layer is one folder of template files, under the templates saved in the
// database for it.
type layer struct {
	source string
	set    string // the saved templates' set: "" for the overrides
	dir    string // "" when no override folder is configured
}

// set is a template set: its layers, top first, then the embedded defaults.
type set struct {
	r      *Renderer
	name   string
	layers []layer
	// defaults are the plugin's own default templates, under the layers
	// and over the embedded ones (nil for none).
	defaults map[string]*file

	mu   sync.Mutex   // serialises reloads
	next atomic.Int64 // unix nanoseconds when files are due for a look
	cur  atomic.Pointer[compiled]
}

// compiled is a set's templates as of one look at its files.
type compiled struct {
	stamp    string
	files    map[string]*file
	infos    []TemplateInfo
	partials map[string]*program // by the name {{> name}} uses
}

// Render renders the named template of the set with data.
func (s *set) Render(name string, data any) (string, error) {
	c := s.current()
	f := c.files[name]
	if f == nil || strings.HasPrefix(name, partialDir+"/") {
		return "", &TemplateError{fmt.Errorf("render: %w %q", ErrNoTemplate, name)}
	}
	return execute(name, f.prog, c.partials, data, nil, s.r.log)
}

// RenderSession renders name for session sess, times in loc (nil: UTC).
func (s *set) RenderSession(name string, sess *beyondtrust.Session, loc *time.Location) (string, error) {
	return s.Render(name, NewData(sess, loc))
}

// current returns the set's templates, looking at its files at most once
// per check interval. Only one caller looks; the others keep rendering the
// version they have meanwhile.
func (s *set) current() *compiled {
	c := s.cur.Load()
	if c == nil {
		s.reload()
		return s.cur.Load()
	}
	if time.Now().UnixNano() >= s.next.Load() && s.mu.TryLock() {
		defer s.mu.Unlock()
		if time.Now().UnixNano() >= s.next.Load() {
			s.load()
		}
	}
	return s.cur.Load()
}

// reload looks at the files now.
func (s *set) reload() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.load()
}

// candidate is one file that could serve a name.
type candidate struct {
	source string
	path   string
	info   fs.FileInfo
	stored *file // a saved template, already parsed; nil for a file
}

// load looks at the set's files and rebuilds its templates if any changed.
// The caller holds s.mu.
func (s *set) load() {
	s.next.Store(time.Now().Add(s.r.interval).UnixNano())
	cands := map[string][]candidate{}
	var stamp strings.Builder
	for _, l := range s.layers {
		// A template saved in the database hides the layer's file of the
		// same name; a revert hides it too, so the next layer serves.
		saved, savedStamp := s.r.storedFor(l.set)
		fmt.Fprintf(&stamp, "saved %d\n", savedStamp)
		for name, f := range saved {
			if f != nil {
				cands[name] = append(cands[name], candidate{source: l.source, path: f.path, stored: f})
			}
		}
		if l.dir == "" {
			continue
		}
		for _, sub := range []string{".", partialDir} {
			entries, err := os.ReadDir(filepath.Join(l.dir, sub))
			if err != nil {
				continue // a missing folder has no templates
			}
			for _, e := range entries {
				name, ok := templateName(sub, e)
				if _, hidden := saved[name]; !ok || hidden {
					continue
				}
				info, err := e.Info()
				if err != nil {
					continue // removed since the listing
				}
				p := filepath.Join(l.dir, sub, e.Name())
				cands[name] = append(cands[name], candidate{source: l.source, path: p, info: info})
				fmt.Fprintf(&stamp, "%s|%d|%d\n", p, info.ModTime().UnixNano(), info.Size())
			}
		}
	}
	old := s.cur.Load()
	if old != nil && old.stamp == stamp.String() {
		return
	}
	c := &compiled{stamp: stamp.String(), files: map[string]*file{}, partials: map[string]*program{}}
	names := map[string]bool{}
	for n := range s.r.embedded {
		names[n] = true
	}
	for n := range s.defaults {
		names[n] = true
	}
	for n := range cands {
		names[n] = true
	}
	for _, name := range slices.Sorted(maps.Keys(names)) {
		f, refused := s.pick(name, cands[name], old)
		if f == nil {
			continue
		}
		c.files[name] = f
		if p, ok := strings.CutPrefix(name, partialDir+"/"); ok {
			c.partials[p] = f.prog
		}
		info := TemplateInfo{Name: name, Partial: strings.HasPrefix(name, partialDir+"/"), Source: f.source, Path: f.path, ModTime: f.modTime, Version: f.version}
		if refused != nil {
			info.Error = refused.Error()
		}
		c.infos = append(c.infos, info)
	}
	s.cur.Store(c)
}

// pick chooses the file that serves name: the topmost that parses. When the
// topmost file is refused but the same file served before, its previous
// version keeps serving, so a broken save never takes a report down.
func (s *set) pick(name string, cands []candidate, old *compiled) (serving *file, refused error) {
	for _, cand := range cands {
		f := cand.stored
		if f == nil {
			f = s.r.diskFile(name, cand.source, cand.path, cand.info)
		}
		if f.err == nil {
			return f, refused
		}
		if refused == nil {
			refused = f.err
		}
		if old != nil {
			if prev := old.files[name]; prev != nil && prev.path == cand.path {
				return prev, refused
			}
		}
	}
	if f := s.defaults[name]; f != nil {
		return f, refused
	}
	return s.r.embedded[name], refused
}
