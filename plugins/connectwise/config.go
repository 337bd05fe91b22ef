package connectwise

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	// The report time zone must resolve on hosts without a zoneinfo
	// database (Windows, minimal containers).
	_ "time/tzdata"

	"switchboard/engine"
)

// Session types for automatic ticket creation; see SessionType.
const (
	TypeIssueSubmission = "issue_submission"
	TypeSessionKey      = "session_key"
	TypeRepInitiated    = "rep_initiated"
	TypeJump            = "jump"
)

// SessionTypes are all session types, in the order the form lists them.
var SessionTypes = []string{TypeIssueSubmission, TypeSessionKey, TypeRepInitiated, TypeJump}

// Member mapping rules.
const (
	MemberByIdentifier = "identifier" // the BeyondTrust username is the member identifier
	MemberByEmail      = "email"      // username@domain is the member's e-mail
)

// Billable options of a time entry (reference §5.2).
var billableOptions = []string{"Billable", "DoNotBill", "NoCharge", "NoDefault"}

// Settings is a ConnectWise configuration's own section. Its tags drive
// validation, the admin form and the settings reference in docs.
type Settings struct {
	Site        string        `json:"site" validate:"required,max=300" section:"ConnectWise" label:"Site" placeholder:"api-na.myconnectwise.net" help:"Your region's API host (api-na, api-eu, api-au, api-aus or api-za.myconnectwise.net; a login host such as na.myconnectwise.net works too) or your on-premises server's URL. The codebase is looked up; a URL ending in /apis/3.0 is used as it is."`
	CompanyID   string        `json:"company_id" validate:"required,max=64" section:"ConnectWise" label:"Company ID" placeholder:"contoso" help:"The company you sign in to ConnectWise PSA with."`
	PublicKey   string        `json:"public_key" validate:"required,max=128" section:"ConnectWise" label:"Public Key" help:"The API member's public key (System > Members > API Members > API Keys)."`
	PrivateKey  engine.Secret `json:"private_key" validate:"required" binds:"site,company_id,public_key" section:"ConnectWise" label:"Private Key" help:"The API member's private key."`
	ClientID    string        `json:"client_id" validate:"required,max=64" section:"ConnectWise" label:"Client ID" placeholder:"0f2b1e9c-5c0a-4b7e-9a7e-3d6f2b8c1a01" help:"The clientId ConnectWise issued for this integration at developer.connectwise.com; it is sent with every call."`
	APIVersion  string        `json:"api_version" validate:"omitempty,max=16" default:"2025.1" section:"ConnectWise" label:"API Version" help:"The response model version asked for (Accept version=…). Blank: the server's default."`
	MaxInFlight int           `json:"max_concurrent_requests" validate:"gte=0,lte=32" default:"4" section:"ConnectWise" label:"Concurrent Requests" help:"Requests this account has in flight at once, shared by every configuration using the same keys. ConnectWise publishes no limit; its edge answers 429 when pressed."`

	MemberRule   string `json:"member_rule" kind:"select" options:"identifier=BeyondTrust username is the member identifier,email=BeyondTrust username @ domain is the member's e-mail" default:"identifier" section:"Members" label:"Member Mapping Rule" help:"How a representative's BeyondTrust username becomes the ConnectWise member notes and time entries are written for. The table below comes first."`
	MemberDomain string `json:"member_domain" validate:"omitempty,max=253" section:"Members" label:"Member E-mail Domain" placeholder:"msp.example" help:"With the e-mail rule: username + @ + this domain is matched against the member's primary or office e-mail."`
	MemberTable  string `json:"member_table" kind:"textarea" validate:"max=20000" section:"Members" label:"Member Table" placeholder:"alice = jdoe" help:"One mapping per line: BeyondTrust username = ConnectWise member identifier. Lines starting with # are comments."`
	TestRep      string `json:"test_representative" validate:"omitempty,max=254" section:"Members" label:"Sample Representative" placeholder:"alice" help:"A BeyondTrust username the Test button maps to a member. Blank: the table's first entry."`

	NoteDiscussion  bool   `json:"note_detail_description" section:"Notes" label:"Notes in Discussion" help:"Add notes with the detail description flag: customer-visible in the Discussion."`
	NoteInternal    bool   `json:"note_internal_analysis" default:"true" section:"Notes" label:"Notes in Internal Analysis" help:"Add notes with the internal analysis flag (Internal)."`
	NoteResolution  bool   `json:"note_resolution" section:"Notes" label:"Notes in Resolution" help:"Add notes with the resolution flag."`
	Notify          bool   `json:"process_notifications" section:"Notes" label:"Process Notifications" help:"Let ConnectWise run its workflow e-mails for the notes Switchboard adds. Off: processNotifications=false."`
	Templates       string `json:"template_set" validate:"omitempty,max=64" section:"Notes" label:"Template Set" placeholder:"contoso" help:"Name of a folder under the data directory's templates/ holding this configuration's own report templates. Blank: the overrides and defaults."`
	ReportTimeZone  string `json:"report_time_zone" validate:"required,max=64" default:"UTC" section:"Notes" label:"Report Time Zone" placeholder:"Europe/Berlin" help:"IANA time zone name for times in reports."`
	TestTicketID    int64  `json:"test_ticket_id" validate:"gte=0" section:"Notes" label:"Sample Ticket" help:"A ticket id the Test button reads (never writes). 0: no ticket is read."`
	TimeEntry       bool   `json:"time_entry" section:"Time entry" label:"Add Time Entry" help:"At session end, charge the session's time to the ticket for the primary representative's member."`
	WorkType        string `json:"work_type" validate:"omitempty,max=100" section:"Time entry" label:"Work Type" placeholder:"Remote" help:"Name of the work type. Blank: the member's or board's default."`
	WorkRole        string `json:"work_role" validate:"omitempty,max=100" section:"Time entry" label:"Work Role" placeholder:"System Engineer" help:"Name of the work role. Blank: the member's default."`
	BillableOption  string `json:"billable_option" kind:"select" options:"NoDefault=As the board and agreement say,Billable=Billable,DoNotBill=Do not bill,NoCharge=No charge" default:"NoDefault" section:"Time entry" label:"Billable Option"`
	TimeEntryNotes  string `json:"time_entry_notes" validate:"max=4000" default:"Remote session via BeyondTrust." section:"Time entry" label:"Time Entry Notes" help:"The entry's notes; the session id follows in its internal notes."`
	TimeEntryInNote bool   `json:"time_entry_internal_analysis" section:"Time entry" label:"Show Time Entry Notes as Internal Note" help:"addToInternalAnalysisFlag: the time entry's notes also show on the ticket as an internal note."`

	AutoTicket             bool     `json:"auto_ticket_on_start" section:"Automatic ticket creation" label:"Create a Ticket when a Representative Joins" help:"When a representative joins a session not tied to a ticket, create one and write its id into the session's external key."`
	AutoTicketWithoutKey   bool     `json:"auto_ticket_without_external_key" section:"Automatic ticket creation" label:"Also when the External Key is Empty" help:"Without it, only an external key holding a JSON object of ticket fields triggers creation."`
	AutoTicketSessionTypes []string `json:"auto_ticket_session_types" options:"issue_submission=Issue submission,session_key=Session key or direct link,rep_initiated=Started by the representative,jump=Jump (Jumpoint or Jump Group)" default:"issue_submission,session_key,rep_initiated,jump" section:"Automatic ticket creation" label:"For these Session Types"`
	Board                  string   `json:"ticket_board" validate:"omitempty,max=100" section:"Automatic ticket creation" label:"Board" placeholder:"Help Desk" help:"Name of the service board new tickets go to."`
	Status                 string   `json:"ticket_status" validate:"omitempty,max=100" section:"Automatic ticket creation" label:"Status" placeholder:"New" help:"Name of a status of that board. Blank: the board's default."`
	Priority               string   `json:"ticket_priority" validate:"omitempty,max=100" section:"Automatic ticket creation" label:"Priority" placeholder:"Priority 3 - Normal Response" help:"Name of a priority. Blank: the default."`
	Type                   string   `json:"ticket_type" validate:"omitempty,max=100" section:"Automatic ticket creation" label:"Type" placeholder:"Hardware" help:"Name of a type of that board. Blank: none."`
	Company                string   `json:"ticket_company" validate:"omitempty,max=100" section:"Automatic ticket creation" label:"Company" placeholder:"ACME" help:"Identifier of the company new tickets belong to, unless the contact found belongs to another."`
	Summary                string   `json:"ticket_summary" validate:"max=500" default:"{{Issue}}" section:"Automatic ticket creation" label:"Summary" help:"{{Issue}} and {{Details}} are the customer's issue submission; ConnectWise keeps 100 characters."`
	Description            string   `json:"ticket_description" validate:"max=8000" default:"{{Details}}" section:"Automatic ticket creation" label:"Description" help:"The ticket's initial description; {{Issue}} and {{Details}} as above."`
	Contact                string   `json:"ticket_contact" validate:"max=200" section:"Automatic ticket creation" label:"Contact" placeholder:"<<email|customer_email>>" help:"A contact id, or <<field|custom_field>>: the contact whose field (email, or a contact field such as lastName) equals the session's custom field."`
	DefaultContactID       int64    `json:"default_contact_id" validate:"gte=0" section:"Automatic ticket creation" label:"Default Contact" help:"Contact id used when the expression finds none. 0: no contact."`
}

