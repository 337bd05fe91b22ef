package render

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"switchboard/engine/beyondtrust"
)

// The types in this file are the template data model. Each field's json tag
// is the name templates use; a handlebars tag repeats it where raymond's
// field lookup (which capitalises the first letter) would not find the Go
// name. docs/templates.md lists every field from these comments, and a test
// keeps the two in step. Only slices and structs are used, so every
// {{#each}} runs in a fixed order.

// Data is what a report template sees at its root.
type Data struct {
	// LSID is the session's unique id on the appliance.
	LSID string `json:"lsid" handlebars:"lsid"`
	// LSeq is the appliance's sequence number of the session.
	LSeq int64 `json:"lseq" handlebars:"lseq"`
	// Product is "rs" (Remote Support) or "pra" (Privileged Remote Access).
	Product string `json:"product"`
	// ProductName is the product's full name.
	ProductName string `json:"productName"`
	// SessionType is the appliance's session type, usually "support".
	SessionType string `json:"sessionType"`
	// Start is when the session started.
	Start Time `json:"start"`
	// End is when the session ended; empty while it runs.
	End *Time `json:"end"`
	// Duration is how long the session lasted.
	Duration Duration `json:"duration"`
	// TimeZone is the zone every time is shown in, e.g. "Europe/Berlin".
	TimeZone string `json:"timeZone"`
	// Site is the public site's name (Remote Support).
	Site string `json:"site"`
	// SiteID is the public site's id.
	SiteID string `json:"siteId" handlebars:"siteId"`
	// JumpGroup is the jump group of a PRA session; empty otherwise.
	JumpGroup *JumpGroup `json:"jumpGroup"`
	// Jumpoint is the Jumpoint a PRA session went through; empty otherwise.
	Jumpoint *Ref `json:"jumpoint"`
	// ExternalKey is the session's external key, often a ticket number.
	ExternalKey string `json:"externalKey"`
	// CustomFields are the appliance's custom session attributes, in its order.
	CustomFields []CustomField `json:"customFields"`
	// Customer is the primary customer; empty when the session had none.
	Customer *Customer `json:"customer"`
	// Customers are all customers who took part.
	Customers []Customer `json:"customers"`
	// Rep is the primary representative, as the report's primary_rep names
	// them (even when its representative list does not hold them); empty
	// when there was none.
	Rep *Rep `json:"rep"`
	// Reps are all representatives who took part, the primary one first.
	Reps []Rep `json:"reps"`
	// RepNames are the representatives' display names, in the order of reps.
	RepNames []string `json:"repNames"`
	// Chat is the chat transcript in order.
	Chat []ChatLine `json:"chat"`
	// Notes are the session notes in order.
	Notes []Note `json:"notes"`
	// SystemInfo is the last system information the representative pulled.
	SystemInfo []SystemInfoCategory `json:"systemInfo"`
	// FileTransfers are the files moved or deleted, one line per file.
	FileTransfers []FileTransfer `json:"fileTransfers"`
	// FileTransferCount is the appliance's count of file transfers.
	FileTransferCount int `json:"fileTransferCount"`
	// FileMoveCount is the appliance's count of file moves.
	FileMoveCount int `json:"fileMoveCount"`
	// FileDeleteCount is the appliance's count of file deletions.
	FileDeleteCount int `json:"fileDeleteCount"`
	// Recordings are the links to the session's recordings; empty when there are none.
	Recordings *Recordings `json:"recordings"`
	// CustomerSurveys are the customer exit surveys, in the order submitted.
	CustomerSurveys []Survey `json:"customerSurveys"`
	// RepSurveys are the representative surveys, in the order submitted.
	RepSurveys []Survey `json:"repSurveys"`
}

// Ref is something the appliance names by id.
type Ref struct {
	// ID is the appliance's id.
	ID string `json:"id" handlebars:"id"`
	// Name is the name shown to people.
	Name string `json:"name"`
}

// JumpGroup is a PRA jump group.
type JumpGroup struct {
	// ID is the appliance's id.
	ID string `json:"id" handlebars:"id"`
	// Type is "shared" or "personal".
	Type string `json:"type"`
	// Name is the jump group's name.
	Name string `json:"name"`
}

