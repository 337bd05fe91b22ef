package siem

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	bt "switchboard/engine/beyondtrust"
)

var t0 = time.Unix(1733239944, 0).UTC()

func nv(kv ...string) []bt.NameValue {
	var out []bt.NameValue
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, bt.NameValue{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

var (
	system        = bt.Actor{Type: bt.ActorSystem, Name: "Privileged Remote Access"}
	admin         = bt.Actor{Type: bt.ActorRepresentative, GSNumber: "2", Name: "Admin"}
	customerActor = bt.Actor{Type: bt.ActorCustomer, GSNumber: "1", Name: "Sekoia.io integration"}
)

// praSession is a PRA session in the shapes of the reference's section 8
// (Sekoia's test messages), one member of each kind.
func praSession(events ...bt.SessionEvent) *bt.Session {
	return &bt.Session{
		LSID: "1f344f8a38d14d1597b1c4188e0b6a55", LSeq: 8, Product: bt.ProductPRA, Type: "support",
		StartTime: t0, EndTime: t0.Add(15 * time.Minute),
		JumpGroup:  bt.JumpGroup{ID: "3", Type: "shared", Name: "Sekoia.io integration"},
		Customers:  []bt.Customer{{GSNumber: "1", Hostname: "WIN-ENDPOINT", OS: "Windows 11", PrivateIP: "10.0.0.5", PublicIP: "4.3.2.1:50677", Primary: true}},
		PrimaryRep: bt.Person{GSNumber: "2", ID: "1", Name: "Admin"},
		Reps:       []bt.Representative{{GSNumber: "2", ID: "1", Username: "admin", DisplayName: "Admin", PrivateIP: "Unknown"}},
		Events:     events,
	}
}

// flat lists an ECS document's leaves as dotted keys.
func flat(t *testing.T, doc map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if m, ok := v.(map[string]any); ok {
			for k, x := range m {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, x)
			}
			return
		}
		out[prefix] = v
	}
	walk("", m)
	return out
}

