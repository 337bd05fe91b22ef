package autotask

import (
	"encoding/json"
	"strings"
	"testing"

	"switchboard/engine"
)

// validSettings is a complete configuration with every feature on.
func validSettings() *Settings {
	s := NewSettings()
	s.Username = "api-user@example.com"
	s.Password = engine.NewSecret("pw")
	s.IntegrationCode = engine.NewSecret("code")
	s.UpdateTimeEntry = true
	s.TimeEntryDefaults = `{"defaultDomain": "msp.example", "roleName": "Technician", "summaryNotes": "Remote support", "billingCodeID": 29682801, "isNonBillable": false}`
	s.AutoTicketOnStart = true
	s.AutoTicketWithoutKey = true
	s.TicketDefaults = `{"companyID": 174, "queueID": 29682833, "status": 1, "priority": 2, "title": "{{Issue}}", "description": "{{Details}}", "contactID": "<<emailAddress|customer_email>>", "defaultContactID": 30684011}`
	return s
}

func TestValidateSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		edit      func(s *Settings)
		wantField string
		wantMsg   string
	}{
		{name: "valid", edit: func(*Settings) {}},
		{name: "defaults need credentials", edit: func(s *Settings) { *s = *NewSettings() }, wantField: "username", wantMsg: "is required"},
		{name: "missing password", edit: func(s *Settings) { s.Password = engine.Secret{} }, wantField: "password", wantMsg: "is required"},
		{name: "services URL with path version", edit: func(s *Settings) { s.ServicesURL = "https://webservices15.autotask.net/ATServicesRest/V1.0/" }},
		{name: "services URL over http", edit: func(s *Settings) { s.ServicesURL = "http://webservices15.autotask.net/ATServicesRest/" }, wantField: "services_url", wantMsg: "must use https://"},
		{name: "bad time zone", edit: func(s *Settings) { s.ReportTimeZone = "Mars/Olympus" }, wantField: "report_time_zone", wantMsg: "IANA time zone"},
		{name: "time entry JSON broken", edit: func(s *Settings) { s.TimeEntryDefaults = `{"roleName": }` }, wantField: "time_entry_defaults", wantMsg: "is not valid JSON"},
		{name: "time entry not an object", edit: func(s *Settings) { s.TimeEntryDefaults = `[1]` }, wantField: "time_entry_defaults", wantMsg: "must be a JSON object"},
		{name: "time entry roleName missing", edit: func(s *Settings) { s.TimeEntryDefaults = `{"summaryNotes": "x"}` }, wantField: "time_entry_defaults", wantMsg: `key "roleName" is required`},
		{name: "time entry roleName not needed when off", edit: func(s *Settings) { s.UpdateTimeEntry = false; s.TimeEntryDefaults = `{}` }},
		{name: "time entry unknown key", edit: func(s *Settings) { s.TimeEntryDefaults = `{"roleName": "T", "summaryNotes": "x", "billingCode": 1}` }, wantField: "time_entry_defaults", wantMsg: `key "billingCode" is not a TimeEntries field`},
		{name: "time entry session key", edit: func(s *Settings) { s.TimeEntryDefaults = `{"roleName": "T", "summaryNotes": "x", "hoursWorked": 1}` }, wantField: "time_entry_defaults", wantMsg: `key "hoursWorked" cannot be a default`},
		{name: "time entry wrong type", edit: func(s *Settings) {
			s.TimeEntryDefaults = `{"roleName": "T", "summaryNotes": "x", "billingCodeID": "abc"}`
		}, wantField: "time_entry_defaults", wantMsg: `key "billingCodeID" must be a whole number`},
		{name: "time entry domain with @", edit: func(s *Settings) {
			s.TimeEntryDefaults = `{"roleName": "T", "summaryNotes": "x", "defaultDomain": "@msp.example"}`
		}, wantField: "time_entry_defaults", wantMsg: "without @"},
		{name: "ticket unknown key", edit: func(s *Settings) {
			s.TicketDefaults = `{"companyID": 1, "status": 1, "priority": 1, "title": "t", "queue": 5}`
		}, wantField: "ticket_defaults", wantMsg: `key "queue" is not a Tickets field`},
		{name: "ticket keys ignore case", edit: func(s *Settings) {
			s.TicketDefaults = `{"CompanyID": 1, "Status": 1, "Priority": 1, "Title": "t", "QueueID": 5}`
		}},
		{name: "ticket duplicate keys by case", edit: func(s *Settings) { s.TicketDefaults = `{"queueID": 1, "QueueID": 2}` }, wantField: "ticket_defaults", wantMsg: `keys "QueueID" and "queueID" name the same field`},
		{name: "ticket read-only key", edit: func(s *Settings) { s.TicketDefaults = `{"ticketNumber": "T1"}` }, wantField: "ticket_defaults", wantMsg: `key "ticketNumber" cannot be set`},
		{name: "ticket reserved key", edit: func(s *Settings) { s.TicketDefaults = `{"externalID": "x"}` }, wantField: "ticket_defaults", wantMsg: `key "externalID" is reserved`},
		{name: "ticket required when enabled", edit: func(s *Settings) { s.TicketDefaults = `{"status": 1, "priority": 1, "title": "t"}` }, wantField: "ticket_defaults", wantMsg: `key "companyID" is required`},
		{name: "ticket title too long", edit: func(s *Settings) { s.TicketDefaults = JSONObject(`{"title": "` + strings.Repeat("x", 256) + `"}`) }, wantField: "ticket_defaults", wantMsg: `key "title" is 256 characters long`},
		{name: "ticket contact expression broken", edit: func(s *Settings) { s.TicketDefaults = `{"contactID": "<<emailAddress|>>"}` }, wantField: "ticket_defaults", wantMsg: `key "contactID": the custom field code name is missing`},
		{name: "ticket contact id", edit: func(s *Settings) {
			s.TicketDefaults = `{"companyID": 1, "status": 1, "priority": 1, "title": "t", "contactID": 30684001}`
		}},
		{name: "ticket contact bool", edit: func(s *Settings) { s.TicketDefaults = `{"contactID": true}` }, wantField: "ticket_defaults", wantMsg: `key "contactID" must be a contact id or an expression`},
		{name: "ticket negative id", edit: func(s *Settings) { s.TicketDefaults = `{"queueID": -3}` }, wantField: "ticket_defaults", wantMsg: `key "queueID" must be a positive id`},
		{name: "ticket due date", edit: func(s *Settings) { s.TicketDefaults = `{"dueDateTime": "tomorrow"}` }, wantField: "ticket_defaults", wantMsg: `key "dueDateTime" must be a date-time`},
		{name: "ticket UDF shape", edit: func(s *Settings) { s.TicketDefaults = `{"userDefinedFields": [{"value": "x"}]}` }, wantField: "ticket_defaults", wantMsg: "item 1 has no name"},
		{name: "no session type", edit: func(s *Settings) { s.AutoTicketSessionTypes = nil }, wantField: "auto_ticket_session_types", wantMsg: "select at least one"},
		{name: "unknown session type", edit: func(s *Settings) { s.AutoTicketSessionTypes = []string{"web"} }, wantField: "auto_ticket_session_types", wantMsg: `"web" is not a session type`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := validSettings()
			tc.edit(s)
			errs := engine.Validate(s)
			if tc.wantField == "" {
				if errs != nil {
					t.Fatalf("Validate = %v, want no errors", errs)
				}
				return
			}
			if msg := errs.For(tc.wantField); !strings.Contains(msg, tc.wantMsg) {
				t.Fatalf("error for %s = %q, want it to contain %q (all: %v)", tc.wantField, msg, tc.wantMsg, errs)
			}
		})
	}
}

