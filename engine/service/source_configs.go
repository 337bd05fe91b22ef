package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"switchboard/engine"
	"switchboard/engine/secretbox"
	"switchboard/engine/store"
)

// StoredSource is a source configured in the admin UI, decoded for use,
// secrets in clear. It never leaves the engine.
type StoredSource struct {
	ID        int64
	Kind      string
	Version   int
	EnabledAt time.Time
	Settings  engine.SourceSettings
}

// SourceConfig is a stored source as the API and the form show it:
// secrets masked, SecretsSet telling which hold a value.
type SourceConfig struct {
	ID         int64           `json:"id"`
	Kind       string          `json:"kind"`
	Name       string          `json:"name"`
	Settings   any             `json:"settings"`
	SecretsSet map[string]bool `json:"secrets_set"`
	Disabled   bool            `json:"disabled"`
	Version    int             `json:"version"`
}

// SourceInput is a submitted source. A secret left empty keeps its stored
// value (while what it is sent to is unchanged); ClearSecrets names the
// ones to clear.
type SourceInput struct {
	Kind         string          `json:"kind"`
	Settings     json.RawMessage `json:"settings"`
	ClearSecrets []string        `json:"clear_secrets,omitempty"`
	Version      int             `json:"version,omitempty"`
}

// storedSources is the service's copy of the stored sources, read again
// when they change here or (RefreshSources) in another engine.
type storedSources struct {
	mu    sync.Mutex
	stamp string
	list  []*StoredSource
	// file are the names of the sources file's sources, by name → kind.
	file map[string]string
}

// SetFileSources tells the service the names of the sources file's
// sources (name → kind): no stored source may take one.
func (s *Service) SetFileSources(names map[string]string) {
	s.stored.mu.Lock()
	defer s.stored.mu.Unlock()
	s.stored.file = names
}

// LoadSources reads the stored sources. A stored source named like one of
// the sources file is an error naming both: the two would share cursors.
func (s *Service) LoadSources(ctx context.Context) error {
	if _, err := s.RefreshSources(ctx); err != nil {
		return err
	}
	s.stored.mu.Lock()
	defer s.stored.mu.Unlock()
	for _, src := range s.stored.list {
		if kind, ok := s.stored.file[src.Settings.SourceName()]; ok {
			return fmt.Errorf("source %q is configured twice: in the sources file (kind %s) and in the admin UI (kind %s, id %d); rename or remove one of them",
				src.Settings.SourceName(), kind, src.Kind, src.ID)
		}
	}
	return nil
}

// RefreshSources reads the stored sources again when they changed since
// the last read, here or in another engine on the same database.
func (s *Service) RefreshSources(ctx context.Context) (bool, error) {
	stamp, err := s.st.SourceConfigStamp(ctx)
	if err != nil {
		return false, err
	}
	s.stored.mu.Lock()
	same := stamp == s.stored.stamp && s.stored.stamp != ""
	s.stored.mu.Unlock()
	if same {
		return false, nil
	}
	rows, err := s.st.ListSourceConfigs(ctx)
	if err != nil {
		return false, err
	}
	list := make([]*StoredSource, 0, len(rows))
	for i := range rows {
		src, err := s.decodeSource(&rows[i])
		if err != nil {
			s.log.Error("stored source cannot be loaded; it is not polled", "source", rows[i].Name, "err", err)
			continue
		}
		list = append(list, src)
	}
	s.stored.mu.Lock()
	s.stored.stamp, s.stored.list = stamp, list
	s.stored.mu.Unlock()
	return true, nil
}

// StoredSources returns the stored sources of a kind as last read.
func (s *Service) StoredSources(kind string) []*StoredSource {
	s.stored.mu.Lock()
	defer s.stored.mu.Unlock()
	var out []*StoredSource
	for _, src := range s.stored.list {
		if src.Kind == kind {
			out = append(out, src)
		}
	}
	return out
}

func (s *Service) storedByName(name string) *StoredSource {
	s.stored.mu.Lock()
	defer s.stored.mu.Unlock()
	for _, src := range s.stored.list {
		if src.Settings.SourceName() == name {
			return src
		}
	}
	return nil
}

// SourceKind is a kind of source the admin UI can configure.
type SourceKind struct {
	ID, Label string
	Fields    []engine.Field
	// Defaults are the settings a new source starts with.
	Defaults engine.SourceSettings
}

// SourceKinds lists the kinds of source.
func (s *Service) SourceKinds() []SourceKind {
	var out []SourceKind
	for _, c := range s.catalogs() {
		d := c.NewSettings()
		out = append(out, SourceKind{ID: c.Kind(), Label: c.Label(), Fields: engine.Fields(d, nil), Defaults: d})
	}
	return out
}