// CustomField is one custom session attribute.
type CustomField struct {
	// Code is the attribute's code name.
	Code string `json:"code"`
	// Name is the attribute's display name.
	Name string `json:"name"`
	// Value is the attribute's value.
	Value string `json:"value"`
}

// Customer is one customer of the session.
type Customer struct {
	// Name is the name the customer gave.
	Name string `json:"name"`
	// Company is the company the customer gave.
	Company string `json:"company"`
	// CompanyCode is the company code the customer gave.
	CompanyCode string `json:"companyCode"`
	// Issue is the issue the customer picked.
	Issue string `json:"issue"`
	// Details is the problem description the customer typed.
	Details string `json:"details"`
	// Username is the customer's login name on the remote computer.
	Username string `json:"username"`
	// Hostname is the remote computer's host name.
	Hostname string `json:"hostname"`
	// OS is the remote computer's operating system.
	OS string `json:"os" handlebars:"os"`
	// PublicIP is the customer's public IP address.
	PublicIP string `json:"publicIp" handlebars:"publicIp"`
	// PrivateIP is the remote computer's private IP address.
	PrivateIP string `json:"privateIp" handlebars:"privateIp"`
	// Primary is true for the primary customer.
	Primary bool `json:"primary"`
}

// Rep is one representative of the session.
type Rep struct {
	// Name is the representative's display name.
	Name string `json:"name"`
	// PublicName is the name customers see.
	PublicName string `json:"publicName"`
	// PrivateName is the name other representatives see.
	PrivateName string `json:"privateName"`
	// Username is the representative's user name.
	Username string `json:"username"`
	// ID is the representative's user id on the appliance.
	ID string `json:"id" handlebars:"id"`
	// Hostname is the representative's computer's host name.
	Hostname string `json:"hostname"`
	// OS is the representative's computer's operating system.
	OS string `json:"os" handlebars:"os"`
	// PublicIP is the representative's public IP address.
	PublicIP string `json:"publicIp" handlebars:"publicIp"`
	// PrivateIP is the representative's private IP address.
	PrivateIP string `json:"privateIp" handlebars:"privateIp"`
	// Owner is true for the session's owner.
	Owner bool `json:"owner"`
	// Primary is true for the primary representative.
	Primary bool `json:"primary"`
	// Invited is true for a representative invited into the session.
	Invited bool `json:"invited"`
	// Involved is how long the representative took part.
	Involved Duration `json:"involved"`
}

// ChatLine is one chat message.
type ChatLine struct {
	// Time is when the message was sent.
	Time Time `json:"time"`
	// Speaker is who wrote it.
	Speaker string `json:"speaker"`
	// SpeakerType is "customer", "representative" or "system".
	SpeakerType string `json:"speakerType"`
	// System is true for a message the appliance wrote.
	System bool `json:"system"`
	// To names the recipient of a private message; empty for everyone.
	To string `json:"to"`
	// Text is the message, possibly several lines.
	Text string `json:"text"`
}

// Note is one session note.
type Note struct {
	// Time is when the note was added.
	Time Time `json:"time"`
	// Author is who added it.
	Author string `json:"author"`
	// Text is the note, possibly several lines.
	Text string `json:"text"`
}

// SystemInfoCategory is one category of system information: a table with
// column headers and rows of values, as the appliance reports it.
type SystemInfoCategory struct {
	// Name is the category's name, e.g. "Operating System" or "Drives".
	Name string `json:"name"`
	// Columns are the table's column headers, in order.
	Columns []SystemInfoColumn `json:"columns"`
	// Rows are the table's rows (one computer, or each drive, printer, …);
	// rows without any value are left out.
	Rows []SystemInfoRow `json:"rows"`
	// OneLine is true when every row reads well on one line: a table of
	// one column, or several rows whose values are few and short. The
	// default template then prints each row's text; otherwise each row's
	// block.
	OneLine bool `json:"oneLine"`
}

// SystemInfoColumn is one column header of a system information table.
type SystemInfoColumn struct {
	// Code is the column's code name, e.g. "version".
	Code string `json:"code"`
	// Label is the column's name for people, e.g. "Version".
	Label string `json:"label"`
}

