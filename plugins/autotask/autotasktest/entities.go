package autotasktest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// record is one stored entity, keyed by the fields' canonical wire names.
// Numbers are int64 or float64, so that filters compare them as numbers.
type record map[string]any

func (r record) id() int64 { return toInt(r["id"]) }

// Pick is one picklist choice, as entityInformation/fields lists it.
type Pick struct {
	Value       string `json:"value"`
	Label       string `json:"label"`
	IsActive    bool   `json:"isActive"`
	IsSystem    bool   `json:"isSystem"`
	ParentValue string `json:"parentValue,omitempty"`
	SortOrder   int    `json:"sortOrder"`
}

// fieldDef is one field of an entity's metadata.
type fieldDef struct {
	Name                string `json:"name"`
	DataType            string `json:"dataType"` // integer, long, string, boolean, double, datetime, decimal
	Length              int    `json:"length"`
	IsRequired          bool   `json:"isRequired"`
	IsReadOnly          bool   `json:"isReadOnly"`
	IsQueryable         bool   `json:"isQueryable"`
	IsReference         bool   `json:"isReference"`
	ReferenceEntityType string `json:"referenceEntityType"`
	IsPickList          bool   `json:"isPickList"`
	PicklistValues      []Pick `json:"picklistValues"`
}

// entity is one entity's metadata and rows.
type entity struct {
	name    string
	fields  []*fieldDef
	byLower map[string]*fieldDef
	rows    []record
	byID    map[int64]record
	// byTicket indexes child rows by ticketID: notes and time entries are
	// queried per ticket, and the benchmark piles up thousands of them.
	byTicket map[int64][]record
	// byNumber indexes tickets by ticketNumber: each session end looks its
	// ticket up by number.
	byNumber map[string]record
	nextID   int64
}

func newEntity(name string, firstID int64, fields ...*fieldDef) *entity {
	e := &entity{name: name, fields: fields, byLower: map[string]*fieldDef{}, byID: map[int64]record{}, byTicket: map[int64][]record{}, byNumber: map[string]record{}, nextID: firstID}
	for _, f := range fields {
		e.byLower[strings.ToLower(f.Name)] = f
	}
	return e
}

func (e *entity) field(name string) *fieldDef { return e.byLower[strings.ToLower(name)] }

func (e *entity) insert(r record) {
	id := r.id()
	if id == 0 {
		id = e.nextID
		r["id"] = id
	}
	if id >= e.nextID {
		e.nextID = id + 1
	}
	e.rows = append(e.rows, r)
	e.byID[id] = r
	if t, ok := r["ticketID"]; ok {
		e.byTicket[toInt(t)] = append(e.byTicket[toInt(t)], r)
	}
	if n, ok := r["ticketNumber"].(string); ok {
		e.byNumber[strings.ToLower(n)] = r
	}
}

// picklistHas reports whether v is an active value of the field's picklist.
func (f *fieldDef) picklistHas(v any) bool {
	s := fmt.Sprint(v)
	return slices.ContainsFunc(f.PicklistValues, func(p Pick) bool { return p.Value == s && p.IsActive })
}

// Field constructors keep the metadata tables below readable.
func idField(name string) *fieldDef {
	return &fieldDef{Name: name, DataType: "long", IsReadOnly: true, IsQueryable: true, IsRequired: true}
}

func intField(name string, required bool) *fieldDef {
	return &fieldDef{Name: name, DataType: "integer", IsRequired: required, IsQueryable: true}
}

func refField(name, target string, required bool) *fieldDef {
	return &fieldDef{Name: name, DataType: "integer", IsRequired: required, IsQueryable: true, IsReference: true, ReferenceEntityType: target}
}

func strField(name string, length int, required bool) *fieldDef {
	return &fieldDef{Name: name, DataType: "string", Length: length, IsRequired: required, IsQueryable: true}
}

func boolField(name string) *fieldDef {
	return &fieldDef{Name: name, DataType: "boolean", IsQueryable: true}
}

func dateField(name string) *fieldDef {
	return &fieldDef{Name: name, DataType: "datetime", IsQueryable: true}
}

func decField(name string) *fieldDef {
	return &fieldDef{Name: name, DataType: "decimal", IsQueryable: true}
}

func readOnly(f *fieldDef) *fieldDef { f.IsReadOnly = true; return f }

func pickField(name string, required bool, picks ...Pick) *fieldDef {
	return &fieldDef{Name: name, DataType: "integer", IsRequired: required, IsQueryable: true, IsPickList: true, PicklistValues: picks}
}

func pick(value int, label string) Pick {
	return Pick{Value: strconv.Itoa(value), Label: label, IsActive: true, SortOrder: value}
}

