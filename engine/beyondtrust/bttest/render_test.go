package bttest

import (
	"strings"
	"testing"

	"switchboard/engine/beyondtrust"
)

// TestCategoryFollowsReference holds the simulator to the system
// information shape of the reference ("System information and listings"):
// labels under description, values under data/row, nothing else.
func TestCategoryFollowsReference(t *testing.T) {
	t.Parallel()
	const want = `<category name="Drives">
    <description><field name="letter">Drive</field><field name="free">Free Space</field></description>
    <data>
      <row><field>C:</field><field>41.2 GB</field></row>
      <row><field>D:</field><field>310.0 GB</field></row>
    </data>
  </category>`
	x := &xmlWriter{}
	category(x, beyondtrust.SystemInfoCategory{
		Name:    "Drives",
		Columns: []beyondtrust.SystemInfoColumn{{Code: "letter", Label: "Drive"}, {Code: "free", Label: "Free Space"}},
		Rows:    [][]string{{"C:", "41.2 GB"}, {"D:", "310.0 GB"}},
	})
	compact := func(s string) string {
		var b strings.Builder
		for _, line := range strings.Split(s, "\n") {
			b.WriteString(strings.TrimSpace(line))
		}
		return b.String()
	}
	if got := x.String(); got != compact(want) {
		t.Errorf("category written as\n%s\nwant the reference's\n%s", got, compact(want))
	}
}

// TestSummaryFollowsReference: a listing entry is lsid and has_recording,
// never times or lseq, which the reference says not to rely on.
func TestSummaryFollowsReference(t *testing.T) {
	t.Parallel()
	x := &xmlWriter{}
	summary(x, &beyondtrust.Session{LSID: "ab", LSeq: 7, ExternalKey: "T1", RecordingViewURL: "https://r"})
	if got, want := x.String(), `<session_summary lsid="ab" has_recording="1"></session_summary>`; got != want {
		t.Errorf("summary written as %s, want %s", got, want)
	}
}
