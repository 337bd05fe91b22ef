package connectwise

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	bt "switchboard/engine/beyondtrust"
)

// contactSpec is the Contact setting: a literal id, or the
// `<<field|custom_field>>` expression: the contact whose Field equals the
// session's custom field Custom.
type contactSpec struct {
	ID     int64
	Field  string
	Custom string
}

// emailField searches the contact's e-mail communication items, as
// childConditions do (reference §5.5); any other field is a condition on
// the contact itself.
const emailField = "email"

var (
	contactFieldRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*(/[A-Za-z][A-Za-z0-9_]*)*$`)
	codeNameRE     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// String writes the setting back.
func (c contactSpec) String() string {
	if c.Field == "" {
		return strconv.FormatInt(c.ID, 10)
	}
	return "<<" + c.Field + "|" + c.Custom + ">>"
}

// parseContact reads the Contact setting; blank is no contact.
func parseContact(text string) (contactSpec, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return contactSpec{}, nil
	}
	if id, err := strconv.ParseInt(text, 10, 64); err == nil {
		if id <= 0 {
			return contactSpec{}, errors.New("a contact id must be a positive number")
		}
		return contactSpec{ID: id}, nil
	}
	inner, ok := strings.CutPrefix(text, "<<")
	if !ok {
		return contactSpec{}, errors.New("must be a contact id or an expression such as <<email|customer_email>>")
	}
	if inner, ok = strings.CutSuffix(inner, ">>"); !ok {
		return contactSpec{}, errors.New("the expression must end with >>")
	}
	field, custom, ok := strings.Cut(inner, "|")
	switch {
	case !ok:
		return contactSpec{}, errors.New("separate the contact field and the custom field code name with |, as in <<email|customer_email>>")
	case strings.Contains(custom, "|"):
		return contactSpec{}, errors.New("the expression may contain only one |")
	case !contactFieldRE.MatchString(field):
		return contactSpec{}, fmt.Errorf("the contact field %q must be email or a field name such as lastName (letters, digits, _ and /)", field)
	case !codeNameRE.MatchString(custom):
		return contactSpec{}, fmt.Errorf("the custom field code name %q may contain only letters, digits and _", custom)
	}
	return contactSpec{Field: field, Custom: custom}, nil
}

// contactQuery is the search for the contacts whose field is value, or
// ok false when value cannot be searched (it holds a quote).
func (c contactSpec) query(value string) (url.Values, bool) {
	v, ok := quote(value)
	if !ok {
		return nil, false
	}
	q := url.Values{"conditions": {"inactiveFlag=false"}}
	if strings.EqualFold(c.Field, emailField) {
		q.Set("childConditions", "communicationItems/value="+v+" AND communicationItems/communicationType=\"Email\"")
	} else {
		q.Set("conditions", c.Field+"="+v+" and inactiveFlag=false")
	}
	return q, true
}

// foundContact is what a contact search returns.
type foundContact struct {
	ID      int64 `json:"id"`
	Company struct {
		ID         int64  `json:"id"`
		Identifier string `json:"identifier"`
	} `json:"company"`
}

// resolveContact returns the contact for a new ticket (nil: none). The
// value comes from the report only: a posted custom field would let anyone
// who reaches the intake port choose the ticket's contact and company.
func (r *run) resolveContact(ctx context.Context, sess *bt.Session, spec contactSpec) (*foundContact, error) {
	if spec.Field == "" {
		if spec.ID == 0 {
			r.job.Explain("contact", "the Contact setting is empty; using the default contact %s", r.defaultContactText())
			return r.defaultContact(), nil
		}
		r.job.Explain("contact", "the Contact setting names contact %d", spec.ID)
		return &foundContact{ID: spec.ID}, nil
	}
	value, _ := sess.Attribute(spec.Custom)
	value = strings.TrimSpace(value)
	q, ok := spec.query(value)
	if value == "" || !ok {
		r.log.Info("connectwise: the contact expression has no usable value; using the default contact", "expression", spec.String())
		why := "is empty"
		if value != "" {
			why = fmt.Sprintf("is %q, which holds a quote and cannot be searched", value)
		}
		r.job.Explain("contact", "%s: the session's custom field %s %s; using the default contact %s", spec, spec.Custom, why, r.defaultContactText())
		return r.defaultContact(), nil
	}
	found, err := Find[foundContact](ctx, r.cw, "company/contacts", q, 1)
	if err != nil {
		return nil, fmt.Errorf("connectwise: find the contact whose %s is %q: %w", spec.Field, value, err)
	}
	if len(found) == 0 {
		r.log.Info("connectwise: no contact matches; using the default contact", "expression", spec.String())
		r.job.Explain("contact", "%s: the session's %s is %q; no active ConnectWise contact has %s %q, so the default contact %s is used", spec, spec.Custom, value, spec.Field, value, r.defaultContactText())
		return r.defaultContact(), nil
	}
	r.job.Explain("contact", "%s: the session's %s is %q; ConnectWise contact %d (company %s) has %s %q", spec, spec.Custom, value, found[0].ID, found[0].Company.Identifier, spec.Field, value)
	return &found[0], nil
}

func (r *run) defaultContact() *foundContact {
	if r.set.DefaultContactID == 0 {
		return nil
	}
	return &foundContact{ID: r.set.DefaultContactID}
}

// defaultContactText names the default contact for an explanation.
func (r *run) defaultContactText() string {
	if r.set.DefaultContactID == 0 {
		return "(none set: the ticket gets no contact)"
	}
	return strconv.FormatInt(r.set.DefaultContactID, 10)
}
