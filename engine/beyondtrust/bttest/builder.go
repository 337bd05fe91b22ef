package bttest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	"switchboard/engine/beyondtrust"
)

// Customer is who a session supports.
type Customer struct {
	Name, Username, Hostname, OS, PublicIP, PrivateIP string
	// Issue submission details (Remote Support front-end survey).
	Company, CompanyCode, Issue, Details string
}

// Rep is a representative (RS) or user (PRA).
type Rep struct {
	ID, Username, DisplayName, Hostname, OS, PublicIP, PrivateIP string
}

// SessionSpec starts a session.
type SessionSpec struct {
	LSID        string // generated when empty
	ExternalKey string
	PublicSite  string // RS; "Default" when empty
	JumpGroup   string // PRA
	Jumpoint    string // PRA
	// Customer is nil for a session without one (a PRA jump, a rep-only
	// session).
	Customer  *Customer
	Rep       Rep
	Custom    []beyondtrust.CustomAttribute
	Recording bool // screen recording on: recording URLs are reported
	// StartedAgo, when positive, plays a session already under way: it
	// began this long before the appliance's clock, and After moves the
	// session's own time, never past the appliance's clock, instead of
	// that clock. A demo plays minutes of session in seconds this way
	// while the appliance's clock stays the host's, as a real one does.
	StartedAgo time.Duration
}

// LiveSession scripts one session's life on the appliance. Each step is
// stamped with the appliance's clock (move it with After or Advance), or
// the session's own time (SessionSpec.StartedAgo) and, where the appliance
// would, queues an outbound event on every sender.
type LiveSession struct {
	a         *Appliance
	s         *beyondtrust.Session
	at        time.Time // the session's own time; zero: the appliance's clock
	nextGS    int
	joined    map[string]time.Time // gsnumber → when the member joined
	byName    map[string]beyondtrust.Actor
	recording bool
}

var systemActor = beyondtrust.Actor{Type: beyondtrust.ActorSystem, GSNumber: "0", Name: "Remote Support"}

func newLSID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

// Begin starts a session: the customer (if any) and the representative join.
func (a *Appliance) Begin(spec SessionSpec) *LiveSession {
	a.mu.Lock()
	defer a.mu.Unlock()
	if spec.LSID == "" {
		spec.LSID = newLSID()
	}
	if spec.PublicSite == "" {
		spec.PublicSite = "Default"
	}
	a.lseq++
	now := a.now()
	var at time.Time
	if spec.StartedAgo > 0 {
		now = now.Add(-spec.StartedAgo)
		at = now
	}
	s := &beyondtrust.Session{
		LSID: spec.LSID, LSeq: a.lseq, Product: a.product, Type: "support", StartTime: now,
		ExternalKey: spec.ExternalKey, CustomAttributes: slices.Clone(spec.Custom),
	}
	if a.product == beyondtrust.ProductPRA {
		s.JumpGroup = beyondtrust.JumpGroup{ID: "1", Type: "shared", Name: spec.JumpGroup}
		s.Jumpoint = beyondtrust.Ref{ID: "1", Name: spec.Jumpoint}
	} else {
		s.PublicSite = beyondtrust.Ref{ID: "1", Name: spec.PublicSite}
	}
	a.sessions[s.LSID] = s
	l := &LiveSession{a: a, s: s, at: at, nextGS: 1, joined: map[string]time.Time{}, byName: map[string]beyondtrust.Actor{"": systemActor}, recording: spec.Recording}
	l.add(beyondtrust.SessionEvent{Type: beyondtrust.EventSessionStart, PerformedBy: systemActor})
	a.outbound(s, "support_conference_begin", nil)
	if c := spec.Customer; c != nil {
		gs := l.member(c.Name, beyondtrust.ActorCustomer)
		s.PrimaryCustomer = beyondtrust.Person{GSNumber: gs, Name: c.Name}
		s.Customers = append(s.Customers, beyondtrust.Customer{
			GSNumber: gs, Username: c.Username, PublicIP: c.PublicIP, PrivateIP: c.PrivateIP, Hostname: c.Hostname, OS: c.OS, Primary: true,
			Info: beyondtrust.CustomerInfo{Name: c.Name, Company: c.Company, CompanyCode: c.CompanyCode, Issue: c.Issue, Details: c.Details},
		})
		l.add(beyondtrust.SessionEvent{Type: beyondtrust.EventMemberAdded, PerformedBy: l.byName[c.Name], Data: []beyondtrust.NameValue{
			{Name: "hostname", Value: c.Hostname}, {Name: "os", Value: c.OS}, {Name: "private_ip", Value: c.PrivateIP}, {Name: "public_ip", Value: c.PublicIP},
		}})
		a.outbound(s, "support_conference_member_added", url.Values{
			"type": {"customer"}, "username": {c.Username}, "display_name": {c.Name}, "conference_name": {c.Name},
		})
	}
	l.join(spec.Rep, true)
	return l
}

