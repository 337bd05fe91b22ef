package autotask

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"switchboard/engine"
	"switchboard/engine/connector"
)

// checkTimeout bounds each Test check; the admin is waiting.
const checkTimeout = connector.CheckTimeout

// tester runs the Autotask half of the Test button on unsaved settings.
type tester struct {
	cfg  *engine.TestConfig
	set  *Settings
	at   *Client
	down string // why the remaining Autotask checks cannot run, once known
}

// Test checks a configuration without writing to Autotask: the settings,
// the appliance, then Autotask step by step, then the templates.
func (p *Plugin) Test(ctx context.Context, cfg *engine.TestConfig) []engine.Check {
	t := &tester{cfg: cfg}
	out := []engine.Check{t.settingsCheck()}
	set, ok := cfg.Settings.(*Settings)
	if !ok {
		return out
	}
	t.set = set
	out = append(out, engine.ApplianceChecks(ctx, cfg, set.AutoTicketOnStart)...)
	opts := p.options(set)
	opts.Timeout = checkTimeout
	if at, err := NewClient(opts); err != nil {
		t.down = "the Autotask settings are not valid"
	} else {
		t.at = at
	}
	for _, bad := range []string{"username", "password", "integration_code", "services_url"} {
		if cfg.Errors.For(bad) != "" {
			t.down = "fix the Autotask settings above first"
		}
	}
	// blames are the settings a step's failure points the admin to.
	steps := []struct {
		id, label string
		run       func(ctx context.Context) (status, message, detail string)
		blames    []string
	}{
		{"autotask_zone", "Autotask zone", t.zone, []string{"username", "services_url"}},
		{"autotask_auth", "Autotask authentication", t.auth, []string{"username", "password", "integration_code"}},
		{"autotask_note", "Note type and publish", t.noteValues, []string{"note_type"}},
		{"autotask_role", "Time entry role", t.role, []string{"time_entry_defaults"}},
		{"autotask_ticket_defaults", "Ticket Default Data", t.ticketDefaults, []string{"ticket_defaults"}},
		{"autotask_contact", "Contact expression", t.contactExpression, []string{"ticket_defaults"}},
	}
	for _, s := range steps {
		out = append(out, timed(ctx, s.id, s.label, s.run).Blame(s.blames...))
	}
	out = append(out, timed(ctx, "templates", "Report templates", t.templates).Blame("template_set"))
	return out
}

var timed = connector.TimedCheck

func (t *tester) settingsCheck() engine.Check { return connector.SettingsCheck(t.cfg) }

func (t *tester) skipped() (string, string, string) {
	return engine.CheckSkipped, "Skipped: " + t.down + ".", ""
}

// failed is a check that err ended, in the admin's words.
func (t *tester) failed(err error) (string, string, string) {
	msg, detail := explain(err, t.set)
	return engine.CheckFail, msg, detail
}

func (t *tester) zone(ctx context.Context) (string, string, string) {
	if t.down != "" {
		return t.skipped()
	}
	root, err := t.at.Zone(ctx)
	if err != nil {
		t.down = "the Autotask zone is unknown"
		return t.failed(err)
	}
	if t.set.ServicesURL != "" {
		return engine.CheckOK, "Using the configured Services URL " + root + ".", ""
	}
	return engine.CheckOK, "The username's zone is " + root + ".", ""
}

func (t *tester) auth(ctx context.Context) (string, string, string) {
	if t.down != "" {
		return t.skipped()
	}
	if _, err := t.at.EntityInfo(ctx, "Tickets"); err != nil {
		t.down = "Autotask refused the credentials"
		return t.failed(err)
	}
	return engine.CheckOK, "Signed in to Autotask as " + t.set.Username + ".", ""
}

func (t *tester) noteValues(ctx context.Context) (string, string, string) {
	if t.down != "" {
		return t.skipped()
	}
	fields, err := t.at.Fields(ctx, "TicketNotes")
	if err != nil {
		return t.failed(err)
	}
	noteType, publish, err := resolveNoteValues(fields, t.set)
	if err != nil {
		return engine.CheckFail, strings.TrimPrefix(err.Error(), "autotask: "), ""
	}
	return engine.CheckOK, fmt.Sprintf("Notes will be written with note type %d and publish %d.", noteType, publish), ""
}

