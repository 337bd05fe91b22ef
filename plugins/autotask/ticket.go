package autotask

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
)

// linkTicket is the kind of the (configuration, session) → ticket link.
const linkTicket = "autotask.ticket"

// plannedTicket stands for the number of the ticket a dry run would have
// created.
const plannedTicket = "(the new ticket's number)"

// ticketNumberRE matches Autotask ticket numbers such as T20240101.0001.
var ticketNumberRE = regexp.MustCompile(`^(?i)T\d{8}\.\d{4,}$`)

// ticketRef names a ticket by id and, when known, number.
type ticketRef struct {
	ID     int64
	Number string
}

func (t ticketRef) String() string {
	if t.Number != "" {
		return t.Number
	}
	return strconv.FormatInt(t.ID, 10)
}

// externalKey is the session's external key as the appliance's report
// holds it (a representative may have edited it during the session). The
// posted event's external_key is never used: anyone who reaches the intake
// port can post one, and the key decides which ticket the report goes to.
func externalKey(sess *bt.Session) string { return strings.TrimSpace(sess.ExternalKey) }

// findTicket finds the session's ticket from its external key (a ticket
// number or id) or from the ticket this configuration created for it. No
// ticket ends the delivery as skipped.
func (r *run) findTicket(ctx context.Context, sess *bt.Session) (ticketRef, error) {
	key := externalKey(sess)
	switch {
	case ticketNumberRE.MatchString(key):
		var found []struct {
			ID           int64  `json:"id"`
			TicketNumber string `json:"ticketNumber"`
		}
		q := Query{Filter: []Filter{Eq("ticketNumber", strings.ToUpper(key))}, IncludeFields: []string{"id", "ticketNumber"}, MaxRecords: 1}
		if err := r.at.Query(ctx, "Tickets", q, &found); err != nil {
			return ticketRef{}, Classify(fmt.Errorf("find ticket %s: %w", key, err))
		}
		if len(found) == 0 {
			return ticketRef{}, engine.Skip(fmt.Sprintf("no Autotask ticket has the number %s (the session's external key)", key))
		}
		r.job.Explain("ticket", "the session's external key %q is a ticket number; Autotask ticket %s (id %d) has it", key, found[0].TicketNumber, found[0].ID)
		return ticketRef{ID: found[0].ID, Number: found[0].TicketNumber}, nil
	case isDigits(key):
		id, err := strconv.ParseInt(key, 10, 64)
		if err != nil {
			return ticketRef{}, engine.Skip(fmt.Sprintf("the session's external key %s is not a ticket id", key))
		}
		var t struct {
			TicketNumber string `json:"ticketNumber"`
		}
		if err := r.at.Get(ctx, "Tickets", id, &t); errors.Is(err, ErrNotFound) {
			return ticketRef{}, engine.Skip(fmt.Sprintf("no Autotask ticket has the id %d (the session's external key)", id))
		} else if err != nil {
			return ticketRef{}, Classify(fmt.Errorf("read ticket %d: %w", id, err))
		}
		r.job.Explain("ticket", "the session's external key %q is a ticket id; Autotask ticket %s has it", key, ticketRef{ID: id, Number: t.TicketNumber})
		return ticketRef{ID: id, Number: t.TicketNumber}, nil
	}
	if ref, ok, err := r.linkedTicket(ctx, sess.LSID); err != nil || ok {
		if ok {
			r.job.Explain("ticket", "this configuration created ticket %s for the session when a representative joined", ref)
		}
		return ref, err
	}
	if key == "" {
		return ticketRef{}, engine.Skip("the session has no external key and no ticket was created for it")
	}
	if strings.HasPrefix(key, "{") {
		return ticketRef{}, engine.Skip("the session's external key holds ticket fields, but no ticket was created for it")
	}
	return ticketRef{}, engine.Skip(fmt.Sprintf("the session's external key %q is neither a ticket number (T20240101.0001) nor a ticket id", key))
}