// ecsCases are the reference's PRA event types and the RS ones, with the
// ECS fields each documents.
var ecsCases = []struct {
	name  string
	event bt.SessionEvent
	want  map[string]any
}{
	{"Session Start", bt.SessionEvent{Type: "Session Start"}, map[string]any{
		"event.category": []any{"session"}, "event.type": []any{"start"}, "event.code": "Session Start",
		"observer.vendor": "BeyondTrust", "observer.product": "Privileged Remote Access", "group.name": "Sekoia.io integration",
		"beyondtrust.session.id": "1f344f8a38d14d1597b1c4188e0b6a55", "beyondtrust.jump_group.type": "shared", "@timestamp": "2024-12-03T15:32:24Z",
	}},
	{"Session End", bt.SessionEvent{Type: "Session End"}, map[string]any{"event.category": []any{"session"}, "event.type": []any{"end"}}},
	{"Chat Message", bt.SessionEvent{Type: "Chat Message", PerformedBy: system, Destination: bt.Actor{Type: "everyone", Name: "Everyone"}, Body: "line one\nline two"}, map[string]any{
		"event.reason": "line one\nline two", "event.type": []any{"info"}, "user.name": nil, "beyondtrust.destination.type": "everyone",
	}},
	{"Conference Member Added (customerActor)", bt.SessionEvent{Type: "Conference Member Added", PerformedBy: customerActor, Data: nv("name", "Sekoia.io integration", "private_ip", "10.0.0.5", "public_ip", "4.3.2.1:50677", "hostname", "WIN-ENDPOINT", "os", "Windows 11")}, map[string]any{
		"user.name": "Sekoia.io integration", "source.ip": "10.0.0.5", "source.nat.ip": "4.3.2.1", "source.nat.port": float64(50677),
		"host.name": "WIN-ENDPOINT", "host.os.full": "Windows 11", "event.category": []any{"configuration"}, "event.type": []any{"change"},
	}},
	{"Conference Member Added (rep)", bt.SessionEvent{Type: "Conference Member Added", PerformedBy: admin, Data: nv("private_name", "Admin", "username", "admin", "user_id", "1", "private_ip", "Unknown", "public_ip", "[2a01:e0a::1]:56722", "os", "Windows 10")}, map[string]any{
		"user.name": "Admin", "user.target.name": "admin", "user.target.id": "1", "source.nat.ip": "2a01:e0a::1", "source.nat.port": float64(56722),
		"host.os.full": "Windows 10", "source.ip": nil, "user.id": "1",
	}},
	{"Conference Member Departed (FQDN)", bt.SessionEvent{Type: "Conference Member Departed", PerformedBy: bt.Actor{Type: bt.ActorCustomer, Name: "host.example.com"}}, map[string]any{
		"source.domain": "host.example.com", "user.name": nil, "event.category": []any{"configuration"},
	}},
	{"Conference Member Departed (IP)", bt.SessionEvent{Type: "Conference Member Departed", PerformedBy: bt.Actor{Type: bt.ActorCustomer, Name: "192.0.2.7"}}, map[string]any{"source.ip": "192.0.2.7"}},
	{"Conference Member State Changed", bt.SessionEvent{Type: "Conference Member State Changed", PerformedBy: customerActor, Data: nv("state", "disconnected")}, map[string]any{
		"beyondtrust.state": "disconnected", "event.type": []any{"change"},
	}},
	{"Conference Owner Changed", bt.SessionEvent{Type: "Conference Owner Changed", Destination: bt.Actor{Type: bt.ActorSystem, Name: "Pre-start Conference"}, Data: nv("owner", "Admin")}, map[string]any{
		"beyondtrust.owner": "Admin", "event.category": []any{"configuration"},
	}},
	{"Directory Created", bt.SessionEvent{Type: "Directory Created", PerformedBy: admin, Destination: customerActor, Data: nv("path", `C:\Users\jdoe\New folder`)}, map[string]any{
		"file.path": `C:\Users\jdoe\New folder`, "file.name": "New folder", "file.directory": `C:\Users\jdoe`, "event.category": []any{"file"}, "event.type": []any{"creation"},
	}},
	{"File Deleted", bt.SessionEvent{Type: "File Deleted", PerformedBy: admin, Destination: customerActor, Data: nv("filename", `C:\tmp\a.txt`, "filesize", "12")}, map[string]any{
		"file.name": "a.txt", "file.path": `C:\tmp\a.txt`, "file.size": float64(12), "event.type": []any{"deletion"}, "host.name": "WIN-ENDPOINT",
	}},
	{"File Download", bt.SessionEvent{Type: "File Download", PerformedBy: customerActor, Destination: admin, Data: nv("filename", "report.pdf", "filesize", "1024")}, map[string]any{
		"file.name": "report.pdf", "file.size": float64(1024), "user.name": "Sekoia.io integration", "event.type": []any{"access"},
	}},
	{"File Upload", bt.SessionEvent{Type: "File Upload", PerformedBy: admin, Destination: customerActor, Data: nv("filename", `C:\Users\jdoe\Downloads\image.png`, "filesize", "1296708")}, map[string]any{
		"file.name": "image.png", "file.size": float64(1296708), "user.name": "Admin", "event.category": []any{"file"}, "event.type": []any{"creation"},
	}},
	{"Session Foreground Window Changed", bt.SessionEvent{Type: "Session Foreground Window Changed", PerformedBy: system, Data: nv("exeName", "explorer.exe", "windowName", "Downloads")}, map[string]any{
		"process.executable": "explorer.exe", "process.title": "Downloads", "event.category": []any{"session"}, "event.type": []any{"info"},
	}},
	{"Session Mouse Left Clicked", bt.SessionEvent{Type: "Session Mouse Left Clicked", PerformedBy: system, Data: nv("exeName", "cmd.exe", "windowName", "Command Prompt", "targetName", "OK", "targetType", "button")}, map[string]any{
		"process.executable": "cmd.exe", "process.title": "Command Prompt", "beyondtrust.data.targetName": "OK",
	}},
	{"Session Window Closed", bt.SessionEvent{Type: "Session Window Closed", PerformedBy: system, Data: nv("exeName", "notepad.exe", "windowName", "a.txt - Notepad")}, map[string]any{
		"process.executable": "notepad.exe", "process.title": "a.txt - Notepad",
	}},
	{"Special Action Executed", bt.SessionEvent{Type: "Special Action Executed", PerformedBy: admin, Data: nv("action_name", "Sécurité Windows (Ctrl-Alt-Suppr)")}, map[string]any{
		"event.action": "Sécurité Windows (Ctrl-Alt-Suppr)", "user.name": "Admin",
	}},
	{"Remote Shell Event", bt.SessionEvent{Type: "Remote Shell Event", PerformedBy: system, Data: nv("text", "whoami /all")}, map[string]any{
		"process.command_line": "whoami /all", "event.action": "remote-shell-event",
	}},
	{"File Transfer Complete", bt.SessionEvent{Type: "File Transfer Complete", PerformedBy: customerActor, Destination: admin, Data: nv("filename", "dump.bin", "sha256", "ABCDEF")}, map[string]any{
		"file.name": "dump.bin", "file.hash.sha256": "abcdef", "event.category": []any{"session"},
	}},
	{"Registry value changed", bt.SessionEvent{Type: "Registry Value Changed", PerformedBy: admin, Data: nv("key_name", `HKLM\Software\X`, "value_name", "Enabled", "value_data", "1")}, map[string]any{
		"registry.key": `HKLM\Software\X`, "registry.value": "Enabled", "registry.data.strings": []any{"1"}, "event.category": []any{"registry"},
	}},
	// Remote Support event types (reference: beyondtrust-api.md, session_details).
	{"RS Session Note Added", bt.SessionEvent{Type: "Session Note Added", PerformedBy: admin, Body: "Spooler restarted."}, map[string]any{
		"event.reason": "Spooler restarted.", "message": "Spooler restarted.", "user.name": "Admin",
	}},
	{"RS System Information Retrieved", bt.SessionEvent{Type: "System Information Retrieved", PerformedBy: admin, SystemInfo: []bt.SystemInfoCategory{{
		Name: "Drives", Columns: []bt.SystemInfoColumn{{Code: "letter", Label: "Drive"}, {Code: "free", Label: "Free Space"}},
		Rows: [][]string{{"C:", "41.2 GB"}, {"D:", "310.0 GB"}},
	}}}, map[string]any{
		"event.category": []any{"host"}, "beyondtrust.system_information": []any{map[string]any{"name": "Drives", "rows": []any{
			map[string]any{"letter": "C:", "free": "41.2 GB"}, map[string]any{"letter": "D:", "free": "310.0 GB"},
		}}},
	}},
	{"RS File Upload with filename element", bt.SessionEvent{Type: "File Upload", PerformedBy: admin, Destination: customerActor, Filename: "/tmp/x.sh", Filesize: 99}, map[string]any{
		"file.name": "x.sh", "file.path": "/tmp/x.sh", "file.directory": "/tmp", "file.size": float64(99),
	}},
}