// SystemInfoRow is one row of a system information table.
type SystemInfoRow struct {
	// Fields are the row's values, one per column, in column order.
	Fields []SystemInfoField `json:"fields"`
	// Text is the row on one line: the value alone in a one-column table,
	// else "Label: value" pairs separated by vertical bars; empty values
	// are left out.
	Text string `json:"text"`
	// Block is the row as "Label: value" lines; empty values are left out.
	Block string `json:"block"`
}

// SystemInfoField is one value of a system information row.
type SystemInfoField struct {
	// Code is its column's code name.
	Code string `json:"code"`
	// Label is its column's label ("Column 3" when the row has more values
	// than the table has columns).
	Label string `json:"label"`
	// Value is the value as reported; may be empty.
	Value string `json:"value"`
}

// FileTransfer is one file moved or deleted during the session.
type FileTransfer struct {
	// Time is when it happened.
	Time Time `json:"time"`
	// Action is "upload", "download" or "delete".
	Action string `json:"action"`
	// By is who did it.
	By string `json:"by"`
	// Name is the file's name.
	Name string `json:"name"`
	// Size is the file's size in bytes.
	Size int64 `json:"size"`
	// SizeText is the size for people, e.g. "1.2 MB".
	SizeText string `json:"sizeText"`
}

// Recordings are the links to a session's recordings.
type Recordings struct {
	// ChatView opens the chat transcript on the appliance.
	ChatView string `json:"chatView"`
	// ChatDownload downloads the chat transcript.
	ChatDownload string `json:"chatDownload"`
	// View opens the screen recording.
	View string `json:"view"`
	// Download downloads the screen recording.
	Download string `json:"download"`
	// Shell are the command shell recordings.
	Shell []ShellRecording `json:"shell"`
}

// ShellRecording is one command shell recording.
type ShellRecording struct {
	// Instance is the shell's instance number.
	Instance string `json:"instance"`
	// View opens the recording.
	View string `json:"view"`
	// Download downloads the recording.
	Download string `json:"download"`
}

// Survey is one exit survey.
type Survey struct {
	// By is who submitted it: the customer's or representative's name as
	// the report gives it, else "the customer" or "the representative".
	By string `json:"by"`
	// Role is "customer" or "representative".
	Role string `json:"role"`
	// Time is when it was submitted; empty when the report does not say
	// (surveys inside a session report carry no time).
	Time *Time `json:"time"`
	// Answers are the questions and answers in the order asked.
	Answers []SurveyAnswer `json:"answers"`
}

// SurveyAnswer is one survey question and its answer.
type SurveyAnswer struct {
	// Name is the question's code name, e.g. "rating".
	Name string `json:"name"`
	// Label is the question as the appliance shows it, else its code name
	// made readable ("issue_resolved" reads "Issue resolved").
	Label string `json:"label"`
	// Value is the answer.
	Value string `json:"value"`
}

// timeText is how a Time prints: readable in a ticket note, and the same
// text in handlebars.js, which sees the JSON string.
const timeText = "2006-01-02 15:04:05 MST"

// Time is a moment in the report's time zone. {{start}} prints it as
// "2024-05-06 14:03:22 CEST"; the formatTime helper lays it out otherwise.
type Time struct{ t time.Time }

// NewTime wraps t, shown in loc.
func NewTime(t time.Time, loc *time.Location) Time {
	if t.IsZero() {
		return Time{}
	}
	return Time{t: t.In(loc)}
}

// Time returns the moment.
func (t Time) Time() time.Time { return t.t }

// String prints the time as templates show it, or "" for the zero time.
func (t Time) String() string {
	if t.t.IsZero() {
		return ""
	}
	return t.t.Format(timeText)
}

// MarshalJSON encodes the time as the text templates print.
func (t Time) MarshalJSON() ([]byte, error) { return json.Marshal(t.String()) }

// Duration is a length of time. {{duration}} prints it as "1h 2m 3s"; the
// formatDuration helper lays it out otherwise.
type Duration struct{ d time.Duration }

// NewDuration wraps d, dropping anything below a second.
func NewDuration(d time.Duration) Duration { return Duration{d: d.Truncate(time.Second)} }

// Duration returns the length of time.
func (d Duration) Duration() time.Duration { return d.d }

