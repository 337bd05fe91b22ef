package autotask

import (
	"errors"
	"fmt"
	"strings"
)

// ContactExpression is the `<<field|custom_field>>` form of a ticket's
// contactID: find the Autotask contact whose Field equals the session's
// custom field CustomField. The double angle brackets are part of the format.
type ContactExpression struct {
	// Field is a Contacts field, such as emailAddress.
	Field string
	// CustomField is the code name of a BeyondTrust custom field, such as
	// customer_email.
	CustomField string
}

// String writes the expression back in its `<<field|custom_field>>` form.
func (e ContactExpression) String() string { return "<<" + e.Field + "|" + e.CustomField + ">>" }

// ParseContactExpression reads `<<field|custom_field>>` strictly: no spaces,
// one separator, names made of letters, digits and underscores. The errors
// say what to fix in the words an admin reads in the form.
func ParseContactExpression(s string) (ContactExpression, error) {
	inner, ok := strings.CutPrefix(s, "<<")
	if !ok {
		return ContactExpression{}, errors.New("must be a contact id or an expression such as <<emailAddress|customer_email>>")
	}
	inner, ok = strings.CutSuffix(inner, ">>")
	if !ok {
		return ContactExpression{}, errors.New("the expression must end with >>")
	}
	field, custom, ok := strings.Cut(inner, "|")
	switch {
	case !ok:
		return ContactExpression{}, errors.New("separate the Contacts field and the custom field code name with |, as in <<emailAddress|customer_email>>")
	case strings.Contains(custom, "|"):
		return ContactExpression{}, errors.New("the expression may contain only one |")
	case field == "":
		return ContactExpression{}, errors.New("the Contacts field name is missing before |")
	case custom == "":
		return ContactExpression{}, errors.New("the custom field code name is missing after |")
	}
	if err := checkName("the Contacts field name", field); err != nil {
		return ContactExpression{}, err
	}
	if err := checkName("the custom field code name", custom); err != nil {
		return ContactExpression{}, err
	}
	return ContactExpression{Field: field, CustomField: custom}, nil
}

// checkName accepts identifiers: Autotask field names and BeyondTrust code
// names are both made of ASCII letters, digits and underscores.
func checkName(what, name string) error {
	for i, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return fmt.Errorf("%s %q may contain only letters, digits and _ and must start with a letter", what, name)
		}
	}
	return nil
}
