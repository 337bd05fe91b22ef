package connectwisetest

// Fixture ids of the default tenant, for tests to refer to. Names and
// shapes follow the reference's examples (§5).
const (
	CompanyACME     = 250 // identifier ACME, Acme Corp
	CompanyFabrikam = 251 // identifier FABRIKAM

	ContactArnie   = 2 // arnie@acme.com, ACME
	ContactDefault = 3 // servicedesk@acme.com, ACME: a default contact
	ContactFormer  = 4 // former@acme.com, ACME, inactive

	MemberJane     = 176 // identifier jdoe, jdoe@msp.example
	MemberAlice    = 177 // identifier alice, alice@msp.example
	MemberInactive = 178 // identifier carol, inactive
	MemberBob      = 179 // identifier bob, bob@msp.example

	BoardHelpDesk = 1
	StatusNew     = 16
	StatusWorking = 17 // "In Progress"
	StatusNoTime  = 19 // "Waiting Vendor": timeEntryNotAllowed
	TypeHardware  = 8
	PriorityThree = 4 // "Priority 3 - Normal Response"

	WorkTypeRemote   = 3
	WorkRoleEngineer = 11

	TicketOpen   = 104233 // "Printer offline", ACME, In Progress
	TicketNoTime = 104234 // in a status that forbids time
)

// Names of fixtures the plugin's settings refer to.
const (
	BoardName    = "Help Desk"
	StatusName   = "New"
	PriorityName = "Priority 3 - Normal Response"
	TypeName     = "Hardware"
	WorkTypeName = "Remote"
	WorkRoleName = "System Engineer"
)

func (s *Server) seed() {
	add := func(name string, rows ...map[string]any) {
		for _, r := range rows {
			s.coll(name).insert(r)
		}
	}
	type obj = map[string]any
	email := func(id int, addr string) obj {
		return obj{"id": id, "type": obj{"id": 1, "name": "Email"}, "value": addr, "defaultFlag": true, "communicationType": "Email"}
	}
	phone := func(id int, nbr string) obj {
		return obj{"id": id, "type": obj{"id": 2, "name": "Direct"}, "value": nbr, "defaultFlag": true, "communicationType": "Phone"}
	}
	acme := obj{"id": CompanyACME, "identifier": "ACME", "name": "Acme Corp"}
	add("companies", acme, obj{"id": CompanyFabrikam, "identifier": "FABRIKAM", "name": "Fabrikam Inc"})
	add("contacts",
		obj{"id": ContactArnie, "firstName": "Arnie", "lastName": "Bellini", "company": acme, "inactiveFlag": false,
			"communicationItems": []any{phone(2, "8139357100"), email(3, "arnie@acme.com")}},
		obj{"id": ContactDefault, "firstName": "Service", "lastName": "Desk", "company": acme, "inactiveFlag": false,
			"communicationItems": []any{email(4, "servicedesk@acme.com")}},
		obj{"id": ContactFormer, "firstName": "Former", "lastName": "Staff", "company": acme, "inactiveFlag": true,
			"communicationItems": []any{email(5, "former@acme.com")}},
	)
	add("members",
		obj{"id": MemberJane, "identifier": "jdoe", "firstName": "Jane", "lastName": "Doe", "name": "Jane Doe",
			"officeEmail": "jdoe@msp.example", "primaryEmail": "jdoe@msp.example", "inactiveFlag": false},
		obj{"id": MemberAlice, "identifier": "alice", "firstName": "Alice", "lastName": "Tech", "name": "Alice Tech",
			"officeEmail": "alice@msp.example", "primaryEmail": "alice@msp.example", "inactiveFlag": false},
		obj{"id": MemberInactive, "identifier": "carol", "firstName": "Carol", "lastName": "Former", "name": "Carol Former",
			"officeEmail": "carol@msp.example", "primaryEmail": "carol@msp.example", "inactiveFlag": true},
		obj{"id": MemberBob, "identifier": "bob", "firstName": "Bob", "lastName": "Senior", "name": "Bob Senior",
			"officeEmail": "bob@msp.example", "primaryEmail": "bob@msp.example", "inactiveFlag": false},
	)
	board := obj{"id": BoardHelpDesk, "name": BoardName}
	add("boards", obj{"id": BoardHelpDesk, "name": BoardName, "inactiveFlag": false, "projectFlag": false})
	add("statuses",
		obj{"id": StatusNew, "name": StatusName, "board": board, "sortOrder": 1, "inactive": false, "closedStatus": false, "timeEntryNotAllowed": false},
		obj{"id": StatusWorking, "name": "In Progress", "board": board, "sortOrder": 2, "inactive": false, "closedStatus": false, "timeEntryNotAllowed": false},
		obj{"id": 18, "name": "Closed", "board": board, "sortOrder": 9, "inactive": false, "closedStatus": true, "timeEntryNotAllowed": false},
		obj{"id": StatusNoTime, "name": "Waiting Vendor", "board": board, "sortOrder": 3, "inactive": false, "closedStatus": false, "timeEntryNotAllowed": true},
	)
	add("types", obj{"id": TypeHardware, "name": TypeName, "board": board, "inactiveFlag": false})
	add("priorities", obj{"id": PriorityThree, "name": PriorityName, "sortOrder": 6, "level": "Medium"})
	add("worktypes", obj{"id": WorkTypeRemote, "name": WorkTypeName, "inactiveFlag": false})
	add("workroles", obj{"id": WorkRoleEngineer, "name": WorkRoleName, "inactiveFlag": false})
	ticket := func(id int, summary string, status int, statusName string) obj {
		return obj{"id": id, "summary": summary, "recordType": "ServiceTicket", "board": board,
			"status": obj{"id": status, "name": statusName}, "company": acme, "contact": obj{"id": ContactArnie, "name": "Arnie Bellini"},
			"priority": obj{"id": PriorityThree, "name": PriorityName}, "closedFlag": false}
	}
	add("tickets", ticket(TicketOpen, "Printer offline", StatusWorking, "In Progress"), ticket(TicketNoTime, "Waiting on vendor", StatusNoTime, "Waiting Vendor"))
}