func (t *tester) role(ctx context.Context) (string, string, string) {
	if !t.set.UpdateTimeEntry {
		return engine.CheckSkipped, "Update Time Entry is off.", ""
	}
	if t.down != "" {
		return t.skipped()
	}
	def, err := t.set.timeEntryDefaults()
	if err != nil {
		return engine.CheckFail, "Fix Time Entry Default Data: " + err.Error() + ".", ""
	}
	r := &run{set: t.set, at: t.at}
	id, err := r.role(ctx, def.RoleName)
	if err != nil {
		return t.failed(err)
	}
	fields, err := t.at.Fields(ctx, "TimeEntries")
	if err != nil {
		return t.failed(err)
	}
	if problem := t.checkFields(ctx, "Time Entry Default Data", "TimeEntries", fields, def.Fields); problem != "" {
		return engine.CheckFail, problem, ""
	}
	return engine.CheckOK, fmt.Sprintf("The role %q exists (id %d).", def.RoleName, id), ""
}

func (t *tester) ticketDefaults(ctx context.Context) (string, string, string) {
	if !t.set.AutoTicketOnStart {
		return engine.CheckSkipped, "Automatic ticket creation is off.", ""
	}
	if t.down != "" {
		return t.skipped()
	}
	td, err := t.set.ticketDefaults()
	if err != nil {
		return engine.CheckFail, "Fix Ticket Default Data: " + err.Error() + ".", ""
	}
	fields, err := t.at.Fields(ctx, "Tickets")
	if err != nil {
		return t.failed(err)
	}
	values := maps.Clone(td.Fields)
	if td.ContactID != 0 {
		values["contactID"] = td.ContactID
	}
	if problem := t.checkFields(ctx, "Ticket Default Data", "Tickets", fields, values); problem != "" {
		return engine.CheckFail, problem, ""
	}
	if td.DefaultContactID != 0 {
		var c struct{}
		if err := t.at.Get(ctx, "Contacts", td.DefaultContactID, &c); errors.Is(err, ErrNotFound) {
			return engine.CheckFail, fmt.Sprintf("Ticket Default Data: defaultContactID %d is not an Autotask contact.", td.DefaultContactID), ""
		} else if err != nil {
			return t.failed(err)
		}
	}
	var missing []string
	for _, f := range fields {
		if _, ok := values[f.Name]; f.IsRequired && !f.IsReadOnly && !ok && f.Name != "id" {
			missing = append(missing, f.Name)
		}
	}
	if len(missing) > 0 {
		return engine.CheckWarn, "Autotask requires " + strings.Join(missing, ", ") + " on new tickets; Ticket Default Data does not set it, so every external key must.", ""
	}
	return engine.CheckOK, fmt.Sprintf("All %d ticket fields exist and their values are valid.", len(values)), ""
}

// referenceEntities maps a field's referenceEntityType to the entity to
// look the id up in; references to other entities are not checked.
var referenceEntities = map[string]string{"Company": "Companies", "Contact": "Contacts", "Resource": "Resources", "Role": "Roles"}

// checkFields checks a JSON setting's fields against the tenant: each must
// exist and be writable, picklist values must be active choices, and ids
// must name existing entities. It returns the first problem.
func (t *tester) checkFields(ctx context.Context, setting, entity string, fields []FieldInfo, values map[string]any) string {
	for _, name := range engine.SortedKeys(values) {
		f, ok := Field(fields, name)
		switch {
		case !ok:
			return fmt.Sprintf("%s: %s is not a field of %s in this tenant.", setting, name, entity)
		case f.IsReadOnly:
			return fmt.Sprintf("%s: %s is read-only in %s.", setting, name, entity)
		case f.IsPickList:
			v := fmt.Sprint(values[name])
			if !slices.ContainsFunc(f.PicklistValues, func(p PicklistValue) bool { return p.IsActive && p.Value == v }) {
				return fmt.Sprintf("%s: %s %s is not an active choice; use one of: %s.", setting, name, v, picklistText(f.PicklistValues))
			}
		case f.IsReference:
			target, known := referenceEntities[f.ReferenceEntityType]
			id, isID := values[name].(int64)
			if !known || !isID || (id == 0 && target == "Companies") {
				continue
			}
			var item struct{}
			if err := t.at.Get(ctx, target, id, &item); errors.Is(err, ErrNotFound) {
				return fmt.Sprintf("%s: %s %d does not exist in %s.", setting, name, id, target)
			} else if err != nil {
				msg, _ := explain(err, t.set)
				return msg
			}
		}
	}
	return ""
}