// TestECSPerEventType checks, for every PRA event type of the reference's
// table and the RS ones, the ECS fields it documents.
func TestECSPerEventType(t *testing.T) {
	t.Parallel()
	for _, c := range ecsCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ev := c.event
			ev.Timestamp = t0
			s := praSession(ev)
			events := SessionEvents(s, Origin{ApplianceID: "Default", Host: "access.example.com"})
			got := flat(t, ECS(&events[0], Redaction{}))
			for k, want := range c.want {
				if !reflect.DeepEqual(got[k], want) {
					t.Errorf("%s = %#v, want %#v", k, got[k], want)
				}
			}
			if id := got["event.id"]; id != "1f344f8a38d14d1597b1c4188e0b6a55:0:"+Slug(c.event.Type) {
				t.Errorf("event.id = %v", id)
			}
		})
	}
}

func TestSessionEventsIDsAndSummary(t *testing.T) {
	t.Parallel()
	s := praSession(bt.SessionEvent{Type: "Session Start", Timestamp: t0}, bt.SessionEvent{Type: "Chat Message", Timestamp: t0, PerformedBy: admin, Body: "hi"}, bt.SessionEvent{Type: "Session End", Timestamp: t0})
	s.RecordingViewURL = "https://access.example.com/session_download?lsid=x&dl_action=recording&view=1"
	s.ChatViewURL = "https://access.example.com/session_download?lsid=x&dl_action=chat&view=1"
	events := SessionEvents(s, Origin{ApplianceID: "Default", Host: "access.example.com"})
	var ids []string
	for _, e := range events {
		ids = append(ids, e.ID)
	}
	want := []string{
		"1f344f8a38d14d1597b1c4188e0b6a55:0:session-start", "1f344f8a38d14d1597b1c4188e0b6a55:1:chat-message",
		"1f344f8a38d14d1597b1c4188e0b6a55:2:session-end", "1f344f8a38d14d1597b1c4188e0b6a55:8:summary",
	}
	if !reflect.DeepEqual(ids, want) {
		t.Fatalf("ids %v, want %v", ids, want)
	}
	sum := flat(t, ECS(&events[3], Redaction{}))
	for k, v := range map[string]any{
		"event.duration": float64(15 * time.Minute), "url.original": s.RecordingViewURL, "beyondtrust.session.chat_view_url": s.ChatViewURL,
		"host.name": "WIN-ENDPOINT", "event.code": SummaryType, "user.name": "Admin",
	} {
		if !reflect.DeepEqual(sum[k], v) {
			t.Errorf("summary %s = %#v, want %#v", k, sum[k], v)
		}
	}
}

func TestRedaction(t *testing.T) {
	t.Parallel()
	s := praSession(
		bt.SessionEvent{Type: "Chat Message", Timestamp: t0, PerformedBy: admin, Body: "the password is hunter2"},
		bt.SessionEvent{Type: "File Upload", Timestamp: t0, PerformedBy: admin, Destination: customerActor, Data: nv("filename", `C:\Users\jdoe\secret-project\plan.docx`, "filesize", "5")},
	)
	events := SessionEvents(s, Origin{Host: "access.example.com"})
	r := Redaction{Chat: true, Paths: true}
	for _, format := range []string{FormatECS, FormatCEF, FormatRaw} {
		for i := range events[:2] {
			enc, err := Encode(format, &events[i], r)
			if err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{"hunter2", "secret-project", "jdoe"} {
				if strings.Contains(string(enc.Body), secret) {
					t.Errorf("%s event %d shows %q: %s", format, i, secret, enc.Body)
				}
			}
		}
	}
	enc, _ := Encode(FormatECS, &events[1], r)
	if !strings.Contains(string(enc.Body), `"name":"plan.docx"`) {
		t.Errorf("the file name should stay: %s", enc.Body)
	}
}
