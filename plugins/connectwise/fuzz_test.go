package connectwise

import (
	"strings"
	"testing"
)

// FuzzParseContact: the Contact setting and an external key's contact are
// outside input; a parsed expression must write itself back and build a
// search only from checked names.
func FuzzParseContact(f *testing.F) {
	for _, s := range []string{"<<email|customer_email>>", "42", "<<company/identifier|code>>", "<<|>>", "<<a|b|c>>", "<<x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseContact(s)
		if err != nil {
			return
		}
		if c.Field != "" {
			again, err := parseContact(c.String())
			if err != nil || again != c {
				t.Fatalf("%q reads back as %+v (%v)", s, again, err)
			}
			if q, ok := c.query("value"); ok && strings.ContainsAny(q.Get("conditions"), "()'") {
				t.Fatalf("%q builds %q", s, q.Get("conditions"))
			}
		}
	})
}

// FuzzSettingsText: the site and the member table never panic, and a
// table that parses maps only non-empty names without quotes.
func FuzzSettingsText(f *testing.F) {
	f.Add("api-na.myconnectwise.net", "alice = jdoe\n# c\nbob=b")
	f.Add("https://cw.example.com/v4_6_release/apis/3.0", "=\n")
	f.Fuzz(func(t *testing.T, site, table string) {
		_, _, _ = parseSite(site)
		m, err := parseMemberTable(table)
		if err != nil {
			return
		}
		for k, v := range m {
			if k == "" || v == "" || strings.ContainsAny(v, `"'`) {
				t.Fatalf("%q maps %q to %q", table, k, v)
			}
		}
	})
}
