package autotask

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
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

// Settings is an Autotask configuration's own section. Its tags drive
// validation, the admin form and the settings reference in docs/autotask.md.
type Settings struct {
	ServicesURL             string        `json:"services_url" validate:"omitempty,url,max=300" section:"Autotask" label:"Autotask Services URL" placeholder:"https://webservices15.autotask.net/ATServicesRest/" help:"Leave blank: Switchboard finds your zone from the username. Set it only to pin a zone."`
	Username                string        `json:"username" validate:"required,max=254" section:"Autotask" label:"Autotask Username" placeholder:"api-user@example.com" help:"The API-only user's username (Admin > Resources/Users, security level API User)."`
	Password                engine.Secret `json:"password" validate:"required" binds:"services_url,username" section:"Autotask" label:"Autotask Password" help:"The API user's secret."`
	IntegrationCode         engine.Secret `json:"integration_code" validate:"required" binds:"services_url,username" section:"Autotask" label:"API Integration Code" help:"The API tracking identifier of this integration, from the API user's security settings."`
	ImpersonationResourceID int64         `json:"impersonation_resource_id" validate:"gte=0" section:"Autotask" label:"Impersonation Resource" help:"Optional Autotask resource id that notes, time entries and tickets are written as (the API user's security level must allow impersonating it). 0 or empty: written as the API user."`
	NoteType                string        `json:"note_type" validate:"required,max=100" default:"1" section:"Notes" label:"Autotask Note Type" help:"A value or label of your tenant's ticket note type list, e.g. 1 or Task Summary. The Test button checks it."`
	PublishPublic           bool          `json:"publish_public" section:"Notes" label:"Publish Notes as Public" help:"On: notes are published to All Autotask Users. Off: Internal Only."`
	Templates               string        `json:"template_set" validate:"omitempty,max=64" section:"Notes" label:"Template Set" placeholder:"contoso" help:"Name of a folder under the data directory's templates/ holding this configuration's own report templates; a template it lacks comes from the admin's overrides or the defaults. Blank: the overrides and defaults."`
	ReportTimeZone          string        `json:"report_time_zone" validate:"required,max=64" default:"UTC" section:"Notes" label:"Report Time Zone" placeholder:"Europe/Berlin" help:"IANA time zone name for times in reports and the time entry's date."`
	UpdateTimeEntry         bool          `json:"update_time_entry" section:"Time entry" label:"Update Time Entry" help:"At session end, add a time entry for the primary representative covering the session."`
	TimeEntryDefaults       JSONObject    `json:"time_entry_defaults" kind:"json" default:"{}" section:"Time entry" label:"Time Entry Default Data" example:"{\"defaultDomain\": \"example.com\", \"roleName\": \"Technician\", \"summaryNotes\": \"Remote support session\", \"billingCodeID\": 29682801}" help:"JSON object: defaultDomain (BeyondTrust username + @ + this domain = the resource's e-mail), roleName (required), summaryNotes (required), plus any TimeEntries field as a default."`
	AutoTicketOnStart       bool          `json:"auto_ticket_on_start" section:"Automatic ticket creation" label:"Enable Automatic Ticket Creation on Session Start" help:"When a representative joins a session that is not tied to a ticket, create one and write its number into the session's external key."`
	AutoTicketWithoutKey    bool          `json:"auto_ticket_without_external_key" section:"Automatic ticket creation" label:"Automatic Ticket Creation when external key is not provided" help:"Also create a ticket when the session's external key is empty. Without it, only an external key holding a JSON object of ticket fields triggers creation."`
	AutoTicketSessionTypes  []string      `json:"auto_ticket_session_types" options:"issue_submission=Issue submission,session_key=Session key or direct link,rep_initiated=Started by the representative,jump=Jump (Jumpoint or Jump Group)" default:"issue_submission,session_key,rep_initiated,jump" section:"Automatic ticket creation" label:"Automatic Ticket Creation for these Session Types"`
	TicketDefaults          JSONObject    `json:"ticket_defaults" kind:"json" default:"{\"title\": \"{{Issue}}\", \"description\": \"{{Details}}\", \"status\": 1}" section:"Automatic ticket creation" label:"Ticket Default Data" example:"{\"companyID\": 0, \"queueID\": 29682833, \"status\": 1, \"priority\": 2, \"title\": \"{{Issue}}\", \"description\": \"{{Details}}\", \"contactID\": \"<<emailAddress|customer_email>>\", \"defaultContactID\": 30684011}" help:"JSON object of Tickets fields. title and description may hold {{Issue}} and {{Details}}; contactID may be <<field|custom_field>>, with defaultContactID used when no contact matches."`
}