// NewSettings returns the values a new ConnectWise configuration starts with.
func NewSettings() *Settings {
	return &Settings{
		APIVersion: "2025.1", MaxInFlight: DefaultMaxInFlight, MemberRule: MemberByIdentifier,
		NoteInternal: true, ReportTimeZone: "UTC", BillableOption: "NoDefault",
		TimeEntryNotes:         "Remote session via BeyondTrust.",
		AutoTicketSessionTypes: slices.Clone(SessionTypes),
		Summary:                placeholderIssue, Description: placeholderDetails,
	}
}

var _ engine.SelfValidator = (*Settings)(nil)

var (
	templateSetName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	apiVersionRE    = regexp.MustCompile(`^\d{4}\.\d{1,2}$`)
)

// ValidateSettings checks what the tags cannot.
func (s *Settings) ValidateSettings() engine.FieldErrors {
	var out engine.FieldErrors
	add := func(field string, err error) {
		if err != nil {
			out = append(out, engine.FieldError{Field: field, Message: err.Error()})
		}
	}
	if s.Site != "" {
		_, _, err := parseSite(s.Site)
		add("site", err)
	}
	if s.APIVersion != "" && !apiVersionRE.MatchString(s.APIVersion) {
		add("api_version", errors.New("must be a version such as 2025.1, or blank"))
	}
	if !slices.Contains([]string{MemberByIdentifier, MemberByEmail}, s.MemberRule) {
		add("member_rule", fmt.Errorf("must be %s or %s", MemberByIdentifier, MemberByEmail))
	}
	if s.MemberRule == MemberByEmail && s.MemberDomain == "" {
		add("member_domain", errors.New("is required with the e-mail rule"))
	}
	if strings.Contains(s.MemberDomain, "@") {
		add("member_domain", errors.New("must be a domain such as msp.example, without @"))
	}
	_, err := parseMemberTable(s.MemberTable)
	add("member_table", err)
	if !s.NoteDiscussion && !s.NoteInternal && !s.NoteResolution {
		add("note_internal_analysis", errors.New("turn on at least one of Discussion, Internal Analysis and Resolution: a note without one shows nowhere"))
	}
	if s.Templates != "" && (!templateSetName.MatchString(s.Templates) || s.Templates == "partials") {
		add("template_set", errors.New("must be a folder name: letters, digits, '.', '_' and '-', starting with a letter or digit (and not \"partials\")"))
	}
	if s.ReportTimeZone != "" {
		if _, err := time.LoadLocation(s.ReportTimeZone); err != nil {
			add("report_time_zone", fmt.Errorf("%q is not an IANA time zone name such as Europe/Berlin or UTC", s.ReportTimeZone))
		}
	}
	if s.BillableOption != "" && !slices.Contains(billableOptions, s.BillableOption) {
		add("billable_option", fmt.Errorf("must be one of %s", strings.Join(billableOptions, ", ")))
	}
	for _, t := range s.AutoTicketSessionTypes {
		if !slices.Contains(SessionTypes, t) {
			add("auto_ticket_session_types", fmt.Errorf("%q is not a session type; use %s", t, strings.Join(SessionTypes, ", ")))
			break
		}
	}
	_, err = parseContact(s.Contact)
	add("ticket_contact", err)
	if s.AutoTicket {
		if len(s.AutoTicketSessionTypes) == 0 {
			add("auto_ticket_session_types", errors.New("select at least one session type, or turn automatic ticket creation off"))
		}
		if s.Board == "" {
			add("ticket_board", errors.New("is required when tickets are created"))
		}
		if s.Company == "" {
			add("ticket_company", errors.New("is required when tickets are created: ConnectWise needs a company on every ticket"))
		}
	}
	return out
}

