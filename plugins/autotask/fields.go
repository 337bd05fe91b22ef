package autotask

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// valueKind is what a JSON setting may hold for one Autotask field.
type valueKind int

const (
	kindID       valueKind = iota // an entity id or picklist value: a positive whole number
	kindInt                       // any whole number
	kindDecimal                   // a number
	kindBool                      // true or false
	kindText                      // a string up to the field's length
	kindDateTime                  // an ISO 8601 date-time string
	kindUDF                       // userDefinedFields: [{"name": …, "value": …}]
)

// fieldSpec describes one writable field of an Autotask entity, as far as
// a settings JSON may set it. Names are the REST wire names (camelCase); the
// API itself matches them case-insensitively, and so do we.
type fieldSpec struct {
	Name   string
	Kind   valueKind
	MaxLen int // kindText only; 0 = no limit we know
}

// ticketFields are the Tickets fields a ticket default or an external-key
// override may set (Autotask REST TicketModel; lengths from its metadata).
var ticketFields = specs(
	fieldSpec{"title", kindText, 255},
	fieldSpec{"description", kindText, 8000},
	fieldSpec{"companyID", kindInt, 0}, // 0 is the MSP's own company
	fieldSpec{"companyLocationID", kindID, 0},
	fieldSpec{"contactID", kindID, 0},
	fieldSpec{"status", kindID, 0},
	fieldSpec{"priority", kindID, 0},
	fieldSpec{"queueID", kindID, 0},
	fieldSpec{"issueType", kindID, 0},
	fieldSpec{"subIssueType", kindID, 0},
	fieldSpec{"source", kindID, 0},
	fieldSpec{"ticketType", kindID, 0},
	fieldSpec{"ticketCategory", kindID, 0},
	fieldSpec{"dueDateTime", kindDateTime, 0},
	fieldSpec{"estimatedHours", kindDecimal, 0},
	fieldSpec{"hoursToBeScheduled", kindDecimal, 0},
	fieldSpec{"assignedResourceID", kindID, 0},
	fieldSpec{"assignedResourceRoleID", kindID, 0},
	fieldSpec{"billingCodeID", kindID, 0},
	fieldSpec{"contractID", kindID, 0},
	fieldSpec{"contractServiceID", kindID, 0},
	fieldSpec{"contractServiceBundleID", kindID, 0},
	fieldSpec{"configurationItemID", kindID, 0},
	fieldSpec{"serviceLevelAgreementID", kindID, 0},
	fieldSpec{"opportunityID", kindID, 0},
	fieldSpec{"problemTicketId", kindID, 0},
	fieldSpec{"projectID", kindID, 0},
	fieldSpec{"organizationalLevelAssociationID", kindID, 0},
	fieldSpec{"purchaseOrderNumber", kindText, 50},
	fieldSpec{"resolution", kindText, 32000},
	fieldSpec{"changeApprovalBoard", kindID, 0},
	fieldSpec{"changeApprovalType", kindID, 0},
	fieldSpec{"changeInfoField1", kindText, 8000},
	fieldSpec{"changeInfoField2", kindText, 8000},
	fieldSpec{"changeInfoField3", kindText, 8000},
	fieldSpec{"changeInfoField4", kindText, 8000},
	fieldSpec{"changeInfoField5", kindText, 8000},
	fieldSpec{"monitorTypeID", kindID, 0},
	fieldSpec{"rmaStatus", kindID, 0},
	fieldSpec{"rmaType", kindID, 0},
	fieldSpec{"rmmAlertID", kindText, 50},
	fieldSpec{"apiVehicleID", kindID, 0},
	fieldSpec{"userDefinedFields", kindUDF, 0},
)

// ticketReadOnly are Tickets fields Autotask sets itself.
var ticketReadOnly = names("id", "ticketNumber", "createDate", "createdByContactID", "creatorResourceID",
	"creatorType", "completedDate", "completedByResourceID", "lastActivityDate", "lastActivityPersonType",
	"lastActivityResourceID", "lastCustomerNotificationDateTime", "lastCustomerVisibleActivityDateTime",
	"lastTrackedModificationDateTime", "firstResponseDateTime", "firstResponseInitiatingResourceID",
	"resolvedDateTime", "serviceLevelAgreementHasBeenMet", "impersonatorCreatorResourceID",
	"currentServiceThermometerRating", "previousServiceThermometerRating", "serviceThermometerTemperature")