// NewSettings returns the values a new Autotask configuration starts with.
func NewSettings() *Settings {
	return &Settings{
		NoteType:               "1",
		ReportTimeZone:         "UTC",
		TimeEntryDefaults:      "{}",
		AutoTicketSessionTypes: slices.Clone(SessionTypes),
		TicketDefaults:         `{"title": "{{Issue}}", "description": "{{Details}}", "status": 1}`,
	}
}

var _ engine.SelfValidator = (*Settings)(nil)

// ValidateSettings checks what the tags cannot: the Services URL's shape,
// the time zone, the JSON settings key by key, and what the enabled features
// need.
func (s *Settings) ValidateSettings() engine.FieldErrors {
	var out engine.FieldErrors
	add := func(field string, err error) {
		if err != nil {
			out = append(out, engine.FieldError{Field: field, Message: err.Error()})
		}
	}
	if s.ServicesURL != "" {
		_, err := normalizeServicesURL(s.ServicesURL)
		add("services_url", err)
	}
	if s.Templates != "" && (!templateSetName.MatchString(s.Templates) || s.Templates == "partials") {
		add("template_set", errors.New("must be a folder name: letters, digits, '.', '_' and '-', starting with a letter or digit (and not \"partials\")"))
	}
	if s.ReportTimeZone != "" {
		if _, err := time.LoadLocation(s.ReportTimeZone); err != nil {
			add("report_time_zone", fmt.Errorf("%q is not an IANA time zone name such as Europe/Berlin or UTC", s.ReportTimeZone))
		}
	}
	if _, err := s.timeEntryDefaults(); err != nil {
		add("time_entry_defaults", err)
	}
	if _, err := s.ticketDefaults(); err != nil {
		add("ticket_defaults", err)
	}
	for _, t := range s.AutoTicketSessionTypes {
		if !slices.Contains(SessionTypes, t) {
			add("auto_ticket_session_types", fmt.Errorf("%q is not a session type; use %s", t, strings.Join(SessionTypes, ", ")))
			break
		}
	}
	if s.AutoTicketOnStart && len(s.AutoTicketSessionTypes) == 0 {
		add("auto_ticket_session_types", errors.New("select at least one session type, or turn automatic ticket creation off"))
	}
	return out
}

// templateSetName is the rule engine/render applies to template set names.
var templateSetName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

var (
	_ engine.TemplateSetter = (*Settings)(nil)
	_ engine.ReportZoner    = (*Settings)(nil)
)

// TemplateSet names the configuration's own template set ("" for none);
// the engine hands the plugin that set's templates.
func (s *Settings) TemplateSet() string { return s.Templates }