// String prints the duration as "1h 2m 3s", leaving out leading zero units.
func (d Duration) String() string {
	s := int64(d.d / time.Second)
	sign := ""
	if s < 0 {
		sign, s = "-", -s
	}
	h, m := s/3600, s/60%60
	s %= 60
	switch {
	case h > 0:
		return fmt.Sprintf("%s%dh %dm %ds", sign, h, m, s)
	case m > 0:
		return fmt.Sprintf("%s%dm %ds", sign, m, s)
	}
	return fmt.Sprintf("%s%ds", sign, s)
}

// MarshalJSON encodes the duration as the text templates print.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// NewData builds the template data of a session, with every time shown in
// loc (UTC when loc is nil). A nil session gives empty data.
func NewData(s *beyondtrust.Session, loc *time.Location) Data {
	if loc == nil {
		loc = time.UTC
	}
	d := Data{TimeZone: loc.String()}
	if s == nil {
		return d
	}
	d.LSID, d.LSeq, d.Product, d.SessionType = s.LSID, s.LSeq, s.Product, s.Type
	d.ProductName = s.ProductName()
	d.Start = NewTime(s.StartTime, loc)
	if s.Ended() {
		end := NewTime(s.EndTime, loc)
		d.End = &end
	}
	switch {
	case s.Duration > 0:
		d.Duration = NewDuration(s.Duration)
	case s.Ended() && !s.StartTime.IsZero():
		d.Duration = NewDuration(s.EndTime.Sub(s.StartTime))
	}
	d.Site, d.SiteID = s.PublicSite.Name, s.PublicSite.ID
	if s.JumpGroup != (beyondtrust.JumpGroup{}) {
		d.JumpGroup = &JumpGroup{ID: s.JumpGroup.ID, Type: s.JumpGroup.Type, Name: s.JumpGroup.Name}
	}
	if s.Jumpoint != (beyondtrust.Ref{}) {
		d.Jumpoint = &Ref{ID: s.Jumpoint.ID, Name: s.Jumpoint.Name}
	}
	d.ExternalKey = s.ExternalKey
	for _, a := range s.CustomAttributes {
		d.CustomFields = append(d.CustomFields, CustomField{Code: a.CodeName, Name: a.DisplayName, Value: a.Value})
	}
	d.Customer, d.Customers = customers(s)
	d.Rep, d.Reps = reps(s)
	for _, r := range d.Reps {
		d.RepNames = append(d.RepNames, r.Name)
	}
	chat := s.Chat()
	if len(chat) > 0 {
		d.Chat = make([]ChatLine, 0, len(chat))
	}
	for _, c := range chat {
		d.Chat = append(d.Chat, ChatLine{
			Time: NewTime(c.Time, loc), Speaker: c.Speaker, SpeakerType: c.SpeakerType,
			System: c.System(), To: c.To, Text: c.Text,
		})
	}
	for _, n := range s.Notes() {
		d.Notes = append(d.Notes, Note{Time: NewTime(n.Time, loc), Author: n.Author, Text: n.Text})
	}
	for _, c := range s.SystemInfo() {
		d.SystemInfo = append(d.SystemInfo, systemInfo(c))
	}
	for _, f := range s.FileTransfers() {
		d.FileTransfers = append(d.FileTransfers, FileTransfer{
			Time: NewTime(f.Time, loc), Action: f.Action, By: f.By, Name: f.Name,
			Size: f.Size, SizeText: sizeText(f.Size),
		})
	}
	d.FileTransferCount, d.FileMoveCount, d.FileDeleteCount = s.FileTransferCount, s.FileMoveCount, s.FileDeleteCount
	d.Recordings = recordings(s)
	d.CustomerSurveys = surveys(s, s.CustomerSurveys, loc)
	d.RepSurveys = surveys(s, s.RepSurveys, loc)
	return d
}

// customers returns the primary customer (if any) and all customers with
// the primary one first, so "the customer" and "the first customer" agree.
func customers(s *beyondtrust.Session) (*Customer, []Customer) {
	primary, ok := s.PrimaryCustomerInfo()
	if !ok {
		if s.PrimaryCustomer.Name == "" {
			return nil, nil
		}
		// The appliance named a customer but listed no details.
		c := Customer{Name: s.PrimaryCustomer.Name, Primary: true}
		return &c, []Customer{c}
	}
	conv := func(c beyondtrust.Customer, isPrimary bool) Customer {
		name := c.Info.Name
		if name == "" && isPrimary {
			name = s.PrimaryCustomer.Name
		}
		return Customer{
			Name: name, Company: c.Info.Company, CompanyCode: c.Info.CompanyCode,
			Issue: c.Info.Issue, Details: c.Info.Details, Username: c.Username,
			Hostname: c.Hostname, OS: c.OS, PublicIP: c.PublicIP, PrivateIP: c.PrivateIP,
			Primary: isPrimary,
		}
	}
	first := conv(primary, true)
	all := []Customer{first}
	for _, c := range s.Customers {
		if c != primary {
			all = append(all, conv(c, false))
		}
	}
	return &first, all
}

