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

// TestSystemInfoOddTables feeds tables the reference allows or a broken
// appliance might send: self-closing headers, rows longer or shorter than
// the header, empty rows and values, a value over several lines.
func TestSystemInfoOddTables(t *testing.T) {
	t.Parallel()
	const doc = `<session_list><session lsid="ab"><session_details>
<event timestamp="1733239600" event_type="System Information Retrieved"><system_information>
<category name="Self-closing headers">
<description><field name="Name"/><field name="Version"/></description>
<data><row><field>Agent</field><field>24.3</field></row></data>
</category>
<category name="Ragged">
<description><field name="a">A</field><field name="b">B</field></description>
<data>
<row><field>1</field><field>2</field><field>3</field></row>
<row><field>4</field></row>
<row><field></field><field>  </field></row>
<row/>
</data>
</category>
<category name="Multi-line">
<description><field name="n">Note</field><field name="s">State</field></description>
<data><row><field>first
second</field><field>ok</field></row><row><field>x</field><field>y</field></row></data>
</category>
<category name="No headers">
<data><row><field>lonely</field></row></data>
</category>
</system_information></event></session_details></session></session_list>`
	d := NewData(parseOne(t, doc), time.UTC)
	if len(d.SystemInfo) != 4 {
		t.Fatalf("%d categories, want 4", len(d.SystemInfo))
	}
	self, ragged, multi, bare := d.SystemInfo[0], d.SystemInfo[1], d.SystemInfo[2], d.SystemInfo[3]
	if got := self.Rows[0].Block; got != "Name: Agent\nVersion: 24.3" {
		t.Errorf("self-closing headers: block %q", got)
	}
	if len(ragged.Rows) != 2 {
		t.Fatalf("ragged: %d rows, want the 2 with a value: %+v", len(ragged.Rows), ragged.Rows)
	}
	if got := ragged.Rows[0].Text; got != "A: 1 | B: 2 | Column 3: 3" {
		t.Errorf("a row longer than the header: %q", got)
	}
	if got := ragged.Rows[1].Text; got != "A: 4" || len(ragged.Rows[1].Fields) != 2 {
		t.Errorf("a row shorter than the header: %q, %d fields", got, len(ragged.Rows[1].Fields))
	}
	if multi.OneLine {
		t.Error("a value over several lines is laid out on one line")
	}
	if got := bare.Rows[0].Block; got != "Column 1: lonely" {
		t.Errorf("no headers: block %q", got)
	}
	out := render(t, newTestRenderer(t, ""), "", SessionReport, d)
	_, section, _ := strings.Cut(out, "System information\n------------------\n")
	if !strings.Contains(section, "  - Note: first\n    second\n    State: ok\n") {
		t.Errorf("multi-line value not indented under its row:\n%s", out)
	}
	if m := reEmptyValue.FindString(section); m != "" {
		t.Errorf("a label without its value: %q in\n%s", m, out)
	}
}
