package autotask

import (
	"strings"
	"testing"
)

var contactCases = []struct {
	in      string
	want    ContactExpression
	wantErr string
}{
	{in: "<<emailAddress|customer_email>>", want: ContactExpression{Field: "emailAddress", CustomField: "customer_email"}},
	{in: "<<phone|cust_phone2>>", want: ContactExpression{Field: "phone", CustomField: "cust_phone2"}},
	{in: "<<emailAddress|>>", wantErr: "the custom field code name is missing"},
	{in: "<<|customer_email>>", wantErr: "the Contacts field name is missing"},
	{in: "<<emailAddress customer_email>>", wantErr: "separate the Contacts field and the custom field code name with |"},
	{in: "<<emailAddress|customer_email", wantErr: "must end with >>"},
	{in: "emailAddress|customer_email>>", wantErr: "must be a contact id or an expression"},
	{in: "<<a|b|c>>", wantErr: "only one |"},
	{in: "<< emailAddress|customer_email>>", wantErr: `the Contacts field name " emailAddress" may contain only`},
	{in: "<<emailAddress|customer-email>>", wantErr: `the custom field code name "customer-email" may contain only`},
	{in: "<<1email|x>>", wantErr: "must start with a letter"},
	{in: "", wantErr: "must be a contact id or an expression"},
	{in: "<<>>", wantErr: "separate the Contacts field"},
}

func TestParseContactExpression(t *testing.T) {
	t.Parallel()
	for _, tc := range contactCases {
		got, err := ParseContactExpression(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseContactExpression(%q) error = %v, want it to contain %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseContactExpression(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		if got.String() != tc.in {
			t.Errorf("String() = %q, want %q", got.String(), tc.in)
		}
	}
}

// FuzzContactExpression checks that the parser never panics and that what
// it accepts writes back to the same text.
func FuzzContactExpression(f *testing.F) {
	for _, tc := range contactCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseContactExpression(s)
		if err != nil {
			return
		}
		if e.String() != s {
			t.Fatalf("accepted %q but writes back %q", s, e.String())
		}
		if e.Field == "" || e.CustomField == "" {
			t.Fatalf("accepted %q with an empty part", s)
		}
	})
}