// reps returns the primary representative (if any) and all representatives
// with the primary one first. The primary one is whom the report's
// primary_rep names, even when rep_list does not hold them.
func reps(s *beyondtrust.Session) (*Rep, []Rep) {
	primary, listed := s.PrimaryRepresentative()
	if primary == (beyondtrust.Representative{}) {
		return nil, nil
	}
	conv := func(r beyondtrust.Representative, isPrimary bool) Rep {
		return Rep{
			Name: r.DisplayName, PublicName: r.PublicDisplayName, PrivateName: r.PrivateDisplayName,
			Username: r.Username, ID: r.ID, Hostname: r.Hostname, OS: r.OS,
			PublicIP: r.PublicIP, PrivateIP: r.PrivateIP, Owner: r.SessionOwner,
			Primary: isPrimary, Invited: r.Invited,
			Involved: NewDuration(time.Duration(r.SecondsInvolved) * time.Second),
		}
	}
	first := conv(primary, true)
	all := []Rep{first}
	for _, r := range s.Reps {
		if !listed || r != primary {
			all = append(all, conv(r, false))
		}
	}
	return &first, all
}

func recordings(s *beyondtrust.Session) *Recordings {
	r := Recordings{
		ChatView: s.ChatViewURL, ChatDownload: s.ChatDownloadURL,
		View: s.RecordingViewURL, Download: s.RecordingDownloadURL,
	}
	for _, sh := range s.ShellRecordings {
		r.Shell = append(r.Shell, ShellRecording{Instance: sh.Instance, View: sh.ViewURL, Download: sh.DownloadURL})
	}
	if r.ChatView == "" && r.ChatDownload == "" && r.View == "" && r.Download == "" && len(r.Shell) == 0 {
		return nil
	}
	return &r
}

// surveys names each survey's author as the session report does, falling
// back to the role when the report does not name them.
func surveys(sess *beyondtrust.Session, in []beyondtrust.Survey, loc *time.Location) []Survey {
	var out []Survey
	for _, sv := range in {
		s := Survey{By: sess.SurveyAuthor(sv), Role: sv.SubmittedBy}
		if s.Role != beyondtrust.ActorRepresentative {
			s.Role = beyondtrust.ActorCustomer
		}
		if s.By == "" {
			s.By = "the " + s.Role
		}
		if !sv.Timestamp.IsZero() {
			t := NewTime(sv.Timestamp, loc)
			s.Time = &t
		}
		for _, a := range sv.Answers {
			label := a.Label
			if label == "" {
				label = codeLabel(a.Name)
			}
			s.Answers = append(s.Answers, SurveyAnswer{Name: a.Name, Label: label, Value: a.Value})
		}
		out = append(out, s)
	}
	return out
}

// codeLabel makes a label of a code name for a question the report does
// not label (surveys inside a session report carry only code names):
// "issue_resolved" reads "Issue resolved".
func codeLabel(code string) string {
	words := strings.Join(strings.FieldsFunc(code, func(r rune) bool { return r == '_' || r == '-' }), " ")
	r, size := utf8.DecodeRuneInString(words)
	if size == 0 {
		return code
	}
	return string(unicode.ToUpper(r)) + words[size:]
}

// sizeText prints a byte count in decimal units, as file managers do.
func sizeText(n int64) string {
	if n < 1000 {
		return fmt.Sprintf("%d B", n)
	}
	v, unit := float64(n)/1000, 0
	units := []string{"kB", "MB", "GB", "TB"}
	for v >= 999.95 && unit < len(units)-1 {
		v /= 1000
		unit++
	}
	return strings.Replace(fmt.Sprintf("%.1f %s", v, units[unit]), ".0 ", " ", 1)
}