func TestSettingsDecodeAndLeakNoSecret(t *testing.T) {
	t.Parallel()
	// A form may send a JSON setting as an object or as the text of one.
	in := `{"username": "u", "password": "pw-very-secret", "integration_code": "code-very-secret",
		"note_type": "Task Summary", "report_time_zone": "Europe/Berlin",
		"time_entry_defaults": {"roleName": "Technician"},
		"ticket_defaults": "{\"status\": 1, \"title\": \"{{Issue}}\"}"}`
	s := NewSettings()
	if err := engine.DecodeStrict([]byte(in), s); err != nil {
		t.Fatal(err)
	}
	if s.Password.Reveal() != "pw-very-secret" || string(s.TimeEntryDefaults) != `{"roleName": "Technician"}` {
		t.Fatalf("decoded %+v", s)
	}
	out, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"pw-very-secret", "code-very-secret"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("marshalled settings leak %q: %s", secret, out)
		}
	}
	// JSON settings are written back as the admin's text, not re-encoded.
	if !strings.Contains(string(out), `"ticket_defaults":"{\"status\": 1, \"title\": \"{{Issue}}\"}"`) {
		t.Errorf("ticket_defaults not written back as typed: %s", out)
	}
}

func TestSettingsFields(t *testing.T) {
	t.Parallel()
	fields := engine.Fields(NewSettings(), nil)
	kinds := map[string]string{}
	for _, f := range fields {
		kinds[f.Name] = f.Kind
		if f.Label == "" {
			t.Errorf("field %s has no label", f.Name)
		}
	}
	want := map[string]string{
		"password": engine.KindSecret, "integration_code": engine.KindSecret,
		"time_entry_defaults": engine.KindJSON, "ticket_defaults": engine.KindJSON,
		"auto_ticket_session_types": engine.KindMultiSelect, "publish_public": engine.KindBool,
	}
	for name, kind := range want {
		if kinds[name] != kind {
			t.Errorf("field %s kind = %q, want %q", name, kinds[name], kind)
		}
	}
}