// timeEntryFields are the TimeEntries fields Time Entry Default Data may set.
var timeEntryFields = specs(
	fieldSpec{"billingCodeID", kindID, 0},
	fieldSpec{"internalBillingCodeID", kindID, 0},
	fieldSpec{"contractID", kindID, 0},
	fieldSpec{"contractServiceID", kindID, 0},
	fieldSpec{"contractServiceBundleID", kindID, 0},
	fieldSpec{"internalNotes", kindText, 8000},
	fieldSpec{"isNonBillable", kindBool, 0},
	fieldSpec{"showOnInvoice", kindBool, 0},
	fieldSpec{"isInternalNotesVisibleToComanaged", kindBool, 0},
	fieldSpec{"offsetHours", kindDecimal, 0},
	fieldSpec{"timeEntryType", kindID, 0},
)

// timeEntryFromSession are the TimeEntries fields Switchboard fills from the
// session and the ticket; a default for them would be overwritten.
var timeEntryFromSession = names("ticketID", "resourceID", "roleID", "dateWorked", "startDateTime",
	"endDateTime", "hoursWorked", "taskID", "id", "hoursToBill")

func specs(list ...fieldSpec) map[string]fieldSpec {
	m := make(map[string]fieldSpec, len(list))
	for _, f := range list {
		m[strings.ToLower(f.Name)] = f
	}
	return m
}

func names(list ...string) map[string]string {
	m := make(map[string]string, len(list))
	for _, n := range list {
		m[strings.ToLower(n)] = n
	}
	return m
}

// checkValue returns the value to send for one field, or why it is refused.
// Numbers arrive as json.Number (decoders use UseNumber) so that large ids
// keep every digit.
func (f fieldSpec) checkValue(v any) (any, error) {
	switch f.Kind {
	case kindID, kindInt:
		n, ok := v.(json.Number)
		if !ok {
			return nil, fmt.Errorf("must be a whole number, not %s", describe(v))
		}
		i, err := n.Int64()
		if err != nil {
			return nil, fmt.Errorf("must be a whole number, not %s", n)
		}
		if f.Kind == kindID && i <= 0 {
			return nil, fmt.Errorf("must be a positive id, not %d", i)
		}
		return i, nil
	case kindDecimal:
		n, ok := v.(json.Number)
		if !ok {
			return nil, fmt.Errorf("must be a number, not %s", describe(v))
		}
		x, err := n.Float64()
		if err != nil || math.IsInf(x, 0) {
			return nil, fmt.Errorf("must be a number, not %s", n)
		}
		return x, nil
	case kindBool:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("must be true or false, not %s", describe(v))
		}
		return b, nil
	case kindText:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("must be a string, not %s", describe(v))
		}
		if n := len([]rune(s)); f.MaxLen > 0 && n > f.MaxLen {
			return nil, fmt.Errorf("is %d characters long; Autotask takes at most %d", n, f.MaxLen)
		}
		return s, nil
	case kindDateTime:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("must be a date-time string such as 2024-01-31T17:00:00Z, not %s", describe(v))
		}
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			return nil, fmt.Errorf("must be a date-time such as 2024-01-31T17:00:00Z, not %q", s)
		}
		return s, nil
	case kindUDF:
		return checkUDFs(v)
	}
	return nil, fmt.Errorf("has an unknown kind %d", f.Kind)
}

func checkUDFs(v any) (any, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf(`must be a list such as [{"name": "Field", "value": "x"}], not %s`, describe(v))
	}
	for i, item := range list {
		obj, ok := item.(map[string]any)
		if !ok {
			return nil, fmt.Errorf(`item %d must be an object {"name": …, "value": …}`, i+1)
		}
		if name, _ := obj["name"].(string); name == "" {
			return nil, fmt.Errorf("item %d has no name", i+1)
		}
		for k := range obj {
			if k != "name" && k != "value" {
				return nil, fmt.Errorf("item %d has %q; only name and value are allowed", i+1, k)
			}
		}
	}
	return list, nil
}

// describe names a decoded JSON value's type for an error message.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("the string %q", v)
	case json.Number:
		return "the number " + v.String()
	case bool:
		return fmt.Sprintf("%t", v)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
