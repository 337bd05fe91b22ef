package engine

import "context"

// SourceView is a configured source as the API and the admin UI show it:
// its settings without any secret (a secret shows only as set or not).
type SourceView struct {
	Name string `json:"name"`
	// Kind is the kind of source ("pmcloud").
	Kind string `json:"kind"`
	// Settings are the source's settings, secrets left out.
	Settings any `json:"settings"`
	// Streams are the streams it reads, and StreamIDs the ids of their
	// cursor rows (the states).
	Streams   []string `json:"streams"`
	StreamIDs []string `json:"stream_ids"`
	DeliverTo []string `json:"deliver_to"`
	Disabled  bool     `json:"disabled"`
}

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

// SourceCatalog lists the sources of one kind and tests them.
type SourceCatalog interface {
	Sources() []SourceView
	// TestSource tests the source of that name; false when this catalog
	// has none of that name.
	TestSource(ctx context.Context, name string) (SourceTest, bool)
}
