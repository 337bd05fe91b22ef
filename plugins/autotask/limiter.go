package autotask

import "strings"

// ThreadLimit is how many requests Autotask lets one integration code have
// in flight per entity endpoint; the next one is refused (Itgenatr005).
// The outbound kit's governor holds it per (integration code, endpoint)
// for the whole process, so every configuration and Test run sharing an
// integration code shares its budget, as Autotask counts it.
const ThreadLimit = 3

// HourlyLimit is how many requests Autotask lets one database (tenant)
// make in an hour, all integrations together; at 100 % it suspends the
// tenant's API access until the hour clears. Switchboard holds its own
// requests to it per database; what other integrations spend it cannot see.
const HourlyLimit = 10000

// childEntities names the entity behind a child URL (parent/{id}/child).
var childEntities = map[string]string{
	"tickets/notes":       "TicketNotes",
	"tickets/attachments": "TicketAttachments",
	"companies/contacts":  "Contacts",
}

// endpointOf is the entity a path below the version addresses: Tickets for
// Tickets/query and Tickets/42, TicketNotes for Tickets/42/Notes and
// TicketNotes/query. Autotask counts threads per entity endpoint.
func endpointOf(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) >= 3 && isDigits(parts[1]) {
		key := strings.ToLower(parts[0] + "/" + parts[2])
		if e, ok := childEntities[key]; ok {
			return e
		}
		return parts[2]
	}
	return parts[0]
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
