package beyondtrust

import (
	"context"
	"io"
	"net/url"
	"strings"
	"time"
)

// Products, as Session.Product and Options.Product name them.
const (
	ProductRS  = "rs"  // Remote Support
	ProductPRA = "pra" // Privileged Remote Access
)

// Namespaces of the appliance's XML. The parser matches local element names
// only, so these serve product detection and the simulator.
const (
	NamespaceRSReporting  = "http://www.bomgar.com/namespaces/API/reporting"
	NamespacePRAReporting = "http://www.beyondtrust.com/sra/namespaces/API/reporting"
	NamespaceRSCommand    = "http://www.bomgar.com/namespaces/API/command"
	NamespacePRACommand   = "https://www.beyondtrust.com/namespaces/API/command"
)

// SessionSummary is one entry of a SupportSessionListing (RS) or
// AccessSessionListing (PRA) report. A listing names sessions and little
// else (reference "System information and listings"): it has no times,
// which come from the session's full report.
type SessionSummary struct {
	LSID string
	// ExternalKey is the external key when the listing gives one; the
	// reference does not show its shape, so it is often empty.
	ExternalKey  string
	HasRecording bool
}

// SurveyKind selects the customer or the representative exit survey report.
type SurveyKind string

// Survey kinds, named as the SubmittedBy of the surveys they return.
const (
	CustomerSurvey SurveyKind = "customer"
	RepSurvey      SurveyKind = "representative"
)

// report is the generate_report value that lists surveys of this kind.
func (k SurveyKind) report() string {
	if k == RepSurvey {
		return "SupportRepExitSurvey"
	}
	return "SupportCustExitSurvey"
}

// SurveyRecord is one entry of a SupportCustExitSurvey or SupportRepExitSurvey
// report: a survey submitted for a session, possibly after the session ended.
type SurveyRecord struct {
	LSID string
	Kind SurveyKind
	// Survey holds the answers; its GSNumber names whoever submitted it.
	Survey          Survey
	PrimaryCustomer Person
	PrimaryRep      Person
	Reps            []Representative
}

// APIInfo is the answer to the command API's get_api_info.
type APIInfo struct {
	Product     string
	Version     string
	CompanyName string
	// Timestamp is the appliance's clock when it answered; zero if absent.
	Timestamp time.Time
	// Permissions maps perm_* names to their values as reported: "1"/"0",
	// "true"/"false", or full|read_only|deny for perm_command.
	Permissions map[string]string
}

// Permission names of get_api_info that Switchboard relies on.
const (
	PermCommand          = "perm_command"
	PermReportingSupport = "perm_reporting_support"
	// PermReportingAccess is our reading of the PRA name of the session
	// report permission; HasReporting accepts either.
	PermReportingAccess = "perm_reporting_access"
)

// Allowed reports whether the permission is granted: any value other than
// empty, "0", "false", "deny" or "none".
func (i *APIInfo) Allowed(perm string) bool {
	switch strings.ToLower(strings.TrimSpace(i.Permissions[perm])) {
	case "", "0", "false", "deny", "none", "no":
		return false
	}
	return true
}

// HasReporting reports whether the account may read session reports.
func (i *APIInfo) HasReporting() bool {
	return i.Allowed(PermReportingSupport) || i.Allowed(PermReportingAccess)
}

// HasFullCommand reports whether the account may run commands that change
// state, such as set_session_attributes (perm_command "full").
func (i *APIInfo) HasFullCommand() bool {
	return strings.EqualFold(strings.TrimSpace(i.Permissions[PermCommand]), "full")
}

// Report runs one generate_report call with form and hands a 200 answer's
// body (at most 256 MiB) to parse, with the client's token, retry-once-on-401
// and error rules. parse may return a *ResponseError or *ParseError to have
// the answer classified as the appliance's refusal or as malformed. Sources
// of appliance activity (engine/sources/appliance) read their reports here.
func (c *Client) Report(ctx context.Context, name string, form url.Values, parse func(io.Reader) error) error {
	if form == nil {
		form = url.Values{}
	}
	return c.report(ctx, name, form, parse)
}