// Location is the report time zone; settings were validated before.
func (s *Settings) Location() *time.Location {
	loc, err := engine.LoadZone(s.ReportTimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// normalizeServicesURL turns what an admin pastes (with or without a
// trailing slash or /V1.0) into the REST root, and refuses plain HTTP to
// anything but this machine: the credentials travel in headers.
func normalizeServicesURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", errors.New("must be a URL such as https://webservices15.autotask.net/ATServicesRest/")
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return "", errors.New("must use https://: the Autotask credentials travel with every request")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", errors.New("must not carry a query, fragment or user name; use e.g. https://webservices15.autotask.net/ATServicesRest/")
	}
	p := strings.TrimRight(u.Path, "/")
	if lower := strings.ToLower(p); strings.HasSuffix(lower, "/v1.0") {
		p = p[:len(p)-len("/v1.0")]
	}
	u.Path = p
	return u.String(), nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// JSONObject is a setting that holds a JSON object as the admin typed it
// (see engine.JSONText).
type JSONObject = engine.JSONText

// decodeObject reads a JSON object keeping numbers exact. Duplicate keys
// differing only in case are refused: Autotask field names are not case
// sensitive, so {"queueID": 1, "QueueID": 2} is ambiguous.
func decodeObject(text string) (map[string]any, error) {
	if strings.TrimSpace(text) == "" {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("is not valid JSON: %s", jsonProblem(err))
	}
	if dec.More() {
		return nil, errors.New("is not valid JSON: unexpected text after the object")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("must be a JSON object such as {\"key\": value}, not %s", describe(v))
	}
	seen := map[string]string{}
	for _, k := range engine.SortedKeys(obj) {
		if prev, dup := seen[strings.ToLower(k)]; dup {
			return nil, fmt.Errorf("keys %q and %q name the same field", prev, k)
		}
		seen[strings.ToLower(k)] = k
	}
	return obj, nil
}

func jsonProblem(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (at character %d)", se.Error(), se.Offset)
	}
	return err.Error()
}

// TimeEntryDefaults is Time Entry Default Data, parsed.
type TimeEntryDefaults struct {
	DefaultDomain string
	RoleName      string
	SummaryNotes  string
	// Fields are further TimeEntries fields, by wire name.
	Fields map[string]any
}

// timeEntryDefaults parses Time Entry Default Data. roleName and
// summaryNotes are required only when time entries are on.
func (s *Settings) timeEntryDefaults() (TimeEntryDefaults, error) {
	obj, err := decodeObject(string(s.TimeEntryDefaults))
	if err != nil {
		return TimeEntryDefaults{}, err
	}
	out := TimeEntryDefaults{Fields: map[string]any{}}
	own := map[string]*string{"defaultdomain": &out.DefaultDomain, "rolename": &out.RoleName, "summarynotes": &out.SummaryNotes}
	for _, k := range engine.SortedKeys(obj) {
		v := obj[k]
		lower := strings.ToLower(k)
		if dst, ok := own[lower]; ok {
			str, ok := v.(string)
			if !ok {
				return out, fmt.Errorf("key %q must be a string, not %s", k, describe(v))
			}
			*dst = strings.TrimSpace(str)
			continue
		}
		if name, ok := timeEntryFromSession[lower]; ok {
			return out, fmt.Errorf("key %q cannot be a default: Switchboard sets %s from the session", k, name)
		}
		if err := setField(timeEntryFields, "TimeEntries", k, v, out.Fields); err != nil {
			return out, err
		}
	}
	if strings.Contains(out.DefaultDomain, "@") {
		return out, fmt.Errorf("key \"defaultDomain\" must be a domain such as example.com, without @")
	}
	if s.UpdateTimeEntry {
		switch {
		case out.RoleName == "":
			return out, errors.New(`key "roleName" is required when Update Time Entry is on: the name of a role your representatives share`)
		case out.SummaryNotes == "":
			return out, errors.New(`key "summaryNotes" is required when Update Time Entry is on`)
		}
	}
	if n := len([]rune(out.SummaryNotes)); n > 8000 {
		return out, fmt.Errorf(`key "summaryNotes" is %d characters long; Autotask takes at most 8000`, n)
	}
	return out, nil
}

// Ticket template placeholders filled from the primary customer's issue
// submission.
const (
	placeholderIssue   = "{{Issue}}"
	placeholderDetails = "{{Details}}"
)

// TicketData is a set of Tickets fields with the contact still to resolve:
// Ticket Default Data, or the overrides an external key carries.
type TicketData struct {
	// Fields are Tickets fields by wire name, without contactID.
	Fields map[string]any
	// ContactID is a literal contact id (0: none).
	ContactID int64
	// Contact, when set, finds the contact from a custom field.
	Contact *ContactExpression
	// DefaultContactID is used when the expression finds no contact.
	DefaultContactID int64
}

