package render

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
)

// reports are full sessions whose rendered notes are committed under
// testdata/reports/<name>/ at the repository's root, for a reviewer to read
// as a technician would see them on a ticket: the shared RS sample, and
// this package's PRA sample, which has system information.
var reports = []struct {
	name, file, zone string
	templates        []string
}{
	{"rs_typical", "../../testdata/sessions/rs_typical.xml", "Europe/Berlin", defaultTemplates},
	// Privileged Remote Access has no exit surveys.
	{"pra_jump", "testdata/sessions/pra.xml", "UTC", []string{SessionReport}},
}

// TestCommittedReports renders each shared sample through the real parser
// and the default templates, cleaned as every plugin cleans what it sends
// (engine.CleanText), and compares with testdata/reports/ (rewritten with
// -update).
func TestCommittedReports(t *testing.T) {
	t.Parallel()
	r := newTestRenderer(t, "")
	for _, rep := range reports {
		b, err := os.ReadFile(filepath.FromSlash(rep.file))
		if err != nil {
			t.Fatal(err)
		}
		ss, err := bt.ParseSessions(bytes.NewReader(b))
		if err != nil || len(ss) != 1 {
			t.Fatalf("%s: %d sessions, %v", rep.name, len(ss), err)
		}
		loc, err := LoadZone(rep.zone)
		if err != nil {
			t.Fatal(err)
		}
		data := NewData(ss[0], loc)
		for _, name := range rep.templates {
			got := engine.CleanText(render(t, r, "", name, data))
			golden(t, filepath.Join("..", "..", "..", "testdata", "reports", rep.name, name+".txt"), got)
		}
	}
}
