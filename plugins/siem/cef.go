package siem

import (
	"strconv"
	"strings"

	bt "switchboard/engine/beyondtrust"
)

// cefEscape writes a CEF header field (header) or extension value. In a
// header field backslash and pipe get a backslash and a line break, which
// would end the record, becomes a space. In a value backslash and equals
// sign get a backslash, line breaks are written \n (CR LF and LF) and \r
// (a lone CR), and pipes stay as they are. Other control bytes but TAB (NUL,
// ESC, DEL…) become a space everywhere: CEF has no escape for them, and a
// syslog receiver that frames with NUL would cut the record there.
func cefEscape(b *strings.Builder, s string, header bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\', header && c == '|', !header && c == '=':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\r' && i+1 < len(s) && s[i+1] == '\n':
			continue // the LF that follows is the line break
		case header && (c == '\n' || c == '\r'):
			b.WriteByte(' ')
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < 0x20 && c != '\t', c == 0x7f:
			b.WriteByte(' ')
		default:
			b.WriteByte(c)
		}
	}
}

// cefSeverity ranks event types 0–10: changes on the endpoint and commands
// above plain activity.
func cefSeverity(typ string) int {
	switch {
	case typ == "Remote Shell Event", typ == "Special Action Executed", strings.HasPrefix(typ, "Registry"), typ == bt.EventFileDeleted:
		return 6
	case typ == bt.EventFileUpload, typ == bt.EventFileDownload, typ == "Directory Created", typ == "File Transfer Complete":
		return 4
	}
	return 3
}

// CEF formats an event as one ArcSight CEF record (version 0), from the
// same fields as the ECS mapping.
func CEF(e *Event, r Redaction) string {
	d := getDoc()
	defer putDoc(d)
	return cef(d, e, r)
}

// cef maps the event into o, then reads the record's fields from it.
func cef(o sink, e *Event, r Redaction) string {
	ecs(o, e, r)
	product := productName(str(o, "beyondtrust.product"))
	name := e.Type
	if m := str(o, "message"); m != "" && e.Source == nil {
		name = m
	}
	var b strings.Builder
	b.Grow(512)
	b.WriteString("CEF:0|BeyondTrust|")
	cefEscape(&b, product, true)
	b.WriteString("||") // the appliance's version is not in its reports
	cefEscape(&b, e.Kind, true)
	b.WriteByte('|')
	cefEscape(&b, name, true)
	b.WriteByte('|')
	b.WriteString(strconv.Itoa(cefSeverity(e.Type)))
	b.WriteByte('|')
	first := true
	ext := func(k, v string) {
		if v == "" {
			return
		}
		if !first {
			b.WriteByte(' ')
		}
		first = false
		b.WriteString(k)
		b.WriteByte('=')
		cefEscape(&b, v, false)
	}
	ext("rt", strconv.FormatInt(e.Time.UnixMilli(), 10))
	ext("externalId", e.ID)
	ext("cat", e.Type)
	ext("act", str(o, "event.action"))
	ext("dvchost", e.Host)
	ext("deviceExternalId", e.ApplianceID)
	ext("suser", str(o, "user.name"))
	ext("suid", str(o, "user.id"))
	ext("src", str(o, "source.ip"))
	ext("shost", str(o, "source.domain"))
	ext("duser", firstOf(str(o, "user.target.name"), str(o, "beyondtrust.destination.name")))
	ext("dhost", str(o, "host.name"))
	ext("fname", str(o, "file.name"))
	ext("filePath", str(o, "file.path"))
	if n, ok := o.get("file.size").(int64); ok {
		ext("fsize", strconv.FormatInt(n, 10))
	}
	ext("fileHash", str(o, "file.hash.sha256"))
	ext("msg", firstOf(str(o, "process.command_line"), str(o, "event.reason"), str(o, "message")))
	ext("request", str(o, "url.original"))
	if e.Kind == KindSummary && e.Session != nil {
		ext("start", strconv.FormatInt(e.Session.StartTime.UnixMilli(), 10))
		if e.Session.Ended() {
			ext("end", strconv.FormatInt(e.Session.EndTime.UnixMilli(), 10))
		}
	}
	ext("cs1Label", "lsid")
	ext("cs1", str(o, "beyondtrust.session.id"))
	if g := str(o, "group.name"); g != "" {
		ext("cs2Label", "jumpGroup")
		ext("cs2", g)
	} else if site := str(o, "beyondtrust.public_site.name"); site != "" {
		ext("cs2Label", "publicSite")
		ext("cs2", site)
	}
	if t := firstOf(str(o, "process.title"), str(o, "process.executable")); t != "" {
		ext("cs3Label", "window")
		ext("cs3", t)
	}
	if t := str(o, "beyondtrust.performed_by.type"); t != "" {
		ext("cs4Label", "performedByType")
		ext("cs4", t)
	}
	if t := str(o, "beyondtrust.destination.type"); t != "" {
		ext("cs5Label", "destinationType")
		ext("cs5", t)
	}
	if e.Session != nil && e.Session.LSeq != 0 {
		ext("cn1Label", "lseq")
		ext("cn1", strconv.FormatInt(e.Session.LSeq, 10))
	}
	return b.String()
}

func str(o sink, dotted string) string { return o.getS(dotted) }

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