// SourceKindOf returns one kind of source.
func (s *Service) SourceKindOf(kind string) (SourceKind, error) {
	for _, k := range s.SourceKinds() {
		if k.ID == kind {
			return k, nil
		}
	}
	return SourceKind{}, engine.FieldErrors{{Field: "kind", Message: fmt.Sprintf("%q is not a kind of source", kind)}}
}

func (s *Service) catalog(kind string) (engine.SourceCatalog, error) {
	for _, c := range s.catalogs() {
		if c.Kind() == kind {
			return c, nil
		}
	}
	return nil, engine.FieldErrors{{Field: "kind", Message: fmt.Sprintf("%q is not a kind of source", kind)}}
}

func (s *Service) decodeSource(row *store.SourceConfig) (*StoredSource, error) {
	cat, err := s.catalog(row.Kind)
	if err != nil {
		return nil, fmt.Errorf("source %d is of kind %q, which this build does not have", row.ID, row.Kind)
	}
	set := cat.NewSettings()
	if err := json.Unmarshal([]byte(row.Settings), set); err != nil {
		return nil, fmt.Errorf("source %d: stored settings: %w", row.ID, err)
	}
	if len(row.Secrets) > 0 {
		plain, err := s.box.Open(row.Secrets, secretbox.AssociatedSource(row.ID))
		if err != nil {
			return nil, fmt.Errorf("source %d: %w", row.ID, err)
		}
		values := map[string]string{}
		if err := json.Unmarshal(plain, &values); err != nil {
			return nil, fmt.Errorf("source %d: stored secrets are damaged", row.ID)
		}
		for _, ref := range engine.Secrets(set) {
			*ref.Value = engine.NewSecret(values[ref.Name])
		}
	}
	set.SetSource(row.Name, row.Disabled)
	return &StoredSource{ID: row.ID, Kind: row.Kind, Version: row.Version, EnabledAt: row.Enabled(), Settings: set}, nil
}

// encodeSource splits settings into stored JSON (secrets left out) and
// secrets sealed for the source's id.
func (s *Service) encodeSource(id int64, set engine.SourceSettings) (string, []byte, error) {
	c := clone(set)
	values := map[string]string{}
	for _, ref := range engine.Secrets(c) {
		if ref.Value.IsSet() {
			values[ref.Name] = ref.Value.Reveal()
		}
		*ref.Value = engine.Secret{}
	}
	doc, err := json.Marshal(c)
	if err != nil {
		return "", nil, err
	}
	sealed, err := s.sealValues(values, secretbox.AssociatedSource(id))
	return string(doc), sealed, err
}

