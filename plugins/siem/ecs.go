package siem

import (
	"net"
	"path"
	"strconv"
	"strings"
	"time"

	bt "switchboard/engine/beyondtrust"
)

// Redacted replaces text a configuration must not forward.
const Redacted = "[redacted]"

// Redaction says what is removed before an event leaves.
type Redaction struct {
	// Chat replaces chat and note bodies with Redacted.
	Chat bool
	// Paths keeps a file's base name and drops its directory.
	Paths bool
}

// sink receives an event's fields by dotted path; get reads one back.
type sink interface {
	set(dotted string, v any)
	get(dotted string) any
	// setS and getS are set and get for a string, without boxing it.
	setS(dotted, v string)
	getS(dotted string) string
}

// obj is a JSON object under construction; set creates nested objects
// along a dotted path, so the ECS mapping reads like the field list.
type obj map[string]any

func (o obj) set(dotted string, v any) {
	if s, ok := v.(string); ok && s == "" {
		return
	}
	m := o
	for {
		head, rest, ok := strings.Cut(dotted, ".")
		if !ok {
			m[dotted] = v
			return
		}
		next, ok := m[head].(obj)
		if !ok {
			next = obj{}
			m[head] = next
		}
		m, dotted = next, rest
	}
}

func (o obj) setS(dotted, v string) { o.set(dotted, v) }

func (o obj) getS(dotted string) string {
	s, _ := o.get(dotted).(string)
	return s
}

