package beyondtrust

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// headSize is how much of a response a ParseError quotes.
const headSize = 64

// ParseError reports a response that is not the XML the API promises, or a
// value in it that cannot be read.
type ParseError struct {
	// Head holds the first bytes of the response when the XML itself is
	// broken, so that an HTML login page or a proxy's error is recognisable.
	Head string
	Err  error
}

func (e *ParseError) Error() string {
	if e.Head == "" {
		return "malformed response: " + e.Err.Error()
	}
	return fmt.Sprintf("malformed XML response: %v; response begins %q", e.Err, e.Head)
}

func (e *ParseError) Unwrap() error { return e.Err }

// ResponseError is an <error> document the appliance sent instead of the
// report or command result, often with HTTP 200.
type ResponseError struct {
	Code    string // the code attribute, when present
	Message string
}

func (e *ResponseError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("appliance answered error %s: %s", e.Code, e.Message)
	}
	return "appliance answered error: " + e.Message
}

// ParseSessions reads a SupportSession (RS) or AccessSession (PRA) report.
// A "no data" error document yields an empty result; any other error
// document a *ResponseError; broken XML a *ParseError.
func ParseSessions(r io.Reader) ([]*Session, error) {
	return parseList(r, "session_list", "session", func(p *parser, se xml.StartElement, product string) (*Session, error) {
		s, err := p.session(se)
		if err != nil {
			return nil, err
		}
		s.Product = product
		if s.Product == "" {
			s.Product = productFromContent(s)
		}
		return s, nil
	})
}

// ParseListing reads a SupportSessionListing or AccessSessionListing report.
func ParseListing(r io.Reader) ([]SessionSummary, error) {
	return parseList(r, "session_summary_list", "session_summary", func(p *parser, se xml.StartElement, _ string) (SessionSummary, error) {
		return p.summary(se)
	})
}

// ParseSurveys reads a SupportCustExitSurvey or SupportRepExitSurvey report.
func ParseSurveys(r io.Reader, kind SurveyKind) ([]SurveyRecord, error) {
	return parseList(r, "exit_survey_list", "exit_survey", func(p *parser, se xml.StartElement, _ string) (SurveyRecord, error) {
		return p.surveyRecord(se, kind)
	})
}