func (t *tester) contactExpression(ctx context.Context) (string, string, string) {
	td, err := t.set.ticketDefaults()
	if !t.set.AutoTicketOnStart || err != nil || td.Contact == nil {
		return engine.CheckSkipped, "Ticket Default Data has no <<field|custom_field>> contact expression.", ""
	}
	if t.down != "" {
		return t.skipped()
	}
	fields, err := t.at.Fields(ctx, "Contacts")
	if err != nil {
		return t.failed(err)
	}
	f, ok := Field(fields, td.Contact.Field)
	switch {
	case !ok:
		return engine.CheckFail, fmt.Sprintf("Contacts has no field %q; fix contactID %s in Ticket Default Data (e.g. emailAddress).", td.Contact.Field, td.Contact), ""
	case !f.IsQueryable:
		return engine.CheckFail, fmt.Sprintf("The Contacts field %q cannot be searched; choose another field for contactID.", f.Name), ""
	}
	msg := fmt.Sprintf("Contacts are found by %s = the session's custom field %s", f.Name, td.Contact.CustomField)
	if td.DefaultContactID == 0 {
		return engine.CheckWarn, msg + "; without defaultContactID, tickets with no match get no contact.", ""
	}
	return engine.CheckOK, msg + ", else contact " + fmt.Sprint(td.DefaultContactID) + ".", ""
}

// templates renders every template the plugin uses against the sample
// session.
func (t *tester) templates(context.Context) (string, string, string) {
	var loc *time.Location
	if t.set != nil {
		loc = t.set.Location()
	}
	return connector.TemplatesCheck(t.cfg, loc)
}

// explain turns a client error into the line an admin reads, in the words
// of the vendor's troubleshooting table, and the upstream detail.
func explain(err error, s *Settings) (message, detail string) {
	detail = err.Error()
	var ae *APIError
	if errors.As(err, &ae) {
		switch ae.Problem {
		case ProblemWrongSecret:
			if s.ServicesURL != "" {
				return "Authentication failed (401) — check Autotask Password, and that Autotask Services URL is your zone (or leave it blank).", detail
			}
			return "Authentication failed (401) — check Autotask Password (the API user's secret).", detail
		case ProblemUnknownUser:
			return "Unknown username — Autotask could not find " + s.Username + "; check Autotask Username (an API-only user).", detail
		case ProblemIntegrationCode:
			return "Invalid integration code — copy API Integration Code (the tracking identifier) from the API user's security settings.", detail
		case ProblemPermission:
			return "Permission denied — the API user's security level must allow reading and creating tickets, notes and time entries.", detail
		case ProblemRoute:
			return "Invalid Services URL — use your zone's root such as https://webservices15.autotask.net/ATServicesRest/ (or leave it blank).", detail
		case ProblemThrottled:
			return "Autotask is throttling this integration — try again in a minute.", detail
		case ProblemServer:
			return "Autotask had a server error — try again later.", detail
		}
		return "Autotask refused the request: " + strings.Join(ae.Messages, "; "), detail
	}
	if msg, ok := connector.ExplainNetwork(err, connector.Reach{DNS: "DNS", Cert: "the Autotask certificate",
		Timeout: "Autotask", Refused: "HTTPS 443 from this server to Autotask"}); ok {
		return msg, detail
	}
	return "Autotask cannot be reached: " + detail, detail
}
