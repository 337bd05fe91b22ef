package autotask

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
)

// Autotask's limits on a ticket note (TicketNotes metadata).
const (
	maxNoteTitle       = 250
	maxNoteDescription = 32000
)

// Labels of the publish picklist (TicketNotes.publish); values differ by
// tenant, labels do not.
const (
	publishAll      = "All Autotask Users"
	publishInternal = "Internal Only"
)

// marker is written into what a delivery creates so that a retry whose
// checkpoint was lost finds it: [bt:<lsid>:<what>].
func marker(lsid, what string) string { return "[bt:" + lsid + ":" + what + "]" }

// sessionEnd adds the session report to the session's ticket and, when
// configured, a time entry.
func (r *run) sessionEnd(ctx context.Context) error {
	sess, err := r.session(ctx)
	if err != nil {
		return err
	}
	if !sess.Ended() {
		return fmt.Errorf("autotask: the appliance reports session %s without an end time yet", sess.LSID)
	}
	ticket, err := r.findTicket(ctx, sess)
	if err != nil {
		return err
	}
	r.recordTicket(ticket, true)
	body, err := r.render(engine.TemplateSessionReport, sess)
	if err != nil {
		return err
	}
	mark := marker(sess.LSID, "report")
	if err := r.addNote(ctx, ticket, "note:report", mark, noteTitle(productName(sess)+" session report", customerName(sess), mark), body); err != nil {
		return err
	}
	if r.set.UpdateTimeEntry {
		return r.addTimeEntry(ctx, ticket, sess)
	}
	r.job.Explain("time entry", "no time entry: Update Time Entry is off")
	return nil
}

// Survey kinds.
const (
	surveyCustomer = "customer-survey"
	surveyRep      = "rep-survey"
)

// surveys adds each exit survey of the kind to the ticket, one note per
// survey, so a second customer's survey is not lost behind the first's.
func (r *run) surveys(ctx context.Context, kind string) error {
	sess, err := r.session(ctx)
	if err != nil {
		return err
	}
	list, tpl, label := sess.CustomerSurveys, engine.TemplateCustomerSurvey, "Customer exit survey"
	if kind == surveyRep {
		list, tpl, label = sess.RepSurveys, engine.TemplateRepSurvey, "Representative survey"
	}
	if len(list) == 0 {
		return fmt.Errorf("autotask: the appliance's report of session %s has no %s yet", sess.LSID, strings.ToLower(label))
	}
	ticket, err := r.findTicket(ctx, sess)
	if err != nil {
		return err
	}
	r.recordTicket(ticket, true)
	for i, sv := range list {
		id := sv.GSNumber
		if id == "" {
			id = strconv.Itoa(i + 1)
		}
		if sv.Timestamp.IsZero() && r.announces(sv, len(list)) {
			// A survey inside a session report has no time; the event
			// that announced it does, so the note can say when.
			sv.Timestamp = r.job.Event.Timestamp
		}
		one := *sess
		if kind == surveyRep {
			one.RepSurveys = []bt.Survey{sv}
		} else {
			one.CustomerSurveys = []bt.Survey{sv}
		}
		body, err := r.render(tpl, &one)
		if err != nil {
			return err
		}
		mark := marker(sess.LSID, kind+"-"+id)
		if err := r.addNote(ctx, ticket, "note:"+kind+"-"+id, mark, noteTitle(label, surveyAuthor(sess, kind, sv), mark), body); err != nil {
			return err
		}
	}
	return nil
}

// announces reports whether the job's event is the one for survey sv: the
// event names its gsnumber (polled surveys do), or names none and the
// session has only this one survey of its kind.
func (r *run) announces(sv bt.Survey, surveys int) bool {
	if gs := r.job.Event.Fields.Get("gsnumber"); gs != "" {
		return gs == sv.GSNumber
	}
	return surveys == 1
}

// render runs a template. The renderer's error says how to treat it: a
// broken template is the admin's to fix, so it is permanent; a bug is
// retried.
func (r *run) render(name string, sess *bt.Session) (string, error) {
	out, err := r.job.RenderSession(name, sess)
	if err != nil {
		return "", fmt.Errorf("autotask: render %s: %w", name, err)
	}
	return out, nil
}

// noteTitle is "<what>: <who> [marker]", shortened to fit Autotask's title
// length without ever cutting the marker.
func noteTitle(what, who, mark string) string {
	head := what
	if who != "" {
		head += ": " + who
	}
	room := maxNoteTitle - len([]rune(mark)) - 1
	if rs := []rune(head); len(rs) > room {
		head = string(rs[:room-1]) + "…"
	}
	return head + " " + mark
}

// surveyAuthor names who filled in a survey: the session member with its
// gsnumber. Reports say only "customer" or "representative" in SubmittedBy.
func surveyAuthor(s *bt.Session, kind string, sv bt.Survey) string {
	if kind == surveyRep {
		for _, r := range s.Reps {
			if r.GSNumber == sv.GSNumber && r.DisplayName != "" {
				return r.DisplayName
			}
		}
	} else {
		for _, c := range s.Customers {
			if c.GSNumber == sv.GSNumber && c.Info.Name != "" {
				return c.Info.Name
			}
		}
		if s.PrimaryCustomer.GSNumber == sv.GSNumber && s.PrimaryCustomer.Name != "" {
			return s.PrimaryCustomer.Name
		}
	}
	if sv.SubmittedBy == bt.ActorCustomer || sv.SubmittedBy == bt.ActorRepresentative {
		return ""
	}
	return sv.SubmittedBy
}