// ParseAPIInfo reads the command API's get_api_info answer.
func ParseAPIInfo(r io.Reader) (*APIInfo, error) {
	p, err := newParser(r)
	if err != nil {
		return nil, err
	}
	defer p.release()
	root, err := p.root()
	if err != nil {
		return nil, err
	}
	if root.Name.Local == "error" {
		return nil, p.errorDocument(root)
	}
	if root.Name.Local != "api_information" {
		return nil, p.fail(fmt.Errorf("root element is <%s>, want <api_information>", root.Name.Local))
	}
	info := &APIInfo{Product: productFromNamespace(root), Permissions: map[string]string{}}
	err = p.children(root, func(se xml.StartElement) error {
		var err error
		switch se.Name.Local {
		case "api_version":
			info.Version, err = p.trimmed(se)
		case "company_name":
			info.CompanyName, err = p.trimmed(se)
		case "timestamp":
			info.Timestamp, err = p.time(se, "timestamp")
		case "permissions":
			err = p.children(se, func(perm xml.StartElement) error {
				v, err := p.trimmed(perm)
				info.Permissions[perm.Name.Local] = v
				return err
			})
		default:
			err = p.skip(se)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return info, p.end()
}

// ParseCommandResult reads the answer to a command that returns
// <success>…</success>, and returns its text.
func ParseCommandResult(r io.Reader) (string, error) {
	p, err := newParser(r)
	if err != nil {
		return "", err
	}
	defer p.release()
	root, err := p.root()
	if err != nil {
		return "", err
	}
	switch root.Name.Local {
	case "error":
		return "", p.errorDocument(root)
	case "success":
		msg, err := p.trimmed(root)
		if err != nil {
			return "", err
		}
		return msg, p.end()
	}
	return "", p.fail(fmt.Errorf("root element is <%s>, want <success>", root.Name.Local))
}

// parseList reads a list report: the root element holds item elements, each
// read by read, or the document is (or holds only) an <error>. A "no data"
// error is an empty result.
func parseList[T any](r io.Reader, rootName, item string, read func(p *parser, se xml.StartElement, product string) (T, error)) ([]T, error) {
	p, err := newParser(r)
	if err != nil {
		return nil, err
	}
	defer p.release()
	root, err := p.root()
	if err != nil {
		return nil, err
	}
	var out []T
	var docErr error
	switch root.Name.Local {
	case "error":
		docErr = p.errorDocument(root)
	case rootName:
		product := productFromNamespace(root)
		err = p.children(root, func(se xml.StartElement) error {
			switch se.Name.Local {
			case item:
				v, err := read(p, se, product)
				if err != nil {
					return err
				}
				out = append(out, v)
				return nil
			case "error":
				// Older appliances wrapped the error in the list element.
				docErr = p.errorDocument(se)
				return nil
			}
			return p.skip(se)
		})
		if err != nil {
			return nil, err
		}
		if len(out) > 0 {
			docErr = nil
		}
	default:
		return nil, p.fail(fmt.Errorf("root element is <%s>, want <%s>", root.Name.Local, rootName))
	}
	var re *ResponseError
	if errors.As(docErr, &re) && IsNoData(re.Message) {
		docErr = nil
	}
	if docErr != nil {
		return nil, docErr
	}
	if err := p.end(); err != nil {
		return nil, err
	}
	return out, nil
}

// productFromNamespace tells RS from PRA by the namespaces the root declares.
func productFromNamespace(root xml.StartElement) string {
	for _, a := range root.Attr {
		if a.Name.Local != "xmlns" && a.Name.Space != "xmlns" {
			continue
		}
		switch {
		case strings.Contains(a.Value, "bomgar.com"):
			return ProductRS
		case strings.Contains(a.Value, "beyondtrust.com/sra"):
			return ProductPRA
		}
	}
	return ""
}

// productFromContent guesses the product of a session whose document had no
// known namespace: jump groups and jumpoints exist only in PRA, public sites
// only in RS.
func productFromContent(s *Session) string {
	switch {
	case s.JumpGroup != (JumpGroup{}) || s.Jumpoint != (Ref{}):
		return ProductPRA
	case s.PublicSite != (Ref{}):
		return ProductRS
	}
	return ""
}

// parser walks the token stream of one response with a scanner; element
// nesting is checked here. Parsers are pooled: the response buffer, the
// interned names and the scratch space serve the next response. Every
// string a parser hands out is a copy, so the model keeps none of them.
type parser struct {
	s       *scanner
	data    []byte
	head    []byte
	scratch []SessionEvent // one session's events, see events
}

var parsers = sync.Pool{New: func() any { return &parser{s: newScanner(nil)} }}

// maxPooledBuffer is the largest response buffer kept for reuse.
const maxPooledBuffer = 4 << 20

// newParser reads the whole response: reports are parsed from memory, and
// the client asks for sessions in batches that keep responses small. The
// caller must release the parser.
func newParser(r io.Reader) (*parser, error) {
	p := parsers.Get().(*parser)
	data, err := readAll(p.data[:0], r)
	p.data = data
	if err != nil {
		p.release()
		return nil, fmt.Errorf("read response: %w", err)
	}
	p.s.reset(data)
	p.head = data[:min(len(data), headSize)]
	return p, nil
}

func (p *parser) release() {
	if cap(p.data) > maxPooledBuffer {
		p.data = nil
	}
	p.head = nil
	p.s.reset(nil)
	parsers.Put(p)
}

// readAll appends everything r holds to buf, sizing buf at once when r
// knows its length (a bytes.Reader, say).
func readAll(buf []byte, r io.Reader) ([]byte, error) {
	if sized, ok := r.(interface{ Len() int }); ok && cap(buf) < sized.Len()+1 {
		// One byte more than the content, so that the read that reports
		// EOF does not grow the buffer.
		buf = make([]byte, 0, sized.Len()+1)
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

func (p *parser) fail(err error) error {
	return &ParseError{Head: string(p.head), Err: err}
}

// token returns the next token; the end of input is an error here because
// every caller is inside an element that has not closed yet.
func (p *parser) token(t *tok) error {
	err := p.s.next(t)
	if err == nil && t.kind == tokEOF {
		err = p.s.eof()
	}
	if err != nil {
		return p.fail(err)
	}
	return nil
}

// root returns the document's root element.
func (p *parser) root() (xml.StartElement, error) {
	var t tok
	for {
		if err := p.s.next(&t); err != nil {
			return xml.StartElement{}, p.fail(err)
		}
		switch t.kind {
		case tokEOF:
			return xml.StartElement{}, p.fail(errors.New("empty response"))
		case tokStart:
			return t.start, nil
		case tokEnd:
			return xml.StartElement{}, p.fail(fmt.Errorf("unexpected </%s>", t.start.Name.Local))
		case tokText:
			if len(bytes.TrimSpace(t.text)) > 0 {
				return xml.StartElement{}, p.fail(errors.New("text before the root element"))
			}
		}
	}
}

// end checks that nothing but whitespace, comments and processing
// instructions follow the root element.
func (p *parser) end() error {
	var t tok
	for {
		if err := p.s.next(&t); err != nil {
			return p.fail(err)
		}
		switch t.kind {
		case tokEOF:
			return nil
		case tokStart, tokEnd:
			return p.fail(errors.New("content after the root element"))
		case tokText:
			if len(bytes.TrimSpace(t.text)) > 0 {
				return p.fail(errors.New("text after the root element"))
			}
		}
	}
}

// children calls fn for each child element of start, in order; fn must
// consume the child (through text, children or skip).
func (p *parser) children(start xml.StartElement, fn func(se xml.StartElement) error) error {
	var t tok
	for {
		if err := p.token(&t); err != nil {
			return err
		}
		switch t.kind {
		case tokStart:
			if err := fn(t.start); err != nil {
				return err
			}
		case tokEnd:
			return p.closes(start, t.start.Name)
		}
	}
}

// text returns the character data of start; child elements are skipped.
func (p *parser) text(start xml.StartElement) (string, error) {
	var t tok
	if err := p.token(&t); err != nil {
		return "", err
	}
	return p.rest(start, &t)
}

// rest is text from the token t on.
func (p *parser) rest(start xml.StartElement, t *tok) (string, error) {
	var s string
	for {
		switch t.kind {
		case tokText:
			if s == "" {
				s = p.s.str(t.text)
			} else {
				s += string(t.text)
			}
		case tokStart:
			if err := p.skip(t.start); err != nil {
				return "", err
			}
		case tokEnd:
			return s, p.closes(start, t.start.Name)
		}
		if err := p.token(t); err != nil {
			return "", err
		}
	}
}

// trimmed is text without surrounding white space, for names and numbers.
func (p *parser) trimmed(start xml.StartElement) (string, error) {
	s, err := p.text(start)
	return strings.TrimSpace(s), err
}

// skip consumes start and everything in it.
func (p *parser) skip(start xml.StartElement) error {
	return p.children(start, p.skip)
}

func (p *parser) closes(start xml.StartElement, end xml.Name) error {
	if end != start.Name {
		return p.fail(fmt.Errorf("element <%s> closed by </%s>", start.Name.Local, end.Local))
	}
	return nil
}

// errorDocument reads an <error> element into a *ResponseError.
func (p *parser) errorDocument(se xml.StartElement) error {
	msg, err := p.trimmed(se)
	if err != nil {
		return err
	}
	return &ResponseError{Code: attr(se, "code"), Message: msg}
}

// valueError wraps a value that cannot be read with where it was found.
func (p *parser) valueError(where string, err error) error {
	return &ParseError{Err: fmt.Errorf("%s: %w", where, err)}
}

// time reads an element with a Unix `timestamp` attribute, falling back to
// its ISO 8601 text.
func (p *parser) time(se xml.StartElement, where string) (time.Time, error) {
	txt, err := p.trimmed(se)
	if err != nil {
		return time.Time{}, err
	}
	t, err := parseTime(attr(se, "timestamp"), txt)
	if err != nil {
		return time.Time{}, p.valueError(where, err)
	}
	return t, nil
}

// Layouts the appliance's time text has been seen in.
var timeLayouts = []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05"}

// parseTime reads a Unix seconds value (or ISO text) from ts, else the ISO
// text txt; both empty is the zero time. The result is UTC.
func parseTime(ts, txt string) (time.Time, error) {
	if n, ok := unixSeconds(ts); ok {
		return time.Unix(n, 0).UTC(), nil
	}
	for _, v := range []string{strings.TrimSpace(ts), txt} {
		if v == "" {
			continue
		}
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return time.Unix(n, 0).UTC(), nil
		}
		for _, layout := range timeLayouts {
			if t, err := time.Parse(layout, v); err == nil {
				return t.UTC(), nil
			}
		}
		return time.Time{}, fmt.Errorf("cannot read time %q", v)
	}
	return time.Time{}, nil
}

// unixSeconds reads the common timestamp, plain decimal digits, without
// the general path's trimming and error values; anything else is left to
// that path.
func unixSeconds(v string) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// parseClock reads a duration written as HH:MM:SS (hours may exceed 99).
func parseClock(s string) (time.Duration, bool) {
	h, rest, ok1 := strings.Cut(s, ":")
	m, sec, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 {
		return 0, false
	}
	var total int64
	for _, part := range []struct {
		v    string
		unit int64
	}{{h, 3600}, {m, 60}, {sec, 1}} {
		n, err := strconv.ParseInt(part.v, 10, 64)
		if err != nil || n < 0 {
			return 0, false
		}
		total += n * part.unit
	}
	return time.Duration(total) * time.Second, true
}

// number reads an integer; anything else, such as "Unknown", reads as 0.
func number(s string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// boolean reads the appliance's booleans: 1/0 or true/false.
func boolean(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes":
		return true
	}
	return false
}

// attr returns the value of the attribute with that local name, or "".
func attr(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

func (p *parser) session(start xml.StartElement) (*Session, error) {
	s := &Session{LSID: attr(start, "lsid")}
	var durationText string
	err := p.children(start, func(se xml.StartElement) error {
		var err error
		var v string
		switch se.Name.Local {
		case "lsid":
			s.LSID, err = p.trimmed(se)
		case "session_type":
			s.Type, err = p.trimmed(se)
		case "lseq":
			v, err = p.trimmed(se)
			s.LSeq = number(v)
		case "start_time":
			s.StartTime, err = p.time(se, "session "+s.LSID+": start_time")
		case "end_time":
			s.EndTime, err = p.time(se, "session "+s.LSID+": end_time")
		case "duration":
			durationText, err = p.trimmed(se)
		case "public_site":
			s.PublicSite, err = p.ref(se)
		case "jump_group":
			s.JumpGroup = JumpGroup{ID: attr(se, "id"), Type: attr(se, "type")}
			s.JumpGroup.Name, err = p.trimmed(se)
		case "jumpoint":
			s.Jumpoint, err = p.ref(se)
		case "external_key":
			s.ExternalKey, err = p.text(se)
		case "custom_attributes":
			s.CustomAttributes, err = list(p, se, "custom_attribute", p.customAttribute)
		case "session_chat_view_url":
			s.ChatViewURL, err = p.trimmed(se)
		case "session_chat_download_url":
			s.ChatDownloadURL, err = p.trimmed(se)
		case "session_recording_view_url":
			s.RecordingViewURL, err = p.trimmed(se)
		case "session_recording_download_url":
			s.RecordingDownloadURL, err = p.trimmed(se)
		case "command_shell_recordings":
			s.ShellRecordings, err = list(p, se, "command_shell_recording", p.shellRecording)
		case "file_transfer_count":
			v, err = p.trimmed(se)
			s.FileTransferCount = int(number(v))
		case "file_move_count":
			v, err = p.trimmed(se)
			s.FileMoveCount = int(number(v))
		case "file_delete_count":
			v, err = p.trimmed(se)
			s.FileDeleteCount = int(number(v))
		case "primary_customer":
			s.PrimaryCustomer, err = p.person(se)
		case "primary_rep":
			s.PrimaryRep, err = p.person(se)
		case "customer_list":
			s.Customers, err = list(p, se, "customer", p.customer)
		case "rep_list":
			s.Reps, err = list(p, se, "representative", p.representative)
		case "cust_survey_list":
			s.CustomerSurveys, err = p.sessionSurveys(se, "cust_exit_survey", ActorCustomer)
		case "rep_survey_list":
			s.RepSurveys, err = p.sessionSurveys(se, "rep_exit_survey", ActorRepresentative)
		case "session_details":
			s.Events, err = p.events(se, s.LSID)
		default:
			err = p.skip(se)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if d, ok := parseClock(durationText); ok {
		s.Duration = d
	} else if s.Ended() && !s.StartTime.IsZero() {
		// An unreadable duration is recomputed rather than failing the
		// whole report over a field the times already imply.
		s.Duration = s.EndTime.Sub(s.StartTime)
	}
	return s, nil
}

// list reads the children of start named item with read, in order, and
// skips any others.
func list[T any](p *parser, start xml.StartElement, item string, read func(xml.StartElement) (T, error)) ([]T, error) {
	var out []T
	err := p.children(start, func(se xml.StartElement) error {
		if se.Name.Local != item {
			return p.skip(se)
		}
		v, err := read(se)
		if out == nil {
			// Lists here hold a few items or dozens; starting at up to 8
			// saves the first reallocations. Lists of large structs
			// (customers, representatives) start smaller, as they are
			// short and each spare place costs a few hundred bytes.
			var zero T
			out = make([]T, 0, min(8, max(2, 512/int(unsafe.Sizeof(zero)))))
		}
		out = append(out, v)
		return err
	})
	return out, err
}

func (p *parser) customAttribute(se xml.StartElement) (CustomAttribute, error) {
	value, err := p.text(se)
	return CustomAttribute{CodeName: attr(se, "code_name"), DisplayName: attr(se, "display_name"), Value: value}, err
}

func (p *parser) ref(se xml.StartElement) (Ref, error) {
	name, err := p.trimmed(se)
	return Ref{ID: attr(se, "id"), Name: name}, err
}

func (p *parser) person(se xml.StartElement) (Person, error) {
	name, err := p.trimmed(se)
	return Person{GSNumber: attr(se, "gsnumber"), ID: attr(se, "id"), Name: name}, err
}

// actor reads performed_by or destination; the same few names repeat in
// every event, so they are interned.
func (p *parser) actor(se xml.StartElement) (Actor, error) {
	a := Actor{Type: attr(se, "type"), GSNumber: attr(se, "gsnumber")}
	var t tok
	err := p.token(&t)
	if err != nil {
		return a, err
	}
	switch t.kind {
	case tokEnd:
		return a, p.closes(se, t.start.Name)
	case tokText:
		if name := bytes.TrimSpace(t.text); len(name) <= 64 {
			a.Name = p.s.intern(name)
		} else {
			a.Name = p.s.str(name)
		}
		err = p.token(&t)
		if err == nil && t.kind == tokEnd {
			return a, p.closes(se, t.start.Name)
		}
	}
	// Anything more than plain text: read it the general way.
	if err != nil {
		return a, err
	}
	rest, err := p.rest(se, &t)
	a.Name = strings.TrimSpace(a.Name + rest)
	return a, err
}

func (p *parser) shellRecording(start xml.StartElement) (ShellRecording, error) {
	rec := ShellRecording{Instance: attr(start, "instance")}
	err := p.children(start, func(se xml.StartElement) error {
		var err error
		switch se.Name.Local {
		case "view_url":
			rec.ViewURL, err = p.trimmed(se)
		case "download_url":
			rec.DownloadURL, err = p.trimmed(se)
		default:
			err = p.skip(se)
		}
		return err
	})
	return rec, err
}

func (p *parser) customer(start xml.StartElement) (Customer, error) {
	c := Customer{GSNumber: attr(start, "gsnumber")}
	err := p.children(start, func(se xml.StartElement) error {
		var err error
		var v string
		switch se.Name.Local {
		case "username", "public_ip", "private_ip", "hostname", "os":
			err = p.machineField(se, machine{&c.Username, &c.PublicIP, &c.PrivateIP, &c.Hostname, &c.OS})
		case "primary_cust":
			v, err = p.trimmed(se)
			c.Primary = boolean(v)
		case "info":
			err = p.children(se, func(f xml.StartElement) error {
				var err error
				switch f.Name.Local {
				case "name":
					c.Info.Name, err = p.trimmed(f)
				case "company":
					c.Info.Company, err = p.trimmed(f)
				case "company_code":
					c.Info.CompanyCode, err = p.trimmed(f)
				case "issue":
					c.Info.Issue, err = p.trimmed(f)
				case "details":
					c.Info.Details, err = p.text(f)
				default:
					err = p.skip(f)
				}
				return err
			})
		default:
			err = p.skip(se)
		}
		return err
	})
	return c, err
}

// machine points at the fields customers and representatives share: who
// they are logged in as and the computer they joined from.
type machine struct{ username, publicIP, privateIP, hostname, os *string }

func (p *parser) machineField(se xml.StartElement, m machine) error {
	var dst *string
	switch se.Name.Local {
	case "username":
		dst = m.username
	case "public_ip":
		dst = m.publicIP
	case "private_ip":
		dst = m.privateIP
	case "hostname":
		dst = m.hostname
	default:
		dst = m.os
	}
	var err error
	*dst, err = p.trimmed(se)
	return err
}

func (p *parser) representative(start xml.StartElement) (Representative, error) {
	r := Representative{GSNumber: attr(start, "gsnumber"), ID: attr(start, "id")}
	err := p.children(start, func(se xml.StartElement) error {
		var err error
		var v string
		switch se.Name.Local {
		case "username", "public_ip", "private_ip", "hostname", "os":
			err = p.machineField(se, machine{&r.Username, &r.PublicIP, &r.PrivateIP, &r.Hostname, &r.OS})
		case "display_name":
			r.DisplayName, err = p.trimmed(se)
		case "public_display_name":
			r.PublicDisplayName, err = p.trimmed(se)
		case "private_display_name":
			r.PrivateDisplayName, err = p.trimmed(se)
		case "session_owner":
			v, err = p.trimmed(se)
			r.SessionOwner = boolean(v)
		case "primary_rep":
			v, err = p.trimmed(se)
			r.Primary = boolean(v)
		case "invited":
			v, err = p.trimmed(se)
			r.Invited = boolean(v)
		case "seconds_involved":
			v, err = p.trimmed(se)
			r.SecondsInvolved = number(v)
		default:
			err = p.skip(se)
		}
		return err
	})
	return r, err
}

// surveyValue undoes the appliance's escaping of newlines in survey answers,
// which it writes as a literal backslash-n.
func surveyValue(s string) string { return strings.ReplaceAll(s, `\n`, "\n") }

// sessionSurveys reads cust_survey_list or rep_survey_list: one element per
// survey, each holding <value name=".." value=".."/> answers.
func (p *parser) sessionSurveys(start xml.StartElement, item, submittedBy string) ([]Survey, error) {
	return list(p, start, item, func(se xml.StartElement) (Survey, error) {
		sv := Survey{GSNumber: attr(se, "gsnumber"), SubmittedBy: submittedBy}
		var err error
		if sv.Timestamp, err = parseTime(attr(se, "timestamp"), ""); err != nil {
			return sv, p.valueError(item, err)
		}
		sv.Answers, err = list(p, se, "value", func(v xml.StartElement) (SurveyAnswer, error) {
			text, err := p.text(v)
			value, ok := attrOK(v, "value")
			if !ok {
				value = text
			}
			return SurveyAnswer{Name: attr(v, "name"), Value: surveyValue(value)}, err
		})
		return sv, err
	})
}

func attrOK(se xml.StartElement, local string) (string, bool) {
	for _, a := range se.Attr {
		if a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}

// events reads session_details. A session has dozens to thousands of
// events: they are gathered in the parser's scratch and copied once at
// their exact number.
func (p *parser) events(start xml.StartElement, lsid string) ([]SessionEvent, error) {
	p.scratch = p.scratch[:0]
	err := p.children(start, func(e xml.StartElement) error {
		if e.Name.Local != "event" {
			return p.skip(e)
		}
		ev, err := p.event(e, lsid)
		p.scratch = append(p.scratch, ev)
		return err
	})
	out := slices.Clone(p.scratch)
	clear(p.scratch)
	return out, err
}

func (p *parser) event(start xml.StartElement, lsid string) (SessionEvent, error) {
	e := SessionEvent{Type: attr(start, "event_type")}
	var err error
	if e.Timestamp, err = parseTime(attr(start, "timestamp"), ""); err != nil {
		return e, p.valueError("session "+lsid+": event", err)
	}
	var encoded string
	hasEncoded := false
	err = p.children(start, func(se xml.StartElement) error {
		var err error
		var v string
		switch se.Name.Local {
		case "performed_by":
			e.PerformedBy, err = p.actor(se)
		case "destination":
			e.Destination, err = p.actor(se)
		case "body":
			e.Body, err = p.text(se)
		case "encoded_body":
			encoded, err = p.text(se)
			hasEncoded = true
		case "filename":
			e.Filename, err = p.trimmed(se)
		case "filesize":
			v, err = p.trimmed(se)
			e.Filesize = number(v)
		case "files":
			e.Files, err = list(p, se, "file", p.file)
		case "data":
			e.Data, err = list(p, se, "value", func(v xml.StartElement) (NameValue, error) {
				return NameValue{Name: attr(v, "name"), Value: attr(v, "value")}, p.skip(v)
			})
		case "system_information":
			e.SystemInfo, err = list(p, se, "category", p.category)
		default:
			err = p.skip(se)
		}
		return err
	})
	if err != nil {
		return e, err
	}
	if hasEncoded {
		// encoded_body carries text that XML cannot (control characters), so
		// it wins over any sanitised body next to it.
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(encoded), ""))
		if err != nil {
			return e, p.valueError("session "+lsid+": event encoded_body", err)
		}
		e.Body = string(b)
	}
	return e, nil
}

// file reads files/file, whose name and size have been seen both as child
// elements and as attributes.
func (p *parser) file(start xml.StartElement) (File, error) {
	f := File{Name: attr(start, "filename"), Size: number(attr(start, "filesize"))}
	if f.Name == "" {
		f.Name = attr(start, "name")
	}
	if f.Size == 0 {
		f.Size = number(attr(start, "size"))
	}
	err := p.children(start, func(se xml.StartElement) error {
		var err error
		var v string
		switch se.Name.Local {
		case "filename", "name":
			f.Name, err = p.trimmed(se)
		case "filesize", "size":
			v, err = p.trimmed(se)
			f.Size = number(v)
		default:
			err = p.skip(se)
		}
		return err
	})
	return f, err
}

// category reads one system_information category: description/field gives
// the columns (code in name, label as text), data/row/field the values of
// each row in column order. Row fields are read by position; a name
// attribute on them, which the reference does not show, is ignored.
func (p *parser) category(start xml.StartElement) (SystemInfoCategory, error) {
	c := SystemInfoCategory{Name: attr(start, "name")}
	err := p.children(start, func(se xml.StartElement) error {
		switch se.Name.Local {
		case "description":
			cols, err := list(p, se, "field", func(f xml.StartElement) (SystemInfoColumn, error) {
				label, err := p.trimmed(f)
				return SystemInfoColumn{Code: attr(f, "name"), Label: label}, err
			})
			c.Columns = appendList(c.Columns, cols)
			return err
		case "data":
			rows, err := list(p, se, "row", func(row xml.StartElement) ([]string, error) {
				return list(p, row, "field", p.trimmed)
			})
			c.Rows = appendList(c.Rows, rows)
			return err
		}
		return p.skip(se)
	})
	return c, err
}

// appendList appends a freshly read list to dst, taking the list itself
// when dst is empty rather than copying it.
func appendList[T any](dst, list []T) []T {
	if dst == nil {
		return list
	}
	return append(dst, list...)
}

// summary reads one session_summary: lsid and has_recording as attributes,
// as the reference shows them; child elements of those names and an
// external key (attribute or element) are read too. Anything else, times
// included, is skipped: listings are not relied on for them.
func (p *parser) summary(start xml.StartElement) (SessionSummary, error) {
	s := SessionSummary{
		LSID:         attr(start, "lsid"),
		ExternalKey:  attr(start, "external_key"),
		HasRecording: boolean(attr(start, "has_recording")),
	}
	err := p.children(start, func(se xml.StartElement) error {
		var err error
		var v string
		switch se.Name.Local {
		case "lsid":
			s.LSID, err = p.trimmed(se)
		case "external_key":
			s.ExternalKey, err = p.text(se)
		case "has_recording":
			v, err = p.trimmed(se)
			s.HasRecording = boolean(v)
		default:
			err = p.skip(se)
		}
		return err
	})
	return s, err
}

func (p *parser) surveyRecord(start xml.StartElement, kind SurveyKind) (SurveyRecord, error) {
	rec := SurveyRecord{LSID: attr(start, "lsid"), Kind: kind}
	rec.Survey.SubmittedBy = string(kind)
	var err error
	if rec.Survey.Timestamp, err = parseTime(attr(start, "timestamp"), ""); err != nil {
		return rec, p.valueError("exit_survey "+rec.LSID, err)
	}
	err = p.children(start, func(se xml.StartElement) error {
		var err error
		switch se.Name.Local {
		case "lsid":
			rec.LSID, err = p.trimmed(se)
		case "timestamp":
			rec.Survey.Timestamp, err = p.time(se, "exit_survey "+rec.LSID+": timestamp")
		case "submitted_by":
			// The report names the type (customer or rep); the kind asked for
			// already says it, in the session model's words.
			err = p.skip(se)
		case "primary_customer":
			rec.PrimaryCustomer, err = p.person(se)
		case "primary_rep":
			rec.PrimaryRep, err = p.person(se)
		case "rep_list":
			rec.Reps, err = list(p, se, "representative", p.representative)
		case "question_list":
			rec.Survey.Answers, err = list(p, se, "question", p.question)
		default:
			err = p.skip(se)
		}
		return err
	})
	if kind == RepSurvey {
		rec.Survey.GSNumber = rec.PrimaryRep.GSNumber
	} else {
		rec.Survey.GSNumber = rec.PrimaryCustomer.GSNumber
	}
	return rec, err
}

// question reads one question of an exit survey report; several answers
// (a multiple-choice question) are joined with ", ".
func (p *parser) question(start xml.StartElement) (SurveyAnswer, error) {
	var a SurveyAnswer
	var header string
	var answers []string
	err := p.children(start, func(se xml.StartElement) error {
		var err error
		switch se.Name.Local {
		case "name":
			a.Name, err = p.trimmed(se)
		case "label":
			a.Label, err = p.trimmed(se)
		case "report_header":
			header, err = p.trimmed(se)
		case "answer_list":
			answers, err = list(p, se, "answer", func(ans xml.StartElement) (string, error) {
				v, err := p.text(ans)
				return surveyValue(v), err
			})
		default:
			err = p.skip(se)
		}
		return err
	})
	if a.Label == "" {
		a.Label = header
	}
	a.Value = strings.Join(answers, ", ")
	return a, err
}