func (o obj) get(dotted string) any {
	var cur any = o
	for _, part := range strings.Split(dotted, ".") {
		m, ok := cur.(obj)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// productName is the observer.product value.
func productName(p string) string {
	if p == bt.ProductPRA {
		return "Privileged Remote Access"
	}
	return "Remote Support"
}

// categorize returns event.category and event.type for an event type,
// after Sekoia's PRA Sessions format, with ECS's allowed values where
// Sekoia uses others (File Deleted: deletion, not delete).
func categorize(typ string) (category, kind string) {
	switch {
	case typ == bt.EventSessionStart:
		return "session", "start"
	case typ == bt.EventSessionEnd:
		return "session", "end"
	case strings.HasPrefix(typ, "Conference"):
		return "configuration", "change"
	case typ == bt.EventFileDeleted:
		return "file", "deletion"
	case typ == bt.EventFileUpload, typ == "Directory Created":
		return "file", "creation"
	case typ == bt.EventFileDownload:
		return "file", "access"
	case strings.HasPrefix(typ, "Registry"):
		return "registry", "change"
	case typ == bt.EventSystemInfo:
		return "host", "info"
	}
	return "session", "info"
}

// ECS maps an event to Elastic Common Schema fields; what ECS has no field
// for goes under beyondtrust.*.
func ECS(e *Event, r Redaction) map[string]any {
	o := obj{}
	ecs(o, e, r)
	return o
}

// ecs writes an event's ECS fields into o: a nested map (ECS) or a flat
// document written straight to JSON (Encode).
func ecs(o sink, e *Event, r Redaction) {
	s := e.Session
	o.setS("@timestamp", e.Time.UTC().Format(time.RFC3339Nano))
	o.setS("ecs.version", "8.17.0")
	category, typ := categorize(e.Type)
	if e.Source == nil && e.Kind != KindSummary {
		category, typ = "session", "info"
	}
	o.setS("event.kind", "event")
	o.set("event.category", []string{category})
	o.set("event.type", []string{typ})
	o.setS("event.action", e.Kind)
	o.setS("event.code", e.Type)
	o.setS("event.id", e.ID)
	o.setS("event.provider", "switchboard")
	if e.Index >= 0 {
		o.set("event.sequence", e.Index)
	}
	product := bt.ProductRS
	if s != nil && s.Product != "" {
		product = s.Product
	}
	o.setS("event.dataset", "beyondtrust."+product)
	o.setS("observer.vendor", "BeyondTrust")
	o.setS("observer.product", productName(product))
	o.setS("observer.hostname", e.Host)
	o.setS("beyondtrust.appliance_id", e.ApplianceID)
	o.setS("beyondtrust.product", product)
	if e.Test {
		o.set("tags", []string{"switchboard-test"})
		o.setS("message", "Switchboard test event: the destination is reachable and accepts events.")
	}
	if s != nil {
		o.setS("beyondtrust.session.id", s.LSID)
		if s.LSeq != 0 {
			o.set("beyondtrust.session.lseq", s.LSeq)
		}
		if s.JumpGroup.Name != "" || s.JumpGroup.ID != "" {
			o.setS("group.name", s.JumpGroup.Name)
			o.setS("group.id", s.JumpGroup.ID)
			o.setS("beyondtrust.jump_group.type", s.JumpGroup.Type)
		}
		o.setS("beyondtrust.jumpoint.name", s.Jumpoint.Name)
		o.setS("beyondtrust.public_site.name", s.PublicSite.Name)
		o.setS("beyondtrust.public_site.id", s.PublicSite.ID)
	}
	if len(e.Fields) > 0 {
		o.set("beyondtrust.outbound", e.Fields)
		o.setS("message", e.Type+" (outbound event)")
	}
	related := &relatedSet{}
	if e.Source != nil {
		ecsSessionEvent(o, e, r, related)
	} else if e.Kind == KindSummary && s != nil {
		ecsSummary(o, s, related)
	}
	related.put(o)
}

// ecsSessionEvent maps one session_details entry: its parties, data
// values, file, chat text and system information.
func ecsSessionEvent(o sink, e *Event, r Redaction, rel *relatedSet) {
	src := e.Source
	by := resolve(e.Session, src.PerformedBy)
	to := resolve(e.Session, src.Destination)
	if by != nil {
		putParty(o, "beyondtrust.performed_by", by)
		if by.Type != bt.ActorSystem {
			actor(o, by.Name)
			o.setS("user.id", by.UserID)
			if ip := net.ParseIP(known(by.PrivateIP)); ip != nil && o.get("source.ip") == nil {
				o.setS("source.ip", ip.String())
			}
			rel.user(by.Name, by.Username)
			if by.Type == bt.ActorCustomer {
				endpoint(o, by)
			}
		}
	}
	if to != nil {
		putParty(o, "beyondtrust.destination", to)
		if to.Type == bt.ActorCustomer {
			endpoint(o, to)
			o.setS("user.target.name", known(to.Username))
		}
		if to.Type != bt.ActorSystem && to.Type != "everyone" {
			rel.user(to.Name, to.Username)
		}
	}
	body := src.Body
	if body != "" {
		if r.Chat {
			body = Redacted
		}
		o.setS("event.reason", body)
		o.setS("message", body)
	}
	values := map[string]string{}
	for _, nv := range src.Data {
		values[nv.Name] = nv.Value
	}
	for _, nv := range src.Data { // in report order: the last of two wins, every time
		ecsData(o, e, nv.Name, nv.Value, r)
	}
	if len(values) > 0 {
		if r.Paths {
			for _, k := range []string{"path", "filename"} {
				if v, ok := values[k]; ok {
					values[k] = baseName(v)
				}
			}
		}
		if r.Chat {
			if _, ok := values["body"]; ok {
				values["body"] = Redacted
			}
		}
		o.set("beyondtrust.data", values)
	}
	if src.Filename != "" {
		putFile(o, src.Filename, r)
	}
	if src.Filesize != 0 {
		o.set("file.size", src.Filesize)
	}
	if len(src.Files) > 0 {
		o.set("beyondtrust.files", fileList(src.Files, r))
		if src.Filename == "" {
			putFile(o, src.Files[0].Name, r)
			o.set("file.size", src.Files[0].Size)
		}
	}
	if len(src.SystemInfo) > 0 {
		o.set("beyondtrust.system_information", systemInfo(src.SystemInfo))
	}
	for _, k := range []string{"source.ip", "source.nat.ip", "host.ip"} {
		if v, ok := o.get(k).(string); ok {
			rel.ip(v)
		}
	}
	if v, ok := o.get("host.name").(string); ok {
		rel.host(v)
	}
}

// actor applies Sekoia's rule for a performer's name: an IP address is
// source.ip, a dotted name without spaces source.domain, anything else
// user.name.
func actor(o sink, name string) {
	switch {
	case name == "":
	case net.ParseIP(name) != nil:
		o.setS("source.ip", name)
	case strings.Contains(name, ".") && !strings.Contains(name, " "):
		o.setS("source.domain", name)
	default:
		o.setS("user.name", name)
	}
}

// endpoint puts a customer's machine (the endpoint) under host.*.
func endpoint(o sink, p *Party) {
	o.setS("host.name", known(p.Hostname))
	o.setS("host.os.full", known(p.OS))
	if ip := net.ParseIP(known(p.PrivateIP)); ip != nil {
		o.set("host.ip", []string{ip.String()})
	}
}

func putParty(o sink, prefix string, p *Party) {
	k := partyKeys(prefix)
	o.setS(k[0], p.Type)
	o.setS(k[1], p.GSNumber)
	o.setS(k[2], p.Name)
	o.setS(k[3], known(p.Username))
	o.setS(k[4], p.UserID)
	o.setS(k[5], known(p.PublicIP))
	o.setS(k[6], known(p.PrivateIP))
	o.setS(k[7], known(p.Hostname))
	o.setS(k[8], known(p.OS))
}

// partyKeys are a party's field paths under prefix, built once for the
// prefixes every event uses.
func partyKeys(prefix string) *[9]string {
	for _, k := range []*[9]string{&performedByKeys, &destinationKeys, &bareKeys} {
		if strings.HasPrefix(k[0], prefix) && len(k[0]) == len(prefix)+len(".type") {
			return k
		}
	}
	return newPartyKeys(prefix)
}

var (
	performedByKeys = *newPartyKeys("beyondtrust.performed_by")
	destinationKeys = *newPartyKeys("beyondtrust.destination")
	bareKeys        = *newPartyKeys("p")
)

func newPartyKeys(prefix string) *[9]string {
	var k [9]string
	for i, name := range []string{"type", "gsnumber", "name", "username", "id", "public_ip", "private_ip", "hostname", "os"} {
		k[i] = prefix + "." + name
	}
	return &k
}

// ecsData maps one data value as Sekoia's PRA Sessions format does.
func ecsData(o sink, e *Event, name, v string, r Redaction) {
	switch name {
	case "body":
		if r.Chat {
			v = Redacted
		}
		o.setS("event.reason", v)
	case "failure_reason":
		o.setS("event.reason", v)
	case "hostname":
		o.setS("host.name", known(v))
	case "os":
		o.setS("host.os.full", known(v))
	case "user_id":
		o.setS("user.target.id", v)
	case "username":
		o.setS("user.target.name", v)
	case "exeName":
		o.setS("process.executable", v)
	case "windowName":
		o.setS("process.title", v)
	case "action_name":
		o.setS("event.action", v)
	case "download_url", "view_url":
		o.setS("url.original", v)
	case "path":
		putFile(o, v, r)
	case "filename":
		putFile(o, v, r)
	case "filesize":
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			o.set("file.size", n)
		}
	case "sha256":
		o.setS("file.hash.sha256", strings.ToLower(v))
	case "key_name":
		o.setS("registry.key", v)
	case "value_name":
		o.setS("registry.value", v)
	case "value_data":
		o.set("registry.data.strings", []string{v})
		o.setS("registry.data.type", "REG_SZ")
	case "text":
		if e.Type == "Remote Shell Event" {
			o.setS("process.command_line", v)
		}
	case "private_ip":
		if ip := net.ParseIP(v); ip != nil {
			o.setS("source.ip", ip.String())
		}
	case "public_ip":
		if host, port, err := net.SplitHostPort(v); err == nil && net.ParseIP(host) != nil {
			o.setS("source.nat.ip", host)
			if n, err := strconv.Atoi(port); err == nil {
				o.set("source.nat.port", n)
			}
		}
	case "state":
		o.setS("beyondtrust.state", v)
	case "owner":
		o.setS("beyondtrust.owner", v)
	}
}

// putFile sets file.name, and for a name with a directory file.path and
// file.directory (unless paths are redacted).
func putFile(o sink, p string, r Redaction) {
	base := baseName(p)
	o.setS("file.name", base)
	if base == p || r.Paths {
		return
	}
	o.setS("file.path", p)
	o.setS("file.directory", strings.TrimRight(p[:len(p)-len(base)], `\/`))
}

// baseName is the last element of a Windows or POSIX path.
func baseName(p string) string {
	if i := strings.LastIndexAny(p, `\/`); i >= 0 && i < len(p)-1 {
		return p[i+1:]
	}
	return path.Clean(p)
}

// systemInfo turns categories into rows of column code → value.
func systemInfo(cats []bt.SystemInfoCategory) []map[string]any {
	out := make([]map[string]any, 0, len(cats))
	for _, c := range cats {
		rows := make([]map[string]string, 0, len(c.Rows))
		for _, row := range c.Rows {
			m := map[string]string{}
			for i, v := range row {
				key := "field" + strconv.Itoa(i+1)
				if i < len(c.Columns) {
					key = c.Columns[i].Code
					if key == "" {
						key = c.Columns[i].Label
					}
				}
				m[key] = v
			}
			rows = append(rows, m)
		}
		out = append(out, map[string]any{"name": c.Name, "rows": rows})
	}
	return out
}

// ecsSummary maps the session as a whole: times, members, counts and the
// recording and chat URLs.
func ecsSummary(o sink, s *bt.Session, rel *relatedSet) {
	o.setS("event.start", s.StartTime.UTC().Format(time.RFC3339Nano))
	if s.Ended() {
		o.setS("event.end", s.EndTime.UTC().Format(time.RFC3339Nano))
		o.set("event.duration", s.EndTime.Sub(s.StartTime).Nanoseconds())
	}
	o.setS("message", "Session "+s.LSID+" summary")
	o.setS("beyondtrust.session.type", s.Type)
	o.setS("beyondtrust.session.external_key", s.ExternalKey)
	o.setS("beyondtrust.session.chat_view_url", s.ChatViewURL)
	o.setS("beyondtrust.session.chat_download_url", s.ChatDownloadURL)
	o.setS("beyondtrust.session.recording_view_url", s.RecordingViewURL)
	o.setS("beyondtrust.session.recording_download_url", s.RecordingDownloadURL)
	o.setS("url.original", s.RecordingViewURL)
	o.set("beyondtrust.session.file_transfer_count", s.FileTransferCount)
	o.set("beyondtrust.session.file_move_count", s.FileMoveCount)
	o.set("beyondtrust.session.file_delete_count", s.FileDeleteCount)
	o.set("beyondtrust.session.event_count", len(s.Events))
	if len(s.ShellRecordings) > 0 {
		recs := make([]map[string]string, 0, len(s.ShellRecordings))
		for _, r := range s.ShellRecordings {
			recs = append(recs, map[string]string{"instance": r.Instance, "view_url": r.ViewURL, "download_url": r.DownloadURL})
		}
		o.set("beyondtrust.session.shell_recordings", recs)
	}
	if len(s.CustomAttributes) > 0 {
		attrs := map[string]string{}
		for _, a := range s.CustomAttributes {
			attrs[a.CodeName] = a.Value
		}
		o.set("beyondtrust.session.custom_attributes", attrs)
	}
	if s.PrimaryRep.Name != "" {
		o.setS("user.name", s.PrimaryRep.Name)
		o.setS("user.id", s.PrimaryRep.ID)
	}
	var customers, reps []map[string]any
	for _, c := range s.Customers {
		p := &Party{Type: bt.ActorCustomer, GSNumber: c.GSNumber, Name: c.Info.Name, Username: c.Username, PublicIP: c.PublicIP, PrivateIP: c.PrivateIP, Hostname: c.Hostname, OS: c.OS}
		if c.Primary {
			endpoint(o, p)
		}
		m := partyMap(p)
		m["primary"] = c.Primary
		customers = append(customers, m)
		rel.user(c.Info.Name, c.Username)
		rel.host(known(c.Hostname))
		rel.ip(known(c.PrivateIP))
	}
	for _, r := range s.Reps {
		p := &Party{Type: bt.ActorRepresentative, GSNumber: r.GSNumber, Name: r.DisplayName, Username: r.Username, UserID: r.ID, PublicIP: r.PublicIP, PrivateIP: r.PrivateIP, Hostname: r.Hostname, OS: r.OS}
		m := partyMap(p)
		m["primary"], m["session_owner"], m["seconds_involved"] = r.Primary, r.SessionOwner, r.SecondsInvolved
		reps = append(reps, m)
		rel.user(r.DisplayName, r.Username)
		rel.ip(known(r.PrivateIP))
	}
	if customers != nil {
		o.set("beyondtrust.session.customers", customers)
	}
	if reps != nil {
		o.set("beyondtrust.session.representatives", reps)
	}
}

func partyMap(p *Party) map[string]any {
	m := obj{}
	putParty(m, "p", p)
	inner, _ := m["p"].(obj)
	return inner
}

// relatedSet gathers related.user, related.ip and related.hosts without
// duplicates, in the order seen.
type relatedSet struct{ users, ips, hosts []string }

func appendNew(list []string, v string) []string {
	if v == "" {
		return list
	}
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

func (r *relatedSet) user(names ...string) {
	for _, n := range names {
		r.users = appendNew(r.users, known(n))
	}
}

func (r *relatedSet) ip(v string) {
	if ip := net.ParseIP(v); ip != nil {
		r.ips = appendNew(r.ips, ip.String())
	}
}

func (r *relatedSet) host(v string) { r.hosts = appendNew(r.hosts, v) }

func (r *relatedSet) put(o sink) {
	if len(r.users) > 0 {
		o.set("related.user", r.users)
	}
	if len(r.ips) > 0 {
		o.set("related.ip", r.ips)
	}
	if len(r.hosts) > 0 {
		o.set("related.hosts", r.hosts)
	}
}

// fileList lists the files of a file event, their directories dropped
// when paths are redacted.
func fileList(files []bt.File, r Redaction) []map[string]any {
	out := make([]map[string]any, 0, len(files))
	for _, f := range files {
		name := f.Name
		if r.Paths {
			name = baseName(name)
		}
		out = append(out, map[string]any{"name": name, "size": f.Size})
	}
	return out
}