// newTenant builds the simulated tenant's entities with their metadata.
// Picklists follow a typical tenant: status 1 New and 5 Complete are the
// system values; noteType and publish use common labels.
func newTenant() map[string]*entity {
	sub := func(v int, label string, parent int) Pick {
		p := pick(v, label)
		p.ParentValue = strconv.Itoa(parent)
		return p
	}
	system := func(p Pick) Pick { p.IsSystem = true; return p }
	inactive := func(p Pick) Pick { p.IsActive = false; return p }
	ents := []*entity{
		newEntity("Tickets", 9000,
			idField("id"),
			readOnly(strField("ticketNumber", 50, false)),
			strField("title", 255, true),
			&fieldDef{Name: "description", DataType: "string", Length: 8000},
			pickField("status", true, system(pick(1, "New")), system(pick(5, "Complete")), pick(8, "In Progress"), pick(9, "Waiting Materials")),
			pickField("priority", true, pick(1, "High"), pick(2, "Medium"), pick(3, "Low"), pick(4, "Critical")),
			pickField("queueID", false, pick(8, "Post Sale"), pick(29682833, "Client Portal"), pick(29682969, "Level I Support")),
			pickField("issueType", false, pick(1, "Hardware"), pick(2, "Software")),
			pickField("subIssueType", false, sub(10, "Printer", 1), sub(11, "Email", 2)),
			pickField("source", false, pick(2, "Phone"), pick(4, "Email"), pick(11, "Remote Support")),
			pickField("ticketType", false, pick(1, "Service Request"), pick(2, "Incident")),
			refField("companyID", "Company", true),
			refField("contactID", "Contact", false),
			refField("assignedResourceID", "Resource", false),
			refField("assignedResourceRoleID", "Role", false),
			refField("billingCodeID", "BillingCode", false),
			strField("externalID", 50, false),
			dateField("dueDateTime"),
			decField("estimatedHours"),
			readOnly(dateField("createDate")),
		),
		newEntity("TicketNotes", 51000,
			idField("id"),
			refField("ticketID", "Ticket", true),
			strField("title", 250, false),
			&fieldDef{Name: "description", DataType: "string", Length: 32000, IsRequired: true},
			pickField("noteType", true, pick(1, "Task Summary"), system(pick(2, "Task Detail")), pick(3, "Task Notes"), inactive(pick(6, "Old Note Type")), system(pick(13, "Workflow Rule Note - Task"))),
			pickField("publish", true, pick(1, "All Autotask Users"), pick(2, "Internal Only"), pick(4, "Internal & Co-Managed")),
			readOnly(dateField("createDateTime")),
			readOnly(refField("creatorResourceID", "Resource", false)),
			readOnly(refField("impersonatorCreatorResourceID", "Resource", false)),
		),
		newEntity("TimeEntries", 70000,
			idField("id"),
			refField("ticketID", "Ticket", false),
			refField("resourceID", "Resource", true),
			refField("roleID", "Role", false),
			refField("billingCodeID", "BillingCode", false),
			dateField("dateWorked"),
			dateField("startDateTime"),
			dateField("endDateTime"),
			decField("hoursWorked"),
			strField("summaryNotes", 8000, false),
			strField("internalNotes", 8000, false),
			boolField("isNonBillable"),
			boolField("showOnInvoice"),
			decField("offsetHours"),
			pickField("timeEntryType", false, pick(2, "Regular"), pick(6, "Travel")),
			readOnly(refField("impersonatorCreatorResourceID", "Resource", false)),
		),
		newEntity("Contacts", 30690000,
			idField("id"),
			refField("companyID", "Company", true),
			strField("firstName", 50, true),
			strField("lastName", 50, true),
			strField("emailAddress", 254, false),
			strField("emailAddress2", 254, false),
			strField("emailAddress3", 254, false),
			strField("phone", 25, false),
			strField("externalID", 50, false),
			intField("isActive", true),
		),
		newEntity("Resources", 29690000,
			idField("id"),
			strField("firstName", 50, true),
			strField("lastName", 50, true),
			strField("email", 254, true),
			strField("userName", 32, true),
			boolField("isActive"),
			refField("defaultServiceDeskRoleID", "Role", false),
		),
		newEntity("Roles", 29690000,
			idField("id"),
			strField("name", 200, true),
			strField("description", 200, false),
			boolField("isActive"),
			decField("hourlyRate"),
		),
		newEntity("Companies", 200,
			idField("id"),
			strField("companyName", 100, true),
			boolField("isActive"),
		),
	}
	out := make(map[string]*entity, len(ents))
	for _, e := range ents {
		out[strings.ToLower(e.name)] = e
	}
	return out
}

// normalize turns a decoded JSON body into a record of e: canonical field
// names, numbers as int64 or float64. Fields e does not know are dropped,
// as the API's model binding drops them.
func (e *entity) normalize(body map[string]any) record {
	r := record{}
	for k, v := range body {
		f := e.field(k)
		if f == nil {
			continue
		}
		r[f.Name] = plain(v)
	}
	return r
}

// plain converts json.Number to int64 or float64, recursively.
func plain(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = plain(x)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = plain(x)
		}
		return out
	}
	return v
}

func toInt(v any) int64 {
	switch v := v.(type) {
	case int64:
		return v
	case float64:
		return int64(v)
	case int:
		return int64(v)
	case string:
		i, _ := strconv.ParseInt(v, 10, 64)
		return i
	}
	return 0
}

func toFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case int64:
		return float64(v), true
	case float64:
		return v, true
	case int:
		return float64(v), true
	}
	return 0, false
}
