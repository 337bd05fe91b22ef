package render

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
)

// SourceSaved marks, in TemplateInfo.Path, a template saved through the
// admin UI: it lives in the database, not in a file.
const SourceSaved = "saved"

// Stored is one template saved through the admin UI (in the database): the
// newest version of a set's template. Set "" is the override layer. A
// Reverted one holds no text: the admin reverted it, so the layer's file
// on disk is hidden too and the next layer serves.
type Stored struct {
	Set      string
	Name     string
	Text     string
	Version  int64
	Reverted bool
	Saved    time.Time
}

// storedLayer is what UseStored last received, parsed once per version.
type storedLayer struct {
	gen   int64            // counts UseStored calls, so sets see a change
	files map[string]*file // by set + "\x00" + name; nil file for a revert
}

func storedKey(set, name string) string { return set + "\x00" + name }

// storedPath is where a saved template is said to live. It names the layer,
// not the version, so that a refused version gives way to the previous one
// of the same layer (see pick).
func storedPath(set, name string) string {
	if set == "" {
		return "database: " + name
	}
	return "database: " + path.Join(set, name)
}

// UseStored makes the given saved templates (every one there is) serve
// from the next render on, above the files of their layers. A version
// already in use is not parsed again. Calls must not overlap.
func (r *Renderer) UseStored(stored []Stored) {
	r.mu.Lock()
	old := r.stored
	r.mu.Unlock()
	l := &storedLayer{gen: 1, files: map[string]*file{}}
	if old != nil {
		l.gen = old.gen + 1
	}
	for _, st := range stored {
		if !reName.MatchString(st.Name) || (st.Set != "" && !reSet.MatchString(st.Set)) {
			r.log.Error("template refused", "set", st.Set, "template", st.Name, "error", "invalid name")
			continue
		}
		key := storedKey(st.Set, st.Name)
		if st.Reverted {
			l.files[key] = nil
			continue
		}
		if f := old.file(key); f != nil && f.version == st.Version {
			l.files[key] = f
			continue
		}
		f := r.parseFile(st.Name, setSource(st.Set), storedPath(st.Set, st.Name), st.Text, st.Saved, int64(len(st.Text)))
		f.version = st.Version
		if f.err != nil {
			r.log.Error("template refused", "set", st.Set, "template", st.Name, "version", st.Version, "error", f.err)
		}
		l.files[key] = f
	}
	r.mu.Lock()
	r.stored = l
	r.mu.Unlock()
	r.changed()
}

func (l *storedLayer) file(key string) *file {
	if l == nil {
		return nil
	}
	return l.files[key]
}

func setSource(set string) string {
	if set == "" {
		return SourceOverride
	}
	return SourceSet
}

// storedFor returns the saved templates of one layer (set "" for the
// overrides): the files by name, with a nil file for a revert, and the
// generation of the whole list.
func (r *Renderer) storedFor(set string) (map[string]*file, int64) {
	r.mu.Lock()
	l := r.stored
	r.mu.Unlock()
	if l == nil {
		return nil, 0
	}
	out := map[string]*file{}
	for key, f := range l.files {
		if s, name, _ := strings.Cut(key, "\x00"); s == set {
			out[name] = f
		}
	}
	return out, l.gen
}

// CheckName says why set and name cannot name a template ("" set: the
// overrides), or nil when they can.
func CheckName(set, name string) error {
	if !reName.MatchString(name) {
		return fmt.Errorf("%q is not a template name: letters, digits, '_' and '-', optionally under partials/", name)
	}
	if set != "" && (!reSet.MatchString(set) || set == partialDir) {
		return fmt.Errorf("%q is not a template set name: letters, digits, '.', '_' and '-', starting with a letter or digit (and not \"partials\")", set)
	}
	return nil
}

// Check is the test Save runs: text would be refused as set's template
// name with a *ParseError saying where, or an error for a name or set
// that is not valid.
func (r *Renderer) Check(set, name, text string) error { return r.PluginCheck("", set, name, text) }

// PluginCheck is Check for the configurations of plugin: its partials
// count.
func (r *Renderer) PluginCheck(plugin, set, name, text string) error {
	if err := CheckName(set, name); err != nil {
		return err
	}
	s, err := r.scope(plugin, set)
	if err != nil {
		return err
	}
	c := s.current()
	_, err = check(name, text, func(p string) bool {
		full := path.Join(partialDir, p)
		return c.files[full] != nil || full == name
	}, r.helpers)
	return err
}

// Refused lists, for the Test button, why templates of this set are
// refused: each is a file or saved version that does not serve, while an
// older version or the next layer serves instead.
func (s *set) Refused() []string {
	var out []string
	for _, info := range s.current().infos {
		if info.Error != "" {
			out = append(out, fmt.Sprintf("%s: %s (serving instead: %s)", info.Name, info.Error, info.Serving()))
		}
	}
	return slices.Clip(out)
}

// Serving says in words which version of a template serves.
func (i TemplateInfo) Serving() string {
	switch {
	case i.Version != 0:
		return fmt.Sprintf("version %d saved %s", i.Version, i.ModTime.UTC().Format("2006-01-02 15:04:05 UTC"))
	case i.Source == SourceEmbedded:
		return "the built-in default"
	case i.Source == SourcePlugin:
		return "the plugin's own default " + i.Path
	default:
		return "the file " + i.Path
	}
}
