package render

import (
	"fmt"
	"strings"
	"time"

	bt "switchboard/engine/beyondtrust"
)

// sample is a named session for golden tests, with the zone its report is
// shown in.
type sample struct {
	name    string
	zone    string
	session func() *bt.Session
}

// samples are the sessions every default template is rendered against.
var samples = []sample{
	{"typical", "UTC", SampleSession},
	{"berlin", "Europe/Berlin", SampleSession},
	{"long_unicode_chat", "Asia/Tokyo", longUnicodeChat},
	{"no_customer", "UTC", noCustomer},
	{"several_reps", "America/New_York", severalReps},
	{"pra", "UTC", praSession},
	{"surveys", "UTC", surveySession},
	{"empty", "UTC", emptySession},
	{"escaping", "UTC", escapingSession},
}

var sampleStart = time.Date(2025, 6, 2, 22, 45, 0, 0, time.UTC)

func at(sec int) time.Time { return sampleStart.Add(time.Duration(sec) * time.Second) }

func chatEvent(sec int, from bt.Actor, text string) bt.SessionEvent {
	return bt.SessionEvent{Timestamp: at(sec), Type: bt.EventChatMessage, PerformedBy: from, Body: text}
}

var (
	actorCustomer = bt.Actor{Type: bt.ActorCustomer, GSNumber: "2", Name: "Jürgen Müller"}
	actorRep      = bt.Actor{Type: bt.ActorRepresentative, GSNumber: "1", Name: "Aiko Tanaka"}
)

// chatSession is an ended session with n chat lines and little else: the
// benchmark's typical session at n = 50.
func chatSession(n int) *bt.Session {
	s := &bt.Session{
		LSID: "5f1e0c7d2a9b4e3f8c6d1a2b3c4d5e6f", Product: "rs", Type: "support",
		StartTime: sampleStart, EndTime: at(60 * n), PublicSite: bt.Ref{ID: "1", Name: "Support"},
		PrimaryCustomer: bt.Person{GSNumber: "2", Name: actorCustomer.Name},
		PrimaryRep:      bt.Person{GSNumber: "1", ID: "4", Name: actorRep.Name},
		Customers: []bt.Customer{{GSNumber: "2", Hostname: "PC-17", OS: "Windows 10", Primary: true,
			Info: bt.CustomerInfo{Name: actorCustomer.Name, Company: "Müller & Söhne GmbH", Issue: "Printer"}}},
		Reps:        []bt.Representative{{GSNumber: "1", ID: "4", DisplayName: actorRep.Name, Primary: true, SessionOwner: true}},
		ExternalKey: "T20250602.0100",
	}
	for i := range n {
		from := actorRep
		if i%2 == 1 {
			from = actorCustomer
		}
		s.Events = append(s.Events, chatEvent(60*i, from, fmt.Sprintf("Message %d: the printer on floor %d shows error E-%03d again.", i+1, i%5, i)))
	}
	return s
}

func longUnicodeChat() *bt.Session {
	s := chatSession(52)
	lines := []string{
		"こんにちは、プリンターが動きません。",
		"Grüße aus Köln — „Anführungszeichen“ und ‚einfache‘",
		"emoji 👍🏽 and ZWJ family 👨‍👩‍👧 and flags 🇩🇪🇯🇵",
		"עברית ומספרים 123 mixed with English",
		"combining: e\u0301 a\u0308 — Zalgo-free",
		"tab\tseparated\tvalues and trailing spaces   ",
		"first line\nsecond line\n\nafter an empty line",
	}
	for i, l := range lines {
		s.Events[i*7].Body = l
	}
	return s
}

func noCustomer() *bt.Session {
	return &bt.Session{
		LSID: "0a0b0c0d0e0f10111213141516171819", Product: "rs", Type: "support",
		StartTime: sampleStart, EndTime: at(95), PublicSite: bt.Ref{ID: "2", Name: "Internal IT"},
		PrimaryRep: bt.Person{GSNumber: "1", Name: actorRep.Name},
		Reps:       []bt.Representative{{GSNumber: "1", DisplayName: actorRep.Name, SessionOwner: true, SecondsInvolved: 95}},
		Events: []bt.SessionEvent{
			{Timestamp: at(30), Type: bt.EventNoteAdded, PerformedBy: actorRep, Body: "Unattended maintenance via Jump Client."},
		},
	}
}

