package engine

import (
	"context"
	"fmt"
)

// SourceView is a configured source as the API and the admin UI show it:
// its settings without any secret (a secret shows only as set or not).
type SourceView struct {
	// ID is the stored source's id (sources configured in the admin UI);
	// 0 for a source of the sources file, which the UI shows read-only.
	ID   int64  `json:"id,omitempty"`
	Name string `json:"name"`
	// Kind is the kind of source ("pmcloud", "appliance").
	Kind string `json:"kind"`
	// Origin is "file" (the sources file) or "database" (the admin UI).
	Origin string `json:"origin"`
	// Settings are the source's settings, secrets left out.
	Settings any `json:"settings"`
	// Streams are the streams it reads, and StreamIDs the ids of their
	// cursor rows (the states).
	Streams   []string `json:"streams"`
	StreamIDs []string `json:"stream_ids"`
	DeliverTo []string `json:"deliver_to"`
	Disabled  bool     `json:"disabled"`
}

// Origins of a source.
const (
	SourceFromFile     = "file"
	SourceFromDatabase = "database"
)

// SourceTestStep is one check of a source's Test.
type SourceTestStep struct {
	Step   string `json:"step"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
	Error  string `json:"error,omitempty"`
}

// SourceTest is what a source's Test found: a token, then one read of
// each stream the source reads. A Test never writes.
type SourceTest struct {
	Source string           `json:"source"`
	OK     bool             `json:"ok"`
	Steps  []SourceTestStep `json:"steps"`
}

// Step adds one check to the test and reports whether it passed.
func (t *SourceTest) Step(name, detail string, err error) bool {
	st := SourceTestStep{Step: name, OK: err == nil, Detail: detail}
	if err != nil {
		st.Error, t.OK = err.Error(), false
	}
	t.Steps = append(t.Steps, st)
	return err == nil
}

// SourceSettings is what every kind's settings struct offers, so that a
// source can be stored, copied and disabled without knowing its kind.
type SourceSettings interface {
	SourceName() string
	SourceDisabled() bool
	// SetSource renames the source and enables or disables it (a copy).
	SetSource(name string, disabled bool)
	// CursorIDs are the ids of the cursor rows of every stream the source
	// can read (selected or not), in an order that does not depend on the
	// name: a rename moves each row to the id at the same place.
	CursorIDs() []string
}

// SourceCatalog is one kind of source: its settings, the sources of that
// kind configured now (sources file and admin UI), and their Test.
type SourceCatalog interface {
	// Kind is the kind's id ("pmcloud") and Label its name in the UI.
	Kind() string
	Label() string
	// NewSettings returns a settings struct holding the kind's defaults.
	NewSettings() SourceSettings
	// Sources lists the sources of this kind configured now.
	Sources() []SourceView
	// TestSource tests the source of that name; false when this catalog
	// has none of that name.
	TestSource(ctx context.Context, name string) (SourceTest, bool)
	// Test tests settings of this kind (a form not saved yet): a token,
	// then one read of each stream. It stores nothing.
	Test(ctx context.Context, s SourceSettings) SourceTest
}

// TestNamed runs test on the source of that name in list; false when list
// has none of that name (a catalog's TestSource).
func TestNamed[S SourceSettings](ctx context.Context, list []S, name string, test func(context.Context, SourceSettings) SourceTest) (SourceTest, bool) {
	for _, s := range list {
		if s.SourceName() == name {
			return test(ctx, s), true
		}
	}
	return SourceTest{}, false
}

// WrongKind is the failed Test of settings given to another kind's catalog.
func WrongKind(kind string, s SourceSettings) SourceTest {
	out := SourceTest{Source: s.SourceName()}
	out.Step("settings", "", fmt.Errorf("%s: settings of another kind (%T)", kind, s))
	return out
}