// linkedTicket reads the ticket this configuration created for a session.
func (r *run) linkedTicket(ctx context.Context, lsid string) (ticketRef, bool, error) {
	if r.job.Links == nil {
		return ticketRef{}, false, nil
	}
	v, ok, err := r.job.Links.Link(ctx, r.job.ConfigID, lsid, linkTicket)
	if err != nil || !ok {
		return ticketRef{}, false, err
	}
	id, number, _ := strings.Cut(v, " ")
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return ticketRef{}, false, fmt.Errorf("autotask: the stored ticket link %q is unreadable: %w", v, err)
	}
	return ticketRef{ID: n, Number: number}, true, nil
}

// SessionType tells which kind of session s is, for the session-type filter
// of automatic ticket creation, from what the session report holds:
//
//   - jump: the session went through a Jumpoint or a Jump Group (every PRA
//     session, RS Jump Clients and Jumpoints);
//   - rep_initiated: the representative started it (the "Session Start"
//     event is performed by a representative), e.g. a push-and-start;
//   - issue_submission: the primary customer came through the issue
//     submission form (the report has their Issue or Details);
//   - session_key: anything else: a session key, a representative's
//     direct link, click-to-chat.
func SessionType(s *bt.Session) string {
	if s.Jumpoint.ID != "" || s.JumpGroup.ID != "" || s.Product == engine.ProductPrivilegedAccess {
		return TypeJump
	}
	for _, e := range s.Events {
		if e.Type == bt.EventSessionStart {
			if e.PerformedBy.Type == bt.ActorRepresentative {
				return TypeRepInitiated
			}
			break
		}
	}
	if c, ok := s.PrimaryCustomerInfo(); ok && (c.Info.Issue != "" || c.Info.Details != "") {
		return TypeIssueSubmission
	}
	return TypeSessionKey
}

// memberAdded creates a ticket when a representative joins a session that
// is not tied to one, links it to the session and writes its number into
// the session's external key.
func (r *run) memberAdded(ctx context.Context) error {
	if !r.set.AutoTicketOnStart {
		return engine.Skip("automatic ticket creation is off")
	}
	if t := r.job.Event.Fields.Get("type"); t != "" && t != bt.ActorRepresentative {
		return engine.Skip(fmt.Sprintf("a %s joined; tickets are created when a representative joins", t))
	}
	lsid := r.job.Event.LSID
	unlock := r.p.locks.Lock(strconv.FormatInt(r.job.ConfigID, 10) + "|" + lsid)
	defer unlock()
	if _, done := r.job.Checkpoint.Get("ticket"); !done {
		if ref, ok, err := r.linkedTicket(ctx, lsid); err != nil {
			return err
		} else if ok {
			return engine.Skip(fmt.Sprintf("ticket %s was already created for this session", ref))
		}
	}
	sess, err := r.session(ctx)
	if err != nil {
		return err
	}
	// The posted type only spares a fetch for a customer joining; whether
	// a representative is in the session is the report's to say.
	if len(sess.Reps) == 0 {
		return engine.Skip(fmt.Sprintf("the appliance's report of session %s shows no representative yet", lsid))
	}
	over, err := r.overrides(sess)
	if err != nil {
		return err
	}
	if typ := SessionType(sess); !slices.Contains(r.set.AutoTicketSessionTypes, typ) {
		return engine.Skip(fmt.Sprintf("the session type is %s, which is not selected for automatic ticket creation", typ))
	}
	defaults, err := r.set.ticketDefaults()
	if err != nil {
		return engine.Permanent(fmt.Errorf("autotask: Ticket Default Data %w", err))
	}
	ticket, err := r.createTicket(ctx, sess, defaults.merge(over))
	if err != nil {
		return err
	}
	if r.job.Links != nil {
		if err := r.job.Links.SetLink(ctx, r.job.ConfigID, lsid, linkTicket, strconv.FormatInt(ticket.ID, 10)+" "+ticket.Number); err != nil {
			return fmt.Errorf("autotask: remember ticket %s for session %s: %w", ticket, lsid, err)
		}
	}
	return r.setExternalKey(ctx, lsid, ticket)
}