// member gives a new member its gsnumber and records when it joined.
func (l *LiveSession) member(name, typ string) string {
	gs := strconv.Itoa(l.nextGS)
	l.nextGS++
	l.joined[gs] = l.now()
	l.byName[name] = beyondtrust.Actor{Type: typ, GSNumber: gs, Name: name}
	return gs
}

func (l *LiveSession) add(e beyondtrust.SessionEvent) {
	e.Timestamp = l.now()
	l.s.Events = append(l.s.Events, e)
}

func (l *LiveSession) join(r Rep, owner bool) {
	gs := l.member(r.DisplayName, beyondtrust.ActorRepresentative)
	l.s.Reps = append(l.s.Reps, beyondtrust.Representative{
		GSNumber: gs, ID: r.ID, Username: r.Username, DisplayName: r.DisplayName, PublicDisplayName: r.DisplayName,
		PrivateDisplayName: r.DisplayName, PublicIP: r.PublicIP, PrivateIP: r.PrivateIP, Hostname: r.Hostname, OS: r.OS,
		SessionOwner: owner, Primary: owner, Invited: !owner,
	})
	if owner {
		l.s.PrimaryRep = beyondtrust.Person{GSNumber: gs, ID: r.ID, Name: r.DisplayName}
	}
	l.add(beyondtrust.SessionEvent{Type: beyondtrust.EventMemberAdded, PerformedBy: l.byName[r.DisplayName], Data: []beyondtrust.NameValue{{Name: "user_id", Value: r.ID}}})
	if owner {
		l.add(beyondtrust.SessionEvent{Type: "Conference Owner Changed", PerformedBy: systemActor, Destination: l.byName[r.DisplayName]})
	}
	name := ""
	if l.s.PrimaryCustomer.Name != "" {
		name = l.s.PrimaryCustomer.Name
	}
	l.a.outbound(l.s, "support_conference_member_added", url.Values{
		"type": {"representative"}, "username": {r.Username}, "user_id": {r.ID}, "display_name": {r.DisplayName}, "conference_name": {name},
	})
}

// step runs fn under the appliance's lock.
func (l *LiveSession) step(fn func()) *LiveSession {
	l.a.mu.Lock()
	defer l.a.mu.Unlock()
	fn()
	return l
}

// actor finds a member by display name; unknown names panic, as a script
// that names a member who never joined is a bug in the test.
func (l *LiveSession) actor(name string) beyondtrust.Actor {
	a, ok := l.byName[name]
	if !ok {
		panic(fmt.Sprintf("bttest: %q is not a member of session %s", name, l.s.LSID))
	}
	return a
}

// LSID is the session's id.
func (l *LiveSession) LSID() string { return l.s.LSID }

// After moves the appliance's clock (or the session's own time, see
// SessionSpec.StartedAgo) forward before the next step.
func (l *LiveSession) After(d time.Duration) *LiveSession {
	l.a.mu.Lock()
	defer l.a.mu.Unlock()
	if l.at.IsZero() {
		l.a.offset += d
	} else {
		l.at = l.at.Add(d)
	}
	return l
}

// now is when the next step happens; the caller holds the appliance's lock.
func (l *LiveSession) now() time.Time {
	now := l.a.now()
	if l.at.IsZero() || l.at.After(now) {
		return now
	}
	return l.at
}

// Join adds another representative.
func (l *LiveSession) Join(r Rep) *LiveSession { return l.step(func() { l.join(r, false) }) }

// Chat adds a chat message from a member (by name) to everyone.
func (l *LiveSession) Chat(from, text string) *LiveSession {
	return l.step(func() {
		l.add(beyondtrust.SessionEvent{Type: beyondtrust.EventChatMessage, PerformedBy: l.actor(from), Body: text})
	})
}

// PrivateChat adds a chat message from one member to another.
func (l *LiveSession) PrivateChat(from, to, text string) *LiveSession {
	return l.step(func() {
		l.add(beyondtrust.SessionEvent{Type: beyondtrust.EventChatMessage, PerformedBy: l.actor(from), Destination: l.actor(to), Body: text})
	})
}

// SystemMessage adds a chat line written by the appliance itself.
func (l *LiveSession) SystemMessage(text string) *LiveSession {
	return l.step(func() {
		l.add(beyondtrust.SessionEvent{Type: beyondtrust.EventChatMessage, PerformedBy: systemActor, Body: text})
	})
}

// Note adds a session note by a representative.
func (l *LiveSession) Note(rep, text string) *LiveSession {
	return l.step(func() {
		l.add(beyondtrust.SessionEvent{Type: beyondtrust.EventNoteAdded, PerformedBy: l.actor(rep), Body: text})
	})
}

// SystemInfo records system information a representative retrieved.
func (l *LiveSession) SystemInfo(rep string, categories []beyondtrust.SystemInfoCategory) *LiveSession {
	return l.step(func() {
		l.add(beyondtrust.SessionEvent{Type: beyondtrust.EventSystemInfo, PerformedBy: l.actor(rep), SystemInfo: categories})
	})
}

