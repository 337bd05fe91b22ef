package render

import (
	"regexp"
	"strings"
	"testing"
	"time"

	bt "switchboard/engine/beyondtrust"
)

// referenceSysInfo is the system information example of the reference
// ("System information and listings" in shared/reference/beyondtrust-api.md),
// inside the smallest session around it.
const referenceSysInfo = `<session_list xmlns="http://www.bomgar.com/namespaces/API/reporting">
<session lsid="0123456789abcdef0123456789abcdef">
<session_type>support</session_type><lseq>8</lseq>
<start_time timestamp="1733239565">2024-12-03T15:26:05+00:00</start_time>
<end_time timestamp="1733240467">2024-12-03T15:41:07+00:00</end_time>
<duration>00:15:02</duration>
<primary_rep gsnumber="21" id="1">Admin</primary_rep>
<session_details>
<event timestamp="1733239600" event_type="System Information Retrieved">
<performed_by type="representative" gsnumber="21">Admin</performed_by>
<system_information>
  <category name="Operating System">
    <description><field name="name">Name</field><field name="version">Version</field></description>
    <data><row><field>Windows 11 Pro</field><field>10.0.26100</field></row></data>
  </category>
  <category name="Drives">
    <description><field name="letter">Drive</field><field name="free">Free Space</field></description>
    <data>
      <row><field>C:</field><field>41.2 GB</field></row>
      <row><field>D:</field><field>310.0 GB</field></row>
    </data>
  </category>
</system_information>
</event>
</session_details>
</session></session_list>`

func parseOne(t testing.TB, xml string) *bt.Session {
	t.Helper()
	ss, err := bt.ParseSessions(strings.NewReader(xml))
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 1 {
		t.Fatalf("parsed %d sessions, want 1", len(ss))
	}
	return ss[0]
}

var reEmptyValue = regexp.MustCompile(`(?m)^.*: *$`)

// TestSystemInfoShowsValues renders the reference's system information
// through the real parser and the default template: the values reach the
// report, every row of every category, and no label stands without a value.
func TestSystemInfoShowsValues(t *testing.T) {
	t.Parallel()
	r := newTestRenderer(t, "")
	out := render(t, r, "", SessionReport, NewData(parseOne(t, referenceSysInfo), time.UTC))
	_, section, _ := strings.Cut(out, "System information\n------------------\n")
	for _, want := range []string{
		"Operating System\n  Name: Windows 11 Pro\n  Version: 10.0.26100\n",
		"Drives\n  - Drive: C: | Free Space: 41.2 GB\n  - Drive: D: | Free Space: 310.0 GB\n",
	} {
		if !strings.Contains(section, want) {
			t.Errorf("system information lacks %q:\n%s", want, out)
		}
	}
	if m := reEmptyValue.FindString(section); m != "" {
		t.Errorf("a label without its value: %q in\n%s", m, out)
	}
	if strings.Contains(section, "entries") || strings.Contains(section, "entry") {
		t.Errorf("rows are counted instead of shown:\n%s", out)
	}
}