// overrides reads the external key: empty (create only when the setting
// says so), a JSON object of ticket fields, or a ticket reference (nothing
// to create).
func (r *run) overrides(sess *bt.Session) (TicketData, error) {
	key := externalKey(sess)
	switch {
	case key == "" && !r.set.AutoTicketWithoutKey:
		return TicketData{}, engine.Skip("the session has no external key and \"Automatic Ticket Creation when external key is not provided\" is off")
	case key == "":
		return TicketData{}, nil
	case strings.HasPrefix(key, "{"):
		over, err := parseTicketOverrides(key)
		if err != nil {
			return TicketData{}, engine.Permanent(fmt.Errorf("autotask: the session's external key holds ticket fields, but %w", err))
		}
		return over, nil
	case ticketNumberRE.MatchString(key) || isDigits(key):
		return TicketData{}, engine.Skip(fmt.Sprintf("the session is already tied to ticket %s by its external key", key))
	}
	return TicketData{}, engine.Skip(fmt.Sprintf("the session's external key %q is neither a ticket reference nor a JSON object of ticket fields", key))
}

// createTicket creates the ticket unless the checkpoint or a ticket marked
// with the session shows it exists, and returns its id and number.
func (r *run) createTicket(ctx context.Context, sess *bt.Session, data TicketData) (ticketRef, error) {
	mark := "bt:" + sess.LSID
	idText, existing, err := r.job.Once(ctx, "ticket",
		func(ctx context.Context) (string, bool, error) {
			earlier, ok, err := r.at.FirstID(ctx, "Tickets", Eq("externalID", mark))
			if err != nil {
				return "", false, Classify(fmt.Errorf("look for a ticket created earlier for session %s: %w", sess.LSID, err))
			}
			return strconv.FormatInt(earlier, 10), ok, nil
		},
		func(ctx context.Context) (string, error) {
			fields, err := r.ticketFields(ctx, sess, data)
			if err != nil {
				return "", err
			}
			fields["externalID"] = mark
			id, err := r.at.Create(ctx, "Tickets", fields)
			if err != nil {
				return "", Classify(fmt.Errorf("create ticket for session %s: %w", sess.LSID, err), Blame{"Ticket Default Data", slices.Collect(maps.Keys(data.Fields))})
			}
			r.log.Info("autotask: ticket created", "ticket", id, "lsid", sess.LSID)
			return strconv.FormatInt(id, 10), nil
		})
	if err != nil {
		return ticketRef{}, err
	}
	if r.job.Planning() && !existing {
		// A dry run made no ticket, so there is no number to read.
		ref := ticketRef{Number: plannedTicket}
		r.job.Record(engine.Record{Kind: recordTicket, Title: plannedTicket})
		return ref, nil
	}
	id, _ := strconv.ParseInt(idText, 10, 64)
	number, err := r.checkpointed(ctx, "ticket_number", func() (string, error) {
		var t struct {
			TicketNumber string `json:"ticketNumber"`
		}
		if err := r.at.Get(ctx, "Tickets", id, &t); err != nil {
			return "", Classify(fmt.Errorf("read the number of ticket %d: %w", id, err))
		}
		return t.TicketNumber, nil
	})
	if err != nil {
		return ticketRef{}, err
	}
	ref := ticketRef{ID: id, Number: number}
	r.recordTicket(ref, existing)
	return ref, nil
}

// ticketFields builds the ticket: placeholders filled from the primary
// customer's issue submission, the contact resolved.
func (r *run) ticketFields(ctx context.Context, sess *bt.Session, data TicketData) (map[string]any, error) {
	var issue, details string
	if c, ok := sess.PrimaryCustomerInfo(); ok {
		issue, details = c.Info.Issue, c.Info.Details
	}
	fill := strings.NewReplacer(placeholderIssue, issue, placeholderDetails, details)
	fields := make(map[string]any, len(data.Fields)+2)
	for k, v := range data.Fields {
		if s, ok := v.(string); ok {
			v = fill.Replace(s)
		}
		fields[k] = v
	}
	title, _ := fields["title"].(string)
	if strings.TrimSpace(title) == "" {
		title = productName(sess) + " session " + sess.LSID
		if name := customerName(sess); name != "" {
			title = productName(sess) + " session with " + name
		}
	}
	fields["title"] = truncate(title, ticketFields["title"].MaxLen)
	if d, ok := fields["description"].(string); ok {
		fields["description"] = truncate(d, ticketFields["description"].MaxLen)
	}
	contact, company, err := r.resolveContact(ctx, sess, data)
	if err != nil {
		return nil, err
	}
	if contact != 0 {
		fields["contactID"] = contact
	}
	if company >= 0 {
		// A contact found by the expression belongs to a company; the
		// ticket must too, or Autotask refuses it.
		fields["companyID"] = company
	}
	return fields, nil
}

