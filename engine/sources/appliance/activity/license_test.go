package activity

import (
	"archive/zip"
	"bytes"
	"errors"
	"strings"
	"testing"

	"switchboard/engine/beyondtrust"
)

// namedZip builds an archive of name, content pairs.
func namedZip(t testing.TB, pairs ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i+1 < len(pairs); i += 2 {
		w, err := zw.Create(pairs[i])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(pairs[i+1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestReadEndpointLicenses: jump_items.csv is read by column position
// after its header, quoted or not, whatever else the archive holds; a short
// line leaves the missing columns empty and "licensed" null.
func TestReadEndpointLicenses(t *testing.T) {
	t.Parallel()
	csvText := "\ufeffwhatever,the,header,says,is,skipped,here\r\n" +
		`"Web01","10.0.0.5","Jumpoint A","","yes","Remote RDP","Ops"` + "\r\n" +
		"\r\n" +
		`"db, primary","db.example.com","JP ""B""","SQL Tool","no","Shell Jump","DBA"` + "\n" +
		`short,host-only` + "\n" +
		`odd,h,j,a,maybe,m,g,extra` + "\n"
	items, err := ReadEndpointLicenses(bytes.NewReader(namedZip(t, "readme.txt", "x", "reports/jump_items.csv", csvText)), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 4 {
		t.Fatalf("%d items: %+v", len(items), items)
	}
	a, b, c, d := items[0], items[1], items[2], items[3]
	if a.JumpItem != "Web01" || a.Host != "10.0.0.5" || a.Jumpoint != "Jumpoint A" || a.RemoteApplication != "" ||
		a.License != "yes" || a.Licensed == nil || !*a.Licensed || a.JumpMethod != "Remote RDP" || a.JumpGroup != "Ops" {
		t.Fatalf("first: %+v", a)
	}
	if b.JumpItem != "db, primary" || b.Jumpoint != `JP "B"` || b.RemoteApplication != "SQL Tool" || b.Licensed == nil || *b.Licensed {
		t.Fatalf("quoted: %+v", b)
	}
	if c.JumpItem != "short" || c.Host != "host-only" || c.Jumpoint != "" || c.Licensed != nil || c.JumpGroup != "" {
		t.Fatalf("short line: %+v", c)
	}
	if d.License != "maybe" || d.Licensed != nil || d.JumpGroup != "g" {
		t.Fatalf("unknown license value: %+v", d)
	}
	// A header alone, or an empty file: no Jump Items.
	for _, content := range []string{"h1,h2\n", ""} {
		if items, err := ReadEndpointLicenses(bytes.NewReader(namedZip(t, "jump_items.csv", content)), t.TempDir()); err != nil || len(items) != 0 {
			t.Fatalf("%q: %v %v", content, items, err)
		}
	}
}

// TestReadEndpointLicensesFaults: the appliance's <error> is its refusal
// (or no data); an archive without jump_items.csv, a broken one, or one past
// the bounds is malformed, never read in part.
func TestReadEndpointLicensesFaults(t *testing.T) {
	t.Parallel()
	read := func(b []byte) ([]JumpItemLicense, error) {
		return ReadEndpointLicenses(bytes.NewReader(b), t.TempDir())
	}
	items, err := read([]byte(`<?xml version="1.0"?><error xmlns="` + beyondtrust.NamespacePRAReporting + `">No Support report information matching your chosen criteria is available.</error>`))
	if err != nil || items != nil {
		t.Fatalf("no data: %v %v", items, err)
	}
	var re *beyondtrust.ResponseError
	if _, err := read([]byte(`<error>You do not have permission to access this report.</error>`)); !errors.As(err, &re) || !strings.Contains(re.Message, "permission") {
		t.Fatalf("refusal: %v", err)
	}
	var pe *beyondtrust.ParseError
	for name, body := range map[string][]byte{
		"no jump_items.csv": namedZip(t, "syslog.log", "x"),
		"not a zip":         []byte("PK\x03\x04 broken"),
		"html":              []byte("<html><body>login</body></html>"),
		"bad quotes":        namedZip(t, "jump_items.csv", "h\n\"a\"b\"c,\"d\n\"unterminated"),
	} {
		if _, err := read(body); !errors.As(err, &pe) {
			t.Errorf("%s: %v, want a ParseError", name, err)
		}
	}
	if _, err := read(namedZip(t, "x.csv", "1")); err == nil || !strings.Contains(err.Error(), `"x.csv"`) {
		t.Fatalf("the error does not name what the archive holds: %v", err)
	}
}

// TestReadEndpointLicensesBounds: more Jump Items, or more bytes, than the
// bounds allow fail the whole report.
func TestReadEndpointLicensesBounds(t *testing.T) {
	defer func(n int, b int64) { MaxJumpItems, MaxLicenseCSV = n, b }(MaxJumpItems, MaxLicenseCSV)
	MaxJumpItems = 2
	body := namedZip(t, "jump_items.csv", "h\na\nb\nc\n")
	if _, err := ReadEndpointLicenses(bytes.NewReader(body), t.TempDir()); err == nil || !strings.Contains(err.Error(), "more than 2 Jump Items") {
		t.Fatalf("rows: %v", err)
	}
	MaxJumpItems, MaxLicenseCSV = 100, 10
	if _, err := ReadEndpointLicenses(bytes.NewReader(namedZip(t, "jump_items.csv", "h\n"+strings.Repeat("x", 50))), t.TempDir()); err == nil || !strings.Contains(err.Error(), "expands past 10 bytes") {
		t.Fatalf("bytes: %v", err)
	}
}
