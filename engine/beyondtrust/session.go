// Package beyondtrust talks to a B Series Appliance (Remote Support or
// Privileged Remote Access): OAuth, the reporting and command APIs, and the
// session model that templates and plugins share.
package beyondtrust

import "time"

// Session is one support (RS SupportSession) or access (PRA AccessSession)
// session as the reporting API describes it. Times are UTC; a zero EndTime
// means the session has not ended. Values the appliance reports as "Unknown"
// are kept as that text.
type Session struct {
	LSID        string
	LSeq        int64
	Product     string // "rs" or "pra"
	Type        string // session_type: "support" in current API versions
	StartTime   time.Time
	EndTime     time.Time
	Duration    time.Duration
	PublicSite  Ref // RS: public_site
	JumpGroup   JumpGroup
	Jumpoint    Ref // PRA
	ExternalKey string
	// CustomAttributes keep the appliance's order; use Attribute to look
	// one up by code name.
	CustomAttributes []CustomAttribute

	PrimaryCustomer Person // gsnumber + name
	PrimaryRep      Person // gsnumber, id + display name
	Customers       []Customer
	Reps            []Representative

	CustomerSurveys []Survey
	RepSurveys      []Survey

	ChatViewURL          string
	ChatDownloadURL      string
	RecordingViewURL     string
	RecordingDownloadURL string
	ShellRecordings      []ShellRecording

	FileTransferCount int
	FileMoveCount     int
	FileDeleteCount   int

	Events []SessionEvent
}

// Ref is an element with an id attribute and a text name.
type Ref struct {
	ID   string
	Name string
}

// JumpGroup is a PRA jump group.
type JumpGroup struct {
	ID   string
	Type string // shared | personal
	Name string
}

// CustomAttribute is one custom field the appliance's API configuration defines.
type CustomAttribute struct {
	CodeName    string
	DisplayName string
	Value       string
}

// Person names a session member by gsnumber.
type Person struct {
	GSNumber string
	ID       string
	Name     string
}

// Customer is one entry of customer_list.
type Customer struct {
	GSNumber  string
	Username  string
	PublicIP  string
	PrivateIP string
	Hostname  string
	OS        string
	Primary   bool
	Info      CustomerInfo
}

// CustomerInfo is what the customer typed in the issue submission form.
type CustomerInfo struct {
	Name        string
	Company     string
	CompanyCode string
	Issue       string
	Details     string
}

// Representative is one entry of rep_list.
type Representative struct {
	GSNumber           string
	ID                 string
	Username           string
	DisplayName        string
	PublicDisplayName  string
	PrivateDisplayName string
	PublicIP           string
	PrivateIP          string
	Hostname           string
	OS                 string
	SessionOwner       bool
	Primary            bool
	Invited            bool
	SecondsInvolved    int64
}

// Survey is one exit survey, its questions in the order asked.
type Survey struct {
	GSNumber    string
	SubmittedBy string
	Timestamp   time.Time
	Answers     []SurveyAnswer
}

// SurveyAnswer is one question and its answer.
type SurveyAnswer struct {
	Name  string // rating, comments, …
	Label string // the question as the appliance shows it, when known
	Value string
}

// ShellRecording is one command shell recording.
type ShellRecording struct {
	Instance    string
	ViewURL     string
	DownloadURL string
}

// Actor is who performed an event or received it.
type Actor struct {
	Type     string // system | customer | representative
	GSNumber string
	Name     string
}

// SessionEvent is one entry of session_details, in order.
type SessionEvent struct {
	Timestamp   time.Time
	Type        string // "Chat Message", "Session Note Added", …
	PerformedBy Actor
	Destination Actor
	// Body is the chat or note text; encoded_body is decoded into it.
	Body       string
	Filename   string
	Filesize   int64
	Files      []File
	Data       []NameValue
	SystemInfo []SystemInfoCategory
}

// File is one file named by a file event.
type File struct {
	Name string
	Size int64
}

// NameValue is one data/value pair of an event.
type NameValue struct {
	Name  string
	Value string
}

// SystemInfoCategory is one category of the system information the
// representative pulled from the remote computer: a table whose columns are
// description/field (code in the name attribute, label as text) and whose
// rows are data/row/field values, in column order (reference: "System
// information and listings"). A category may have no rows.
type SystemInfoCategory struct {
	Name    string
	Columns []SystemInfoColumn
	// Rows hold the values of each data/row, in the order of Columns; a
	// row may have fewer or more values than there are columns.
	Rows [][]string
}

// SystemInfoColumn is one column header of a system information category.
type SystemInfoColumn struct {
	Code  string // the name attribute, e.g. "version"
	Label string // the text, e.g. "Version"
}

// Attribute returns the value of the custom attribute with that code name.
func (s *Session) Attribute(codeName string) (string, bool) {
	for _, a := range s.CustomAttributes {
		if a.CodeName == codeName {
			return a.Value, true
		}
	}
	return "", false
}

// Ended reports whether the appliance reported an end time.
func (s *Session) Ended() bool { return !s.EndTime.IsZero() }