func severalReps() *bt.Session {
	s := SampleSession()
	s.PrimaryRep = bt.Person{GSNumber: "5", Name: "Chris O'Neil"}
	s.Reps = append(s.Reps, bt.Representative{GSNumber: "5", ID: "21", DisplayName: "Chris O'Neil", Primary: true, SecondsInvolved: 1200})
	s.Reps[0].Primary = false
	s.ExternalKey = ""
	s.CustomAttributes = nil
	s.ShellRecordings = nil
	s.RecordingViewURL, s.ChatViewURL = "", ""
	return s
}

func praSession() *bt.Session {
	return &bt.Session{
		LSID: "9f8e7d6c5b4a39281706f5e4d3c2b1a0", Product: "pra", Type: "support",
		StartTime: sampleStart, EndTime: at(4000), Duration: 4000 * time.Second,
		JumpGroup:  bt.JumpGroup{ID: "3", Type: "shared", Name: "Datacenter Linux"},
		Jumpoint:   bt.Ref{ID: "2", Name: "DC1 Jumpoint"},
		PrimaryRep: bt.Person{GSNumber: "1", Name: "Root Operator"},
		Reps:       []bt.Representative{{GSNumber: "1", DisplayName: "Root Operator", Primary: true, SessionOwner: true, SecondsInvolved: 4000}},
		CustomAttributes: []bt.CustomAttribute{
			{CodeName: "change", DisplayName: "Change Request", Value: "CHG-7781"},
			{CodeName: "empty", DisplayName: "Not Filled", Value: ""},
		},
		ShellRecordings: []bt.ShellRecording{
			{Instance: "1", ViewURL: "https://pra.example.com/shell?i=1&view=1", DownloadURL: "https://pra.example.com/shell?i=1"},
			{Instance: "2", DownloadURL: "https://pra.example.com/shell?i=2"},
		},
		RecordingDownloadURL: "https://pra.example.com/recording?lsid=9f8e",
		Events: []bt.SessionEvent{
			{Timestamp: at(100), Type: bt.EventFileDeleted, PerformedBy: bt.Actor{Type: bt.ActorRepresentative, Name: "Root Operator"}, Filename: "/tmp/old.log"},
		},
	}
}

func surveySession() *bt.Session {
	s := noCustomer()
	s.PrimaryCustomer = bt.Person{GSNumber: "2", Name: "Walk-in Customer"}
	s.CustomerSurveys = []bt.Survey{
		{SubmittedBy: "Walk-in Customer", Timestamp: at(100), Answers: []bt.SurveyAnswer{
			{Name: "rating", Value: "4"},
			{Name: "comments", Label: "Anything else?", Value: ""},
		}},
		{SubmittedBy: "", Timestamp: at(130), Answers: []bt.SurveyAnswer{
			{Name: "rating", Label: "Rating", Value: "2"},
			{Name: "comments", Label: "Comments", Value: "Took long.\nBut solved."},
		}},
	}
	return s
}

func emptySession() *bt.Session {
	return &bt.Session{LSID: "ffffffffffffffffffffffffffffffff", StartTime: sampleStart}
}

// escapingCompany is the name the plain-text requirement is stated with.
const escapingCompany = `R&D <Ops> "East"`

func escapingSession() *bt.Session {
	s := chatSession(3)
	s.Customers[0].Info.Company = escapingCompany
	s.Customers[0].Info.Name = `O'Brien & Co <b>bold</b>`
	s.Events[0].Body = `<script>alert("x")</script> & 'quotes' = ` + "`backticks`" + ` {{not a tag}}`
	s.CustomAttributes = []bt.CustomAttribute{{CodeName: "amp", DisplayName: "A&B", Value: `x < y > z "q"`}}
	s.ExternalKey = strings.Repeat("&", 3)
	return s
}