func TestNormalizeServicesURL(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"https://webservices15.autotask.net/ATServicesRest/":      "https://webservices15.autotask.net/ATServicesRest",
		"https://webservices15.autotask.net/ATServicesRest":       "https://webservices15.autotask.net/ATServicesRest",
		"https://webservices15.autotask.net/atservicesrest/v1.0/": "https://webservices15.autotask.net/atservicesrest",
		"http://127.0.0.1:8080/ATServicesRest/":                   "http://127.0.0.1:8080/ATServicesRest",
	}
	for in, want := range tests {
		got, err := normalizeServicesURL(in)
		if err != nil || got != want {
			t.Errorf("normalizeServicesURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"webservices15.autotask.net", "ftp://x/y", "https://u:p@x/y", "https://x/y?z=1"} {
		if _, err := normalizeServicesURL(bad); err == nil {
			t.Errorf("normalizeServicesURL(%q) accepted", bad)
		}
	}
}

func TestTicketDataMerge(t *testing.T) {
	t.Parallel()
	s := validSettings()
	defaults, err := s.ticketDefaults()
	if err != nil {
		t.Fatal(err)
	}
	over, err := parseTicketOverrides(`{"priority": 4, "contactID": 30684002, "title": "VIP"}`)
	if err != nil {
		t.Fatal(err)
	}
	m := defaults.merge(over)
	if m.Fields["priority"] != int64(4) || m.Fields["queueID"] != int64(29682833) || m.Fields["title"] != "VIP" {
		t.Errorf("merged fields = %v", m.Fields)
	}
	if m.Contact != nil || m.ContactID != 30684002 || m.DefaultContactID != 30684011 {
		t.Errorf("merged contact = %+v", m)
	}
	if _, err := parseTicketOverrides(`{"defaultContactID": 1}`); err == nil {
		t.Error("an external key may not set defaultContactID")
	}
}
