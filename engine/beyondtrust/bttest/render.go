package bttest

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"switchboard/engine/beyondtrust"
)

// xmlWriter builds the appliance's XML. Values are escaped; attributes come
// as name, value pairs.
type xmlWriter struct{ b strings.Builder }

func (x *xmlWriter) start(name string, attrs ...string) {
	x.b.WriteString("<" + name)
	for i := 0; i+1 < len(attrs); i += 2 {
		x.b.WriteString(" " + attrs[i] + `="`)
		x.escape(attrs[i+1])
		x.b.WriteString(`"`)
	}
	x.b.WriteString(">")
}

func (x *xmlWriter) end(name string) { x.b.WriteString("</" + name + ">") }

func (x *xmlWriter) elem(name, text string, attrs ...string) {
	x.start(name, attrs...)
	x.escape(text)
	x.end(name)
}

// elems writes one text element per name, value pair.
func (x *xmlWriter) elems(pairs ...string) {
	for i := 0; i+1 < len(pairs); i += 2 {
		x.elem(pairs[i], pairs[i+1])
	}
}

func (x *xmlWriter) escape(s string) { _ = xml.EscapeText(&x.b, []byte(s)) }

func (x *xmlWriter) String() string { return x.b.String() }

func document(body func(x *xmlWriter)) string {
	x := &xmlWriter{}
	x.b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	body(x)
	x.b.WriteString("\n")
	return x.String()
}

func errorDoc(ns, msg string) string {
	return document(func(x *xmlWriter) { x.elem("error", msg, "xmlns", ns) })
}

// namespace is the dialect's namespace for an API path.
func (a *Appliance) namespace(path string) string {
	switch {
	case path == PathCommand && a.product == beyondtrust.ProductPRA:
		return beyondtrust.NamespacePRACommand
	case path == PathCommand:
		return beyondtrust.NamespaceRSCommand
	case a.product == beyondtrust.ProductPRA:
		return beyondtrust.NamespacePRAReporting
	}
	return beyondtrust.NamespaceRSReporting
}