// resolveContact returns the contact id to set (0: none) and, when the
// expression found a contact, its company (else -1).
func (r *run) resolveContact(ctx context.Context, sess *bt.Session, data TicketData) (contact, company int64, err error) {
	if data.Contact == nil {
		if data.ContactID != 0 {
			r.job.Explain("contact", "Ticket Default Data names contact %d", data.ContactID)
		} else {
			r.job.Explain("contact", "Ticket Default Data names no contact; the ticket gets none")
		}
		return data.ContactID, -1, nil
	}
	expr := *data.Contact
	// The report's value only: a posted custom field would let anyone who
	// reaches the intake port choose the ticket's contact and company.
	value, _ := sess.Attribute(expr.CustomField)
	value = strings.TrimSpace(value)
	if value == "" {
		r.log.Info("autotask: contact expression has no value; using the default contact", "expression", expr.String())
		r.job.Explain("contact", "%s: the session's custom field %s is empty; using the default contact %s", expr, expr.CustomField, contactText(data.DefaultContactID))
		return data.DefaultContactID, -1, nil
	}
	var found []struct {
		ID        int64 `json:"id"`
		CompanyID int64 `json:"companyID"`
	}
	// Only active contacts: Autotask refuses an inactive one on a ticket.
	q := Query{Filter: []Filter{Eq(expr.Field, value), Eq("isActive", 1)}, IncludeFields: []string{"id", "companyID"}, MaxRecords: 1}
	if err := r.at.Query(ctx, "Contacts", q, &found); err != nil {
		return 0, -1, Classify(fmt.Errorf("find the contact whose %s is %q: %w", expr.Field, value, err), Blame{"the contactID expression in Ticket Default Data", []string{expr.Field}})
	}
	if len(found) == 0 {
		r.log.Info("autotask: no contact matches; using the default contact", "expression", expr.String())
		r.job.Explain("contact", "%s: the session's %s is %q; no active Autotask contact has %s %q, so the default contact %s is used", expr, expr.CustomField, value, expr.Field, value, contactText(data.DefaultContactID))
		return data.DefaultContactID, -1, nil
	}
	r.job.Explain("contact", "%s: the session's %s is %q; Autotask contact %d (company %d) has %s %q", expr, expr.CustomField, value, found[0].ID, found[0].CompanyID, expr.Field, value)
	return found[0].ID, found[0].CompanyID, nil
}

// setExternalKey writes the ticket number into the session's external key.
// The session may have ended meanwhile, or the API account may lack command
// access: the link still ties the session to the ticket, so a refusal is
// logged, not failed. Trouble reaching the appliance is retried.
func (r *run) setExternalKey(ctx context.Context, lsid string, ticket ticketRef) error {
	_, err := r.checkpointed(ctx, "external_key", func() (string, error) {
		number := ticket.String()
		if err := r.job.CheckLease(ctx); err != nil {
			return "", err
		}
		err := r.app.SetSessionAttributes(ctx, lsid, &number, nil)
		if err == nil {
			return number, nil
		}
		var refused *bt.ResponseError
		if out, _ := engine.Classify(err); out == engine.OutcomePermanent || errors.As(err, &refused) {
			r.log.Warn("autotask: could not write the ticket number into the session's external key", "lsid", lsid, "ticket", number, "error", err.Error())
			return "", nil
		}
		return "", fmt.Errorf("autotask: write ticket %s into session %s: %w", number, lsid, err)
	})
	return err
}

// contactText names a default contact for an explanation.
func contactText(id int64) string {
	if id == 0 {
		return "(none set: the ticket gets no contact)"
	}
	return strconv.FormatInt(id, 10)
}