// Upload records a file a representative sent to the remote computer.
func (l *LiveSession) Upload(rep, filename string, size int64) *LiveSession {
	return l.file(beyondtrust.EventFileUpload, rep, filename, size)
}

// Download records a file a representative fetched from the remote computer.
func (l *LiveSession) Download(rep, filename string, size int64) *LiveSession {
	return l.file(beyondtrust.EventFileDownload, rep, filename, size)
}

func (l *LiveSession) file(typ, rep, filename string, size int64) *LiveSession {
	return l.step(func() {
		l.add(beyondtrust.SessionEvent{Type: typ, PerformedBy: l.actor(rep), Filename: filename, Filesize: size})
		l.s.FileTransferCount++
	})
}

// SetExternalKey changes the external key, as a rep does in the console.
func (l *LiveSession) SetExternalKey(key string) *LiveSession {
	return l.step(func() { l.s.ExternalKey = key })
}

// SetCustom sets a custom attribute.
func (l *LiveSession) SetCustom(code, display, value string) *LiveSession {
	return l.step(func() { setCustom(l.s, code, display, value) })
}

// Leave records a member leaving.
func (l *LiveSession) Leave(name string) *LiveSession {
	return l.step(func() {
		actor := l.actor(name)
		l.add(beyondtrust.SessionEvent{Type: "Conference Member Departed", PerformedBy: actor})
		l.a.outbound(l.s, "support_conference_member_departed", url.Values{"type": {actor.Type}, "display_name": {name}})
	})
}

// End ends the session: the end time, duration, seconds involved and the
// chat (and recording) URLs appear in its report.
func (l *LiveSession) End() *LiveSession {
	return l.step(func() {
		now := l.now()
		l.add(beyondtrust.SessionEvent{Type: beyondtrust.EventSessionEnd, PerformedBy: systemActor})
		l.s.EndTime = now
		l.s.Duration = now.Sub(l.s.StartTime)
		for i := range l.s.Reps {
			l.s.Reps[i].SecondsInvolved = int64(now.Sub(l.joined[l.s.Reps[i].GSNumber]) / time.Second)
		}
		base := "https://" + l.a.Host() + "/session_download?lsid=" + l.s.LSID
		l.s.ChatViewURL = base + "&dl_action=chat&view=1"
		l.s.ChatDownloadURL = base + "&dl_action=chat"
		if l.recording {
			l.s.RecordingViewURL = base + "&dl_action=recording&view=1"
			l.s.RecordingDownloadURL = base + "&dl_action=recording"
		}
		l.a.outbound(l.s, "support_conference_end", nil)
	})
}

// CustomerSurvey records the primary customer's exit survey.
func (l *LiveSession) CustomerSurvey(answers ...beyondtrust.SurveyAnswer) *LiveSession {
	return l.step(func() {
		l.survey(beyondtrust.CustomerSurvey, l.s.PrimaryCustomer.Name, l.s.PrimaryCustomer.GSNumber, answers)
	})
}

// RepSurvey records a representative's exit survey.
func (l *LiveSession) RepSurvey(rep string, answers ...beyondtrust.SurveyAnswer) *LiveSession {
	return l.step(func() { l.survey(beyondtrust.RepSurvey, rep, l.actor(rep).GSNumber, answers) })
}

func (l *LiveSession) survey(kind beyondtrust.SurveyKind, by, gs string, answers []beyondtrust.SurveyAnswer) {
	sv := beyondtrust.Survey{GSNumber: gs, SubmittedBy: string(kind), Timestamp: l.now(), Answers: slices.Clone(answers)}
	event := "support_conference_customer_exit_survey_completed"
	if kind == beyondtrust.RepSurvey {
		l.s.RepSurveys = append(l.s.RepSurveys, sv)
		event = "support_conference_rep_exit_survey_completed"
	} else {
		l.s.CustomerSurveys = append(l.s.CustomerSurveys, sv)
	}
	l.a.surveys = append(l.a.surveys, submittedSurvey{lsid: l.s.LSID, kind: kind, by: by, survey: sv})
	l.a.outbound(l.s, event, nil)
}

// submittedSurvey is one survey the exit survey reports list.
type submittedSurvey struct {
	lsid   string
	kind   beyondtrust.SurveyKind
	by     string
	survey beyondtrust.Survey
}

// AddSession stores a complete session as is, for bulk loads and samples;
// a zero LSeq gets the next one.
func (a *Appliance) AddSession(s *beyondtrust.Session) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s.LSeq == 0 {
		a.lseq++
		s.LSeq = a.lseq
	}
	a.sessions[s.LSID] = s
}

// Session returns a copy of a stored session's top level (slices shared).
func (a *Appliance) Session(lsid string) (beyondtrust.Session, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.sessions[lsid]
	if !ok {
		return beyondtrust.Session{}, false
	}
	return *s, true
}
