package autotasktest

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Fixture ids of the default tenant, for tests to refer to.
const (
	CompanyMSP      = 0 // the MSP's own company
	CompanyContoso  = 174
	CompanyFabrikam = 175

	ContactJane    = 30684001 // jane.doe@contoso.example, Contoso
	ContactJohn    = 30684002 // john.roe@fabrikam.example, Fabrikam
	ContactDefault = 30684011 // Service Desk, Contoso: a default contact
	ContactFormer  = 30684003 // former.staff@contoso.example, Contoso, inactive

	ResourceAlice    = 29682885 // alice@msp.example, user alice, role Technician
	ResourceBob      = 29682886 // bob@msp.example, user bob, both roles
	ResourceInactive = 29682887 // carol@msp.example, inactive

	RoleTechnician = 29683461
	RoleSenior     = 29683462
	RoleInactive   = 29683463

	TicketOpen  = 7865 // T20240101.0001, Contoso
	TicketOther = 7866 // T20240101.0002, Fabrikam

	QueueClientPortal = 29682833
	QueueLevelOne     = 29682969
)

// Ticket numbers of the fixture tickets.
const (
	TicketOpenNumber  = "T20240101.0001"
	TicketOtherNumber = "T20240101.0002"
)

func (s *Server) seed() {
	add := func(entity string, rows ...record) {
		for _, r := range rows {
			s.ents[entity].insert(r)
		}
	}
	add("companies",
		record{"id": int64(CompanyMSP), "companyName": "Example MSP", "isActive": true},
		record{"id": int64(CompanyContoso), "companyName": "Contoso Ltd", "isActive": true},
		record{"id": int64(CompanyFabrikam), "companyName": "Fabrikam Inc", "isActive": true},
	)
	add("contacts",
		record{"id": int64(ContactJane), "companyID": int64(CompanyContoso), "firstName": "Jane", "lastName": "Doe", "emailAddress": "jane.doe@contoso.example", "isActive": int64(1)},
		record{"id": int64(ContactJohn), "companyID": int64(CompanyFabrikam), "firstName": "John", "lastName": "Roe", "emailAddress": "john.roe@fabrikam.example", "emailAddress2": "jr@fabrikam.example", "isActive": int64(1)},
		record{"id": int64(ContactFormer), "companyID": int64(CompanyContoso), "firstName": "Former", "lastName": "Staff", "emailAddress": "former.staff@contoso.example", "isActive": int64(0)},
		record{"id": int64(ContactDefault), "companyID": int64(CompanyContoso), "firstName": "Service", "lastName": "Desk", "emailAddress": "servicedesk@contoso.example", "isActive": int64(1)},
	)
	add("roles",
		record{"id": int64(RoleTechnician), "name": "Technician", "isActive": true, "hourlyRate": 95.0},
		record{"id": int64(RoleSenior), "name": "Senior Technician", "isActive": true, "hourlyRate": 140.0},
		record{"id": int64(RoleInactive), "name": "Retired Role", "isActive": false, "hourlyRate": 50.0},
	)
	add("resources",
		record{"id": int64(ResourceAlice), "firstName": "Alice", "lastName": "Tech", "email": "alice@msp.example", "userName": "alice", "isActive": true, "defaultServiceDeskRoleID": int64(RoleTechnician), rolesKey: []int64{RoleTechnician}},
		record{"id": int64(ResourceBob), "firstName": "Bob", "lastName": "Senior", "email": "bob@msp.example", "userName": "bob", "isActive": true, "defaultServiceDeskRoleID": int64(RoleSenior), rolesKey: []int64{RoleTechnician, RoleSenior}},
		record{"id": int64(ResourceInactive), "firstName": "Carol", "lastName": "Gone", "email": "carol@msp.example", "userName": "carol", "isActive": false, rolesKey: []int64{RoleTechnician}},
	)
	add("tickets",
		record{"id": int64(TicketOpen), "ticketNumber": TicketOpenNumber, "title": "Printer offline", "status": int64(1), "priority": int64(2), "queueID": int64(QueueClientPortal), "companyID": int64(CompanyContoso), "contactID": int64(ContactJane), "createDate": "2024-01-01T09:00:00Z"},
		record{"id": int64(TicketOther), "ticketNumber": TicketOtherNumber, "title": "Mail not syncing", "status": int64(8), "priority": int64(3), "companyID": int64(CompanyFabrikam), "assignedResourceID": int64(ResourceBob), "assignedResourceRoleID": int64(RoleSenior), "createDate": "2024-01-01T10:00:00Z"},
	)
	s.ticketSeq["20240101"] = 2
}

// Add stores a row of an entity (Tickets, Contacts, Resources, Roles,
// Companies, …) as given, keyed by wire names, and returns its id. It skips
// the create rules: it is how a test sets up the tenant.
func (s *Server) Add(entity string, fields map[string]any) int64 {
	raw, _ := json.Marshal(fields)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.ents[strings.ToLower(entity)]
	if e == nil {
		panic("autotasktest: no entity " + entity)
	}
	rec := record{}
	for k, v := range body {
		if f := e.field(k); f != nil {
			rec[f.Name] = normalizeNumber(v)
		}
	}
	if roles, ok := fields["roles"].([]int64); ok && e.name == "Resources" {
		rec[rolesKey] = roles
	}
	e.insert(rec)
	return rec.id()
}

// normalizeNumber turns the float64 that encoding/json decodes into int64
// where it is whole, as stored rows hold it.
func normalizeNumber(v any) any {
	if f, ok := v.(float64); ok && f == float64(int64(f)) {
		return int64(f)
	}
	return v
}

// Deactivate marks a stored row inactive (isActive false, or 0 where the
// entity keeps it as a number), as an admin does in Autotask: how a test
// changes the tenant under a running integration.
func (s *Server) Deactivate(entity string, id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.ents[strings.ToLower(entity)]
	if e == nil || e.byID[id] == nil {
		panic(fmt.Sprintf("autotasktest: no %s %d", entity, id))
	}
	if _, isNumber := e.byID[id]["isActive"].(int64); isNumber {
		e.byID[id]["isActive"] = int64(0)
		return
	}
	e.byID[id]["isActive"] = false
}