// loadSource reads one stored source from the database (not the cache).
func (s *Service) loadSource(ctx context.Context, id int64) (*StoredSource, error) {
	row, err := s.st.GetSourceConfig(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.decodeSource(row)
}

// SourceConfig returns one stored source, secrets masked.
func (s *Service) SourceConfig(ctx context.Context, id int64) (SourceConfig, error) {
	src, err := s.loadSource(ctx, id)
	if err != nil {
		return SourceConfig{}, err
	}
	masked := clone(src.Settings)
	set := map[string]bool{}
	for _, ref := range engine.Secrets(masked) {
		set[ref.Name] = ref.Value.IsSet()
		*ref.Value = engine.Secret{}
	}
	return SourceConfig{ID: src.ID, Kind: src.Kind, Name: src.Settings.SourceName(), Settings: masked,
		SecretsSet: set, Disabled: src.Settings.SourceDisabled(), Version: src.Version}, nil
}

// prepareSource decodes and validates a submission; stored is the source
// being edited (nil for a new one). The settings are returned even when
// invalid, so that Test can still try them.
func (s *Service) prepareSource(in SourceInput, stored *StoredSource) (engine.SourceSettings, engine.FieldErrors, error) {
	cat, err := s.catalog(in.Kind)
	if err != nil {
		return nil, nil, err
	}
	set := cat.NewSettings()
	var errs engine.FieldErrors
	if len(in.Settings) > 0 && string(in.Settings) != "null" {
		if err := engine.DecodeStrict(in.Settings, set); err != nil {
			var fe engine.FieldErrors
			if errors.As(err, &fe) {
				errs = append(errs, fe...)
			} else {
				errs = append(errs, engine.FieldError{Message: err.Error()})
			}
		}
	}
	var rebind engine.FieldErrors
	if stored != nil {
		rebind = keepSecrets(set, stored.Settings, in.ClearSecrets)
	}
	errs = append(errs, rebind...)
	for _, e := range engine.Validate(set) {
		if rebind.For(e.Field) == "" {
			errs = append(errs, e)
		}
	}
	name := set.SourceName()
	s.stored.mu.Lock()
	fileKind, inFile := s.stored.file[name]
	s.stored.mu.Unlock()
	if inFile {
		errs = append(errs, engine.FieldError{Field: "name", Message: fmt.Sprintf("a source of the sources file (kind %s) has this name", fileKind)})
	}
	return set, errs, nil
}

// ValidateSource reports what is wrong with a submission (id 0: a new one).
func (s *Service) ValidateSource(ctx context.Context, id int64, in SourceInput) (engine.FieldErrors, error) {
	var stored *StoredSource
	if id != 0 {
		var err error
		if stored, err = s.loadSource(ctx, id); err != nil {
			return nil, err
		}
		in.Kind = stored.Kind
	}
	_, errs, err := s.prepareSource(in, stored)
	return errs, err
}

// nameTaken turns the store's refusal of a duplicate name into a field error.
func nameTaken(err error) error {
	if errors.Is(err, store.ErrSourceNameTaken) {
		return engine.FieldErrors{{Field: "name", Message: "another source has this name"}}
	}
	return err
}

// sourceChanges is the audit's list of changed settings, secrets redacted.
func sourceChanges(oldSet, newSet any) string {
	changes := diffFields(oldSet, newSet)
	if changes == nil {
		changes = []Change{}
	}
	b, _ := json.Marshal(changes)
	return string(b)
}

// CreateSource validates and stores a new source; it is polled from the
// next tick of its kind's runner, without a restart.
func (s *Service) CreateSource(ctx context.Context, actor string, in SourceInput) (SourceConfig, error) {
	set, errs, err := s.prepareSource(in, nil)
	if err != nil {
		return SourceConfig{}, err
	}
	if len(errs) > 0 {
		return SourceConfig{}, errs
	}
	row := &store.SourceConfig{Kind: in.Kind, Name: set.SourceName(), Disabled: set.SourceDisabled()}
	audit := store.AuditEntry{Actor: actor, Action: "create", Summary: fmt.Sprintf("created %s source %s", in.Kind, row.Name), Changes: sourceChanges(nil, set)}
	if err := s.st.CreateSourceConfig(ctx, row, audit, func(id int64) (string, []byte, error) { return s.encodeSource(id, set) }); err != nil {
		return SourceConfig{}, nameTaken(err)
	}
	s.log.Info("source created", "source", row.Name, "kind", row.Kind, "actor", actor)
	return s.sourceSaved(ctx, row.ID)
}

// UpdateSource validates and stores a changed source.
func (s *Service) UpdateSource(ctx context.Context, actor string, id int64, in SourceInput) (SourceConfig, error) {
	stored, err := s.loadSource(ctx, id)
	if err != nil {
		return SourceConfig{}, err
	}
	if in.Kind != "" && in.Kind != stored.Kind {
		return SourceConfig{}, engine.FieldErrors{{Field: "kind", Message: "a source cannot change its kind"}}
	}
	in.Kind = stored.Kind
	set, errs, err := s.prepareSource(in, stored)
	if err != nil {
		return SourceConfig{}, err
	}
	if len(errs) > 0 {
		return SourceConfig{}, errs
	}
	row := &store.SourceConfig{ID: id, Name: set.SourceName(), Disabled: set.SourceDisabled(), Version: in.Version}
	if row.Settings, row.Secrets, err = s.encodeSource(id, set); err != nil {
		return SourceConfig{}, err
	}
	audit := store.AuditEntry{Actor: actor, Action: "update", Summary: "updated source " + row.Name, Changes: sourceChanges(stored.Settings, set)}
	if audit.Changes == "[]" {
		audit = store.AuditEntry{}
	}
	var moves []store.CursorMove
	if oldName := stored.Settings.SourceName(); oldName != row.Name {
		// Cursor ids hold the name: the rows go with the source.
		from, to := stored.Settings.CursorIDs(), set.CursorIDs()
		for i := range from {
			moves = append(moves, store.CursorMove{From: from[i], To: to[i]})
		}
		audit.Summary = fmt.Sprintf("renamed source %s as %s (its cursors go with it)", oldName, row.Name)
	}
	if err := s.st.UpdateSourceConfig(ctx, row, moves, audit); err != nil {
		return SourceConfig{}, nameTaken(err)
	}
	s.log.Info("source updated", "source", row.Name, "actor", actor)
	return s.sourceSaved(ctx, id)
}

// CopySource stores a disabled copy of a source, secrets included.
func (s *Service) CopySource(ctx context.Context, actor string, id int64) (SourceConfig, error) {
	src, err := s.loadSource(ctx, id)
	if err != nil {
		return SourceConfig{}, err
	}
	name := src.Settings.SourceName()
	set := clone(src.Settings).(engine.SourceSettings)
	set.SetSource(copyName(name), true)
	row := &store.SourceConfig{Kind: src.Kind, Name: set.SourceName(), Disabled: true}
	audit := store.AuditEntry{Actor: actor, Action: "copy", Summary: fmt.Sprintf("copied source %s as %s", name, row.Name)}
	if err := s.st.CreateSourceConfig(ctx, row, audit, func(nid int64) (string, []byte, error) { return s.encodeSource(nid, set) }); err != nil {
		return SourceConfig{}, nameTaken(err)
	}
	return s.sourceSaved(ctx, row.ID)
}

// SetSourceDisabled disables or enables a stored source.
func (s *Service) SetSourceDisabled(ctx context.Context, actor string, id int64, disabled bool) error {
	src, err := s.loadSource(ctx, id)
	if err != nil {
		return err
	}
	set := clone(src.Settings).(engine.SourceSettings)
	set.SetSource(set.SourceName(), disabled)
	row := &store.SourceConfig{ID: id, Name: set.SourceName(), Disabled: disabled}
	if row.Settings, row.Secrets, err = s.encodeSource(id, set); err != nil {
		return err
	}
	action := "enable"
	if disabled {
		action = "disable"
	}
	if err := s.st.UpdateSourceConfig(ctx, row, nil, store.AuditEntry{Actor: actor, Action: action, Summary: action + "d source " + row.Name}); err != nil {
		return err
	}
	_, err = s.RefreshSources(ctx)
	return err
}

// DeleteSource deletes a stored source. Its cursors and records stay.
func (s *Service) DeleteSource(ctx context.Context, actor string, id int64) error {
	src, err := s.loadSource(ctx, id)
	if err != nil {
		return err
	}
	if err := s.st.DeleteSourceConfig(ctx, id, store.AuditEntry{Actor: actor, Action: "delete", Summary: "deleted source " + src.Settings.SourceName()}); err != nil {
		return err
	}
	s.log.Info("source deleted", "source", src.Settings.SourceName(), "actor", actor)
	_, err = s.RefreshSources(ctx)
	return err
}

func (s *Service) sourceSaved(ctx context.Context, id int64) (SourceConfig, error) {
	if _, err := s.RefreshSources(ctx); err != nil {
		return SourceConfig{}, err
	}
	return s.SourceConfig(ctx, id)
}

// TestSourceInput tests a submitted source without saving it (id: the
// stored source it edits, whose secrets fill the empty ones; 0: none).
// Only the audit line is written.
func (s *Service) TestSourceInput(ctx context.Context, actor string, id int64, in SourceInput) (engine.SourceTest, error) {
	var stored *StoredSource
	if id != 0 {
		var err error
		if stored, err = s.loadSource(ctx, id); err != nil {
			return engine.SourceTest{}, err
		}
		in.Kind = stored.Kind
	}
	set, errs, err := s.prepareSource(in, stored)
	if err != nil {
		return engine.SourceTest{}, err
	}
	cat, _ := s.catalog(in.Kind)
	var res engine.SourceTest
	if bad := errs.For("client_secret"); bad != "" {
		res = engine.SourceTest{Source: set.SourceName()}
		res.Step("settings", "", fmt.Errorf("client_secret %s", bad))
	} else {
		res = cat.Test(ctx, set)
	}
	s.auditSourceTest(ctx, actor, set.SourceName(), res)
	return res, nil
}

func (s *Service) auditSourceTest(ctx context.Context, actor, name string, res engine.SourceTest) {
	verdict := "passed"
	if !res.OK {
		verdict = "failed"
	}
	s.log.Info("source tested", "source", name, "ok", res.OK, "actor", actor)
	if err := s.st.AddAudit(ctx, store.AuditEntry{Actor: actor, Action: "test", Summary: fmt.Sprintf("tested source %s: %s", name, verdict)}); err != nil {
		s.log.Error("record a source Test in the audit log", "source", name, "err", err)
	}
}

// markStored sets the id and origin of the views of stored sources, and
// sorts the views by name.
func (s *Service) markStored(views []ConfiguredSource) {
	for i := range views {
		if src := s.storedByName(views[i].Name); src != nil && src.Kind == views[i].Kind {
			views[i].ID, views[i].Origin = src.ID, engine.SourceFromDatabase
		}
	}
	sort.SliceStable(views, func(i, j int) bool { return views[i].Name < views[j].Name })
}
