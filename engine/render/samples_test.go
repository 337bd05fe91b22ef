package render

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
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
// Each is a report in the shapes of shared/reference/beyondtrust-api.md,
// read by the real parser: testdata/sessions/<name>.xml, or the package's
// own sample session.
var samples = []sample{
	{"typical", "UTC", SampleSession},
	{"berlin", "Europe/Berlin", SampleSession},
	{"long_unicode_chat", "Asia/Tokyo", fromXML("long_unicode_chat")},
	{"no_customer", "UTC", noCustomer},
	{"several_reps", "America/New_York", fromXML("several_reps")},
	{"primary_rep_unlisted", "UTC", fromXML("primary_rep_unlisted")},
	{"pra", "UTC", fromXML("pra")},
	{"surveys", "UTC", fromXML("surveys")},
	{"empty", "UTC", fromXML("empty")},
	{"escaping", "UTC", escapingSession},
}

// fromXML returns a loader of testdata/sessions/<name>.xml, which must
// hold exactly one session.
func fromXML(name string) func() *bt.Session {
	return func() *bt.Session {
		b, err := os.ReadFile(filepath.Join("testdata", "sessions", name+".xml"))
		if err != nil {
			panic(err)
		}
		ss, err := bt.ParseSessions(bytes.NewReader(b))
		if err != nil || len(ss) != 1 {
			panic(fmt.Sprintf("%s.xml: %d sessions, %v", name, len(ss), err))
		}
		return ss[0]
	}
}

var (
	noCustomer      = fromXML("no_customer")
	escapingSession = fromXML("escaping")
)

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

// escapingCompany is the name the plain-text requirement is stated with;
// testdata/sessions/escaping.xml holds it.
const escapingCompany = `R&D <Ops> "East"`