// productName names the product in note and ticket titles; a report that
// does not say which product it came from reads as Remote Support.
func productName(s *bt.Session) string {
	if n := s.ProductName(); n != "" {
		return n
	}
	return "Remote Support"
}

func customerName(s *bt.Session) string {
	if c, ok := s.PrimaryCustomerInfo(); ok && c.Info.Name != "" {
		return c.Info.Name
	}
	return s.PrimaryCustomer.Name
}

// truncate keeps text within Autotask's length, saying so at the end.
func truncate(text string, max int) string {
	// A text of at most max bytes has at most max characters; a longer one
	// is counted without being copied: a report is truncated rarely, and
	// converting it to runes cost four bytes per character on every note.
	if len(text) <= max || utf8.RuneCountInString(text) <= max {
		return text
	}
	rs := []rune(text)
	const tail = "\n… (truncated: Autotask keeps at most %d characters)"
	t := fmt.Sprintf(tail, max)
	return string(rs[:max-len([]rune(t))]) + t
}

// addNote posts a note unless the checkpoint or a note whose title carries
// mark shows it was posted before.
func (r *run) addNote(ctx context.Context, ticket ticketRef, key, mark, title, body string) error {
	id, existing, err := r.job.Once(ctx, key,
		func(ctx context.Context) (string, bool, error) {
			earlier, ok, err := r.findMarked(ctx, "TicketNotes", []Filter{Eq("ticketID", ticket.ID)}, "title", mark)
			if err != nil {
				return "", false, Classify(fmt.Errorf("look for an earlier note on ticket %s: %w", ticket, err))
			}
			if ok {
				r.log.Info("autotask: note already on the ticket", "ticket", ticket.String(), "note", earlier, "marker", mark)
			}
			return strconv.FormatInt(earlier, 10), ok, nil
		},
		func(ctx context.Context) (string, error) {
			noteType, publish, err := r.noteValues(ctx)
			if err != nil {
				return "", err
			}
			note := map[string]any{
				"ticketID":    ticket.ID,
				"title":       title,
				"description": truncate(body, maxNoteDescription),
				"noteType":    noteType,
				"publish":     publish,
			}
			id, err := r.at.Create(ctx, "Tickets/"+strconv.FormatInt(ticket.ID, 10)+"/Notes", note)
			if err != nil {
				return "", Classify(fmt.Errorf("add note to ticket %s: %w", ticket, err),
					Blame{"Autotask Note Type", []string{"noteType", "note type"}}, Blame{"Publish Notes as Public", []string{"publish"}})
			}
			r.log.Info("autotask: note added", "ticket", ticket.String(), "note", id)
			return strconv.FormatInt(id, 10), nil
		})
	if err == nil {
		r.recordOn(ticket, recordNote, id, title, existing)
	}
	return err
}

// noteValues resolves the note type (a value or a label) and the publish
// value against the tenant's picklists.
func (r *run) noteValues(ctx context.Context) (noteType, publish int64, err error) {
	fields, err := r.at.Fields(ctx, "TicketNotes")
	if err != nil {
		return 0, 0, Classify(fmt.Errorf("read the note picklists: %w", err))
	}
	return resolveNoteValues(fields, r.set)
}

// resolveNoteValues is noteValues on metadata already read; the Test
// button shares it.
func resolveNoteValues(fields []FieldInfo, s *Settings) (noteType, publish int64, err error) {
	nt, _ := Field(fields, "noteType")
	v, ok := pickValue(nt.PicklistValues, s.NoteType)
	if !ok {
		return 0, 0, engine.Permanent(fmt.Errorf("autotask: Autotask Note Type %q is not an active note type of this tenant; use one of: %s", s.NoteType, picklistText(nt.PicklistValues)))
	}
	pub, _ := Field(fields, "publish")
	want := publishInternal
	if s.PublishPublic {
		want = publishAll
	}
	p, ok := pickValue(pub.PicklistValues, want)
	if !ok && !s.PublishPublic {
		// Tenants rename the internal choice ("Internal & Co-Managed");
		// any internal one keeps the note from customers.
		for _, pv := range pub.PicklistValues {
			if pv.IsActive && strings.HasPrefix(strings.ToLower(pv.Label), "internal") {
				p, ok = atoi(pv.Value), true
				break
			}
		}
	}
	if !ok {
		return 0, 0, engine.Permanent(fmt.Errorf("autotask: the tenant's note publish list has no %q choice (it has: %s); check Publish Notes as Public", want, picklistText(pub.PicklistValues)))
	}
	return v, p, nil
}

// pickValue finds an active picklist entry by value or, ignoring case, by
// label.
func pickValue(list []PicklistValue, want string) (int64, bool) {
	want = strings.TrimSpace(want)
	for _, pv := range list {
		if pv.IsActive && pv.Value == want {
			return atoi(pv.Value), true
		}
	}
	for _, pv := range list {
		if pv.IsActive && strings.EqualFold(pv.Label, want) {
			return atoi(pv.Value), true
		}
	}
	return 0, false
}

func picklistText(list []PicklistValue) string {
	var parts []string
	for _, pv := range list {
		if pv.IsActive {
			parts = append(parts, pv.Value+" "+pv.Label)
		}
	}
	if len(parts) == 0 {
		return "(none)"
	}
	return strings.Join(parts, ", ")
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