var (
	_ engine.TemplateSetter = (*Settings)(nil)
	_ engine.ReportZoner    = (*Settings)(nil)
)

// TemplateSet names the configuration's own template set ("" for none).
func (s *Settings) TemplateSet() string { return s.Templates }

// Location is the report time zone; settings were validated before.
func (s *Settings) Location() *time.Location {
	loc, err := engine.LoadZone(s.ReportTimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// loginHosts maps ConnectWise's cloud login hosts to their API hosts
// (reference §1).
var loginHosts = map[string]string{
	"na.myconnectwise.net": "api-na.myconnectwise.net", "eu.myconnectwise.net": "api-eu.myconnectwise.net",
	"au.myconnectwise.net": "api-au.myconnectwise.net", "aus.myconnectwise.net": "api-aus.myconnectwise.net",
	"za.myconnectwise.net": "api-za.myconnectwise.net",
}

// parseSite turns what an admin pastes into the site's origin and, when
// the URL already holds a codebase and /apis/3.0, the API root. Plain
// HTTP goes only to this machine: the keys travel in every request.
func parseSite(raw string) (base, root string, err error) {
	raw = strings.TrimSpace(raw)
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", "", errors.New("must be a host such as api-na.myconnectwise.net or a URL such as https://cw.example.com")
	}
	if u.Scheme == "http" && !engine.IsLoopbackHost(u.Hostname()) {
		return "", "", errors.New("must use https://: the API keys travel with every request")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", "", errors.New("must not carry a query, fragment or user name")
	}
	host := strings.ToLower(u.Host)
	if api, ok := loginHosts[host]; ok {
		host = api
	}
	base = u.Scheme + "://" + host
	p := strings.TrimRight(u.Path, "/")
	switch {
	case p == "":
		return base, "", nil
	case strings.HasSuffix(strings.ToLower(p), "/apis/3.0"):
		return base, base + p, nil
	}
	return "", "", errors.New("must be the site's host, or a URL ending in /apis/3.0 such as https://cw.example.com/v4_6_release/apis/3.0")
}

// parseMemberTable reads "username = identifier" lines. Usernames match
// without regard to case, as BeyondTrust logins do.
func parseMemberTable(text string) (map[string]string, error) {
	out := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, member, ok := strings.Cut(line, "=")
		user, member = strings.TrimSpace(user), strings.TrimSpace(member)
		switch {
		case !ok || user == "" || member == "":
			return nil, fmt.Errorf("line %d must read username = member identifier", i+1)
		case strings.ContainsAny(member, `"'`):
			return nil, fmt.Errorf("line %d: a member identifier cannot hold quotes", i+1)
		}
		key := strings.ToLower(user)
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("line %d maps %s a second time", i+1, user)
		}
		out[key] = member
	}
	return out, nil
}
