package connectwise

import (
	"strings"
	"testing"

	"switchboard/engine"
)

func TestParseSite(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, base, root, err string }{
		{in: "api-na.myconnectwise.net", base: "https://api-na.myconnectwise.net"},
		{in: "https://na.myconnectwise.net/", base: "https://api-na.myconnectwise.net"},
		{in: "eu.myconnectwise.net", base: "https://api-eu.myconnectwise.net"},
		{in: "https://cw.example.com/v4_6_release/apis/3.0/", base: "https://cw.example.com", root: "https://cw.example.com/v4_6_release/apis/3.0"},
		{in: "http://127.0.0.1:8080", base: "http://127.0.0.1:8080"},
		{in: "http://cw.example.com", err: "https://"},
		{in: "https://cw.example.com/login", err: "/apis/3.0"},
		{in: "https://user@cw.example.com", err: "user name"},
		{in: "https://cw.example.com/?x=1", err: "query"},
		{in: "ftp://cw.example.com", err: "must be a host"},
		{in: "", err: "must be a host"},
	}
	for _, c := range cases {
		base, root, err := parseSite(c.in)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: error %v, want %q", c.in, err, c.err)
		case c.err == "" && (err != nil || base != c.base || root != c.root):
			t.Errorf("%q: %q %q %v, want %q %q", c.in, base, root, err, c.base, c.root)
		}
	}
}

func TestParseContact(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"": "0", "42": "42", "<<email|customer_email>>": "<<email|customer_email>>", "<<company/identifier|code>>": "<<company/identifier|code>>",
		"-1": "positive", "<<email|x|y>>": "only one", "<<email customer>>": "separate", "<<email|cust-email>>": "letters", "<<1x|c>>": "contact field",
		"<<email|c": "end with >>", "email": "contact id or an expression",
	} {
		got, err := parseContact(in)
		text := got.String()
		if err != nil {
			text = err.Error()
		}
		if !strings.Contains(text, want) {
			t.Errorf("%q: %q, want %q", in, text, want)
		}
	}
}

func TestMemberTable(t *testing.T) {
	t.Parallel()
	m, err := parseMemberTable("# comment\nalice = jdoe\n\n Bob=bsmith \n")
	if err != nil || m["alice"] != "jdoe" || m["bob"] != "bsmith" || len(m) != 2 {
		t.Errorf("%v %v", m, err)
	}
	for in, want := range map[string]string{"alice": "line 1", "alice = ": "line 1", "a=b\nA=c": "second time", `a="b"`: "quotes"} {
		if _, err := parseMemberTable(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
}

func TestValidateSettings(t *testing.T) {
	t.Parallel()
	valid := func() *Settings {
		s := NewSettings()
		s.Site, s.CompanyID, s.PublicKey, s.ClientID = "api-na.myconnectwise.net", "acme", "pub", "cid"
		s.PrivateKey = engine.NewSecret("priv")
		return s
	}
	if errs := engine.Validate(valid()); errs != nil {
		t.Fatalf("valid settings: %v", errs)
	}
	cases := map[string]func(s *Settings){
		"site":                      func(s *Settings) { s.Site = "http://cw.example.com" },
		"api_version":               func(s *Settings) { s.APIVersion = "latest" },
		"member_domain":             func(s *Settings) { s.MemberRule = MemberByEmail },
		"member_table":              func(s *Settings) { s.MemberTable = "nonsense" },
		"note_internal_analysis":    func(s *Settings) { s.NoteInternal = false },
		"report_time_zone":          func(s *Settings) { s.ReportTimeZone = "Mars/Olympus" },
		"ticket_board":              func(s *Settings) { s.AutoTicket = true; s.Company = "ACME" },
		"ticket_company":            func(s *Settings) { s.AutoTicket = true; s.Board = "Help Desk" },
		"ticket_contact":            func(s *Settings) { s.Contact = "<<email>>" },
		"auto_ticket_session_types": func(s *Settings) { s.AutoTicketSessionTypes = []string{"phone"} },
		"billable_option":           func(s *Settings) { s.BillableOption = "Sometimes" },
		"template_set":              func(s *Settings) { s.Templates = "../x" },
		"private_key":               func(s *Settings) { s.PrivateKey = engine.Secret{} },
		"max_concurrent_requests":   func(s *Settings) { s.MaxInFlight = 99 },
	}
	for field, edit := range cases {
		s := valid()
		edit(s)
		if errs := engine.Validate(s); errs.For(field) == "" {
			t.Errorf("%s: no error (%v)", field, errs)
		}
	}
}