func unixText(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

func isoText(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05+00:00") }

func (x *xmlWriter) time(name string, t time.Time) {
	if t.IsZero() {
		x.elem(name, "")
		return
	}
	x.elem(name, isoText(t), "timestamp", unixText(t))
}

func clock(d time.Duration) string {
	s := int64(d / time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}

func boolText(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// xmlSafe reports whether s can be written as XML text.
func xmlSafe(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !(r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || r >= 0x10000) {
			return false
		}
	}
	return true
}

// sanitize replaces what XML cannot carry with '?', as the appliance's body
// next to an encoded_body does.
func sanitize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "?") {
		if xmlSafe(string(r)) {
			b.WriteRune(r)
		} else {
			b.WriteByte('?')
		}
	}
	return b.String()
}

func (x *xmlWriter) actor(name string, a beyondtrust.Actor) {
	if a == (beyondtrust.Actor{}) {
		return
	}
	x.elem(name, a.Name, "type", a.Type, "gsnumber", a.GSNumber)
}

// session writes one session in the appliance's element order.
func (a *Appliance) session(x *xmlWriter, s *beyondtrust.Session, now time.Time) {
	x.start("session", "lsid", s.LSID)
	x.elem("session_type", s.Type)
	x.elem("lseq", strconv.FormatInt(s.LSeq, 10))
	x.time("start_time", s.StartTime)
	x.time("end_time", s.EndTime)
	d := s.Duration
	if !s.Ended() {
		d = now.Sub(s.StartTime)
	}
	x.elem("duration", clock(d))
	if a.product == beyondtrust.ProductPRA {
		x.elem("jump_group", s.JumpGroup.Name, "type", s.JumpGroup.Type, "id", s.JumpGroup.ID)
		x.elem("jumpoint", s.Jumpoint.Name, "id", s.Jumpoint.ID)
	} else {
		x.elem("public_site", s.PublicSite.Name, "id", s.PublicSite.ID)
	}
	x.elem("external_key", s.ExternalKey)
	x.start("custom_attributes")
	for _, ca := range s.CustomAttributes {
		x.elem("custom_attribute", ca.Value, "display_name", ca.DisplayName, "code_name", ca.CodeName)
	}
	x.end("custom_attributes")
	if s.Ended() {
		x.elem("session_chat_view_url", s.ChatViewURL)
		x.elem("session_chat_download_url", s.ChatDownloadURL)
	}
	if s.RecordingViewURL != "" {
		x.elem("session_recording_view_url", s.RecordingViewURL)
		x.elem("session_recording_download_url", s.RecordingDownloadURL)
	}
	if len(s.ShellRecordings) > 0 {
		x.start("command_shell_recordings")
		for _, r := range s.ShellRecordings {
			x.start("command_shell_recording", "instance", r.Instance)
			x.elem("download_url", r.DownloadURL)
			x.elem("view_url", r.ViewURL)
			x.end("command_shell_recording")
		}
		x.end("command_shell_recordings")
	}
	x.elem("file_transfer_count", strconv.Itoa(s.FileTransferCount))
	x.elem("file_move_count", strconv.Itoa(s.FileMoveCount))
	x.elem("file_delete_count", strconv.Itoa(s.FileDeleteCount))
	x.elem("primary_customer", s.PrimaryCustomer.Name, "gsnumber", s.PrimaryCustomer.GSNumber)
	x.elem("primary_rep", s.PrimaryRep.Name, "gsnumber", s.PrimaryRep.GSNumber, "id", s.PrimaryRep.ID)
	x.start("customer_list")
	for _, c := range s.Customers {
		a.customer(x, c)
	}
	x.end("customer_list")
	x.start("rep_list")
	for _, r := range s.Reps {
		representative(x, r)
	}
	x.end("rep_list")
	if a.product == beyondtrust.ProductRS {
		surveyList(x, "cust_survey_list", "cust_exit_survey", s.CustomerSurveys)
		surveyList(x, "rep_survey_list", "rep_exit_survey", s.RepSurveys)
	}
	x.start("session_details")
	for _, e := range s.Events {
		event(x, e)
	}
	x.end("session_details")
	x.end("session")
}

func (a *Appliance) customer(x *xmlWriter, c beyondtrust.Customer) {
	x.start("customer", "gsnumber", c.GSNumber)
	x.elems("username", c.Username, "public_ip", c.PublicIP, "private_ip", c.PrivateIP, "hostname", c.Hostname, "os", c.OS,
		"primary_cust", boolText(c.Primary))
	if a.product == beyondtrust.ProductRS {
		x.start("info")
		x.elems("name", c.Info.Name, "company", c.Info.Company, "company_code", c.Info.CompanyCode, "issue", c.Info.Issue, "details", c.Info.Details)
		x.end("info")
	}
	x.end("customer")
}

func representative(x *xmlWriter, r beyondtrust.Representative) {
	x.start("representative", "gsnumber", r.GSNumber, "id", r.ID)
	x.elems("username", r.Username, "display_name", r.DisplayName, "public_display_name", r.PublicDisplayName,
		"private_display_name", r.PrivateDisplayName, "public_ip", r.PublicIP, "private_ip", r.PrivateIP,
		"hostname", r.Hostname, "os", r.OS, "session_owner", boolText(r.SessionOwner), "primary_rep", boolText(r.Primary),
		"seconds_involved", strconv.FormatInt(r.SecondsInvolved, 10), "invited", boolText(r.Invited))
	x.end("representative")
}

func surveyList(x *xmlWriter, list, item string, surveys []beyondtrust.Survey) {
	x.start(list)
	for _, sv := range surveys {
		// The reference shows only gsnumber on a survey inside a session
		// report: no time, which the exit survey reports carry instead.
		x.start(item, "gsnumber", sv.GSNumber)
		for _, ans := range sv.Answers {
			// The appliance escapes newlines in answers as a literal \n.
			x.start("value", "name", ans.Name, "value", strings.ReplaceAll(ans.Value, "\n", `\n`))
			x.end("value")
		}
		x.end(item)
	}
	x.end(list)
}

func event(x *xmlWriter, e beyondtrust.SessionEvent) {
	x.start("event", "timestamp", unixText(e.Timestamp), "event_type", e.Type)
	x.actor("performed_by", e.PerformedBy)
	x.actor("destination", e.Destination)
	if e.Body != "" {
		if xmlSafe(e.Body) {
			x.elem("body", e.Body)
		} else {
			x.elem("body", sanitize(e.Body))
			x.elem("encoded_body", base64.StdEncoding.EncodeToString([]byte(e.Body)))
		}
	}
	if e.Filename != "" {
		x.elem("filename", e.Filename)
		x.elem("filesize", strconv.FormatInt(e.Filesize, 10))
	}
	if len(e.Files) > 0 {
		x.start("files")
		for _, f := range e.Files {
			x.start("file")
			x.elem("filename", f.Name)
			x.elem("filesize", strconv.FormatInt(f.Size, 10))
			x.end("file")
		}
		x.end("files")
	}
	if len(e.Data) > 0 {
		x.start("data")
		for _, v := range e.Data {
			x.start("value", "name", v.Name, "value", v.Value)
			x.end("value")
		}
		x.end("data")
	}
	if len(e.SystemInfo) > 0 {
		x.start("system_information")
		for _, c := range e.SystemInfo {
			category(x, c)
		}
		x.end("system_information")
	}
	x.end("event")
}

// category writes one system information category as the reference shows
// it ("System information and listings"): column headers under
// description (code in name, label as text), values under data/row, in
// column order and without names.
func category(x *xmlWriter, c beyondtrust.SystemInfoCategory) {
	x.start("category", "name", c.Name)
	x.start("description")
	for _, col := range c.Columns {
		x.elem("field", col.Label, "name", col.Code)
	}
	x.end("description")
	x.start("data")
	for _, row := range c.Rows {
		x.start("row")
		for _, v := range row {
			x.elem("field", v)
		}
		x.end("row")
	}
	x.end("data")
	x.end("category")
}

// summary writes one listing entry as the reference shows it ("System
// information and listings"): lsid and has_recording, nothing more. The
// external key the vendor says listings carry has no documented shape, so
// the simulator leaves it out, and never adds times or lseq.
func summary(x *xmlWriter, s *beyondtrust.Session) {
	x.start("session_summary", "lsid", s.LSID, "has_recording", boolText(s.RecordingViewURL != ""))
	x.end("session_summary")
}

func exitSurvey(x *xmlWriter, sv submittedSurvey, s *beyondtrust.Session) {
	x.start("exit_survey", "lsid", s.LSID, "timestamp", unixText(sv.survey.Timestamp))
	typ := "customer"
	if sv.kind == beyondtrust.RepSurvey {
		typ = "rep"
	}
	x.elem("submitted_by", sv.by, "type", typ)
	x.elem("primary_customer", s.PrimaryCustomer.Name, "gsnumber", s.PrimaryCustomer.GSNumber)
	x.elem("primary_rep", s.PrimaryRep.Name, "gsnumber", s.PrimaryRep.GSNumber, "id", s.PrimaryRep.ID)
	x.start("rep_list")
	for _, r := range s.Reps {
		representative(x, r)
	}
	x.end("rep_list")
	x.start("question_list")
	for i, ans := range sv.survey.Answers {
		x.start("question", "id", strconv.Itoa(i+1))
		x.elem("type", "text")
		x.elem("label", ans.Label)
		x.elem("name", ans.Name)
		x.elem("report_header", ans.Label)
		x.start("answer_list")
		for _, v := range strings.Split(ans.Value, ", ") {
			x.elem("answer", strings.ReplaceAll(v, "\n", `\n`))
		}
		x.end("answer_list")
		x.end("question")
	}
	x.end("question_list")
	x.end("exit_survey")
}