// ticketDefaults parses Ticket Default Data; when automatic ticket creation
// is on, the fields every ticket needs must be there.
func (s *Settings) ticketDefaults() (TicketData, error) {
	obj, err := decodeObject(string(s.TicketDefaults))
	if err != nil {
		return TicketData{}, err
	}
	td, err := parseTicketData(obj, true)
	if err != nil {
		return td, err
	}
	if s.AutoTicketOnStart {
		for _, req := range []string{"companyID", "status", "priority", "title"} {
			if _, ok := td.Fields[req]; !ok {
				return td, fmt.Errorf("key %q is required when automatic ticket creation is on", req)
			}
		}
	}
	return td, nil
}

// parseTicketOverrides reads the JSON object an external key may hold.
func parseTicketOverrides(text string) (TicketData, error) {
	obj, err := decodeObject(text)
	if err != nil {
		return TicketData{}, err
	}
	return parseTicketData(obj, false)
}

func parseTicketData(obj map[string]any, defaults bool) (TicketData, error) {
	td := TicketData{Fields: map[string]any{}}
	for _, k := range engine.SortedKeys(obj) {
		v := obj[k]
		lower := strings.ToLower(k)
		switch lower {
		case "defaultcontactid":
			if !defaults {
				return td, fmt.Errorf("key %q belongs in Ticket Default Data, not in an external key", k)
			}
			id, err := (fieldSpec{Name: k, Kind: kindID}).checkValue(v)
			if err != nil {
				return td, fmt.Errorf("key %q %s", k, err)
			}
			td.DefaultContactID = id.(int64)
			continue
		case "contactid":
			if str, ok := v.(string); ok {
				expr, err := ParseContactExpression(str)
				if err != nil {
					return td, fmt.Errorf("key %q: %s", k, err)
				}
				td.Contact = &expr
				continue
			}
			id, err := ticketFields["contactid"].checkValue(v)
			if err != nil {
				return td, fmt.Errorf("key %q must be a contact id or an expression such as <<emailAddress|customer_email>>", k)
			}
			td.ContactID = id.(int64)
			continue
		case "externalid":
			return td, fmt.Errorf("key %q is reserved: Switchboard marks the tickets it creates with the session id there", k)
		}
		if name, ok := ticketReadOnly[lower]; ok {
			return td, fmt.Errorf("key %q cannot be set: Autotask sets %s itself", k, name)
		}
		if err := setField(ticketFields, "Tickets", k, v, td.Fields); err != nil {
			return td, err
		}
	}
	if td.Contact != nil && td.ContactID != 0 {
		return td, errors.New(`key "contactID" holds both an id and an expression`)
	}
	return td, nil
}

// setField checks one key of a JSON setting against an entity's writable
// fields and stores its value under the field's wire name.
func setField(specs map[string]fieldSpec, entity, key string, v any, into map[string]any) error {
	spec, ok := specs[strings.ToLower(key)]
	if !ok {
		return fmt.Errorf("key %q is not a %s field Switchboard can set (check the spelling)", key, entity)
	}
	val, err := spec.checkValue(v)
	if err != nil {
		return fmt.Errorf("key %q %s", key, err)
	}
	into[spec.Name] = val
	return nil
}

// merge lays overrides over d; an override's contact replaces d's.
func (d TicketData) merge(over TicketData) TicketData {
	out := TicketData{Fields: make(map[string]any, len(d.Fields)+len(over.Fields)), ContactID: d.ContactID, Contact: d.Contact, DefaultContactID: d.DefaultContactID}
	for k, v := range d.Fields {
		out.Fields[k] = v
	}
	for k, v := range over.Fields {
		out.Fields[k] = v
	}
	if over.ContactID != 0 || over.Contact != nil {
		out.ContactID, out.Contact = over.ContactID, over.Contact
	}
	return out
}
