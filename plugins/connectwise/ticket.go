package connectwise

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
)

// linkTicket is the kind of the (configuration, session) → ticket link.
const linkTicket = "connectwise.ticket"

// Ticket text placeholders filled from the primary customer's issue
// submission.
const (
	placeholderIssue   = "{{Issue}}"
	placeholderDetails = "{{Details}}"
)

// plannedTicket stands for the id of the ticket a dry run would have
// created.
const plannedTicket = "(the new ticket's id)"

// maxSummary is ConnectWise's limit on a ticket summary (reference §5.3).
const maxSummary = 100

// externalKey is the session's external key as the appliance's report
// holds it; the posted event's is never used (invariant 9).
func externalKey(sess *bt.Session) string { return strings.TrimSpace(sess.ExternalKey) }

// ticketID reads an external key naming a ticket: 104233 or #104233.
func ticketID(key string) (int64, bool) {
	key = strings.TrimPrefix(key, "#")
	if key == "" || strings.TrimLeft(key, "0123456789") != "" {
		return 0, false
	}
	id, err := strconv.ParseInt(key, 10, 64)
	return id, err == nil && id > 0
}

// findTicket finds the session's ticket from its external key or from the
// ticket this configuration created for it. No ticket ends the delivery
// as skipped.
func (r *run) findTicket(ctx context.Context, sess *bt.Session) (int64, error) {
	key := externalKey(sess)
	if id, ok := ticketID(key); ok {
		var t struct {
			ID int64 `json:"id"`
		}
		if err := r.cw.Get(ctx, "service/tickets/"+strconv.FormatInt(id, 10), &t); errors.Is(err, ErrNotFound) {
			return 0, engine.Skip(fmt.Sprintf("no ConnectWise ticket has the id %d (the session's external key)", id))
		} else if err != nil {
			return 0, fmt.Errorf("connectwise: read ticket #%d: %w", id, err)
		}
		r.recordTicket(id, true)
		r.job.Explain("ticket", "the session's external key %q names ConnectWise ticket #%d", key, id)
		return id, nil
	}
	if r.job.Links != nil {
		v, ok, err := r.job.Links.Link(ctx, r.job.ConfigID, sess.LSID, linkTicket)
		if err != nil {
			return 0, err
		}
		if id, valid := ticketID(v); ok && valid {
			r.recordTicket(id, true)
			r.job.Explain("ticket", "this configuration created ticket #%d for the session when a representative joined", id)
			return id, nil
		}
	}
	switch {
	case key == "":
		return 0, engine.Skip("the session has no external key and no ticket was created for it")
	case strings.HasPrefix(key, "{"):
		return 0, engine.Skip("the session's external key holds ticket fields, but no ticket was created for it")
	}
	return 0, engine.Skip(fmt.Sprintf("the session's external key %q is not a ticket id (104233 or #104233)", key))
}

// SessionType tells which kind of session s is, for the session-type
// filter: jump (Jumpoint, Jump Group, every PRA session), rep_initiated
// (a representative performed the session start), issue_submission (the
// primary customer filled in an issue), else session_key.
func SessionType(s *bt.Session) string {
	if s.Jumpoint.ID != "" || s.JumpGroup.ID != "" || s.Product == engine.ProductPrivilegedAccess {
		return TypeJump
	}
	if i := slices.IndexFunc(s.Events, func(e bt.SessionEvent) bool { return e.Type == bt.EventSessionStart }); i >= 0 && s.Events[i].PerformedBy.Type == bt.ActorRepresentative {
		return TypeRepInitiated
	}
	if c, ok := s.PrimaryCustomerInfo(); ok && (c.Info.Issue != "" || c.Info.Details != "") {
		return TypeIssueSubmission
	}
	return TypeSessionKey
}

// ticketSpec is what a new ticket is made of: the settings, with an
// external key's overrides laid over them.
type ticketSpec struct {
	Board, Status, Priority, Type, Company, Summary, Description string
	Contact                                                      contactSpec
}

// overrideKeys are the keys an external key's JSON object may set.
var overrideKeys = []string{"board", "status", "priority", "type", "company", "summary", "description", "contact"}

// spec reads the ticket to create from the settings and the external
// key: empty (create only when the settings say so), a JSON object of
// overrides, or a ticket id (nothing to create).
func (r *run) spec(sess *bt.Session) (ticketSpec, error) {
	s := r.set
	contact, _ := parseContact(s.Contact)
	spec := ticketSpec{Board: s.Board, Status: s.Status, Priority: s.Priority, Type: s.Type, Company: s.Company,
		Summary: s.Summary, Description: s.Description, Contact: contact}
	key := externalKey(sess)
	switch {
	case key == "" && !s.AutoTicketWithoutKey:
		return spec, engine.Skip("the session has no external key and \"Also when the External Key is Empty\" is off")
	case key == "":
		return spec, nil
	case strings.HasPrefix(key, "{"):
	default:
		if _, ok := ticketID(key); ok {
			return spec, engine.Skip(fmt.Sprintf("the session is already tied to ticket %s by its external key", key))
		}
		return spec, engine.Skip(fmt.Sprintf("the session's external key %q is neither a ticket id nor a JSON object of ticket fields", key))
	}
	var over map[string]any
	dec := json.NewDecoder(strings.NewReader(key))
	dec.UseNumber()
	if err := dec.Decode(&over); err != nil {
		return spec, engine.Permanent(fmt.Errorf("connectwise: the session's external key is not a JSON object: %w", err))
	}
	fields := map[string]*string{"board": &spec.Board, "status": &spec.Status, "priority": &spec.Priority, "type": &spec.Type,
		"company": &spec.Company, "summary": &spec.Summary, "description": &spec.Description}
	for _, k := range engine.SortedKeys(over) {
		v := fmt.Sprint(over[k])
		if strings.EqualFold(k, "contact") {
			c, err := parseContact(v)
			if err != nil {
				return spec, engine.Permanent(fmt.Errorf("connectwise: the session's external key: contact %w", err))
			}
			spec.Contact = c
			continue
		}
		dst, ok := fields[strings.ToLower(k)]
		if !ok {
			return spec, engine.Permanent(fmt.Errorf("connectwise: the session's external key sets %q; it may set %s", k, strings.Join(overrideKeys, ", ")))
		}
		*dst = v
	}
	return spec, nil
}

// memberAdded creates a ticket when a representative joins a session that
// is not tied to one, links it to the session and writes its id into the
// session's external key.
func (r *run) memberAdded(ctx context.Context) error {
	if !r.set.AutoTicket {
		return engine.Skip("automatic ticket creation is off")
	}
	if t := r.job.Event.Fields.Get("type"); t != "" && t != bt.ActorRepresentative {
		return engine.Skip(fmt.Sprintf("a %s joined; tickets are created when a representative joins", t))
	}
	lsid := r.job.Event.LSID
	defer r.p.lock(r.job.ConfigID, lsid)()
	if _, done := r.job.Checkpoint.Get("ticket"); !done && r.job.Links != nil {
		if v, ok, err := r.job.Links.Link(ctx, r.job.ConfigID, lsid, linkTicket); err != nil {
			return err
		} else if ok {
			return engine.Skip(fmt.Sprintf("ticket #%s was already created for this session", v))
		}
	}
	sess, err := r.session(ctx)
	if err != nil {
		return err
	}
	if len(sess.Reps) == 0 {
		return engine.Skip(fmt.Sprintf("the appliance's report of session %s shows no representative yet", lsid))
	}
	spec, err := r.spec(sess)
	if err != nil {
		return err
	}
	if typ := SessionType(sess); !slices.Contains(r.set.AutoTicketSessionTypes, typ) {
		return engine.Skip(fmt.Sprintf("the session type is %s, which is not selected for automatic ticket creation", typ))
	}
	idText, existing, err := r.createTicket(ctx, sess, spec)
	if err != nil {
		return err
	}
	if id, ok := ticketID(idText); ok {
		r.recordTicket(id, existing)
	} else if r.job.Planning() && !existing {
		// A dry run made no ticket: name the one it would have made.
		idText = plannedTicket
		r.job.Record(engine.Record{Kind: recordTicket, Title: plannedTicket})
	}
	if r.job.Links != nil {
		if err := r.job.Links.SetLink(ctx, r.job.ConfigID, lsid, linkTicket, idText); err != nil {
			return fmt.Errorf("connectwise: remember ticket #%s for session %s: %w", idText, lsid, err)
		}
	}
	return r.setExternalKey(ctx, lsid, idText)
}

// createTicket creates the ticket once, marked by externalXRef (reference
// §5.3, §7 step 4), and returns its id and whether it existed before.
func (r *run) createTicket(ctx context.Context, sess *bt.Session, spec ticketSpec) (string, bool, error) {
	mark := "switchboard:" + sess.LSID
	return r.once(ctx, "ticket",
		func() (string, bool, error) {
			q, _ := quote(mark)
			found, err := Find[struct {
				ID int64 `json:"id"`
			}](ctx, r.cw, "service/tickets", url.Values{"conditions": {"externalXRef=" + q}}, 1)
			if err != nil {
				return "", false, fmt.Errorf("connectwise: look for a ticket created earlier for session %s: %w", sess.LSID, err)
			}
			if len(found) == 0 {
				return "", false, nil
			}
			return strconv.FormatInt(found[0].ID, 10), true, nil
		},
		func() (string, error) {
			body, err := r.ticketBody(ctx, sess, spec)
			if err != nil {
				return "", err
			}
			body["externalXRef"] = mark
			id, err := r.cw.Create(ctx, "service/tickets", body)
			if err != nil {
				return "", fmt.Errorf("connectwise: create ticket for session %s: %w", sess.LSID, err)
			}
			r.log.Info("connectwise: ticket created", "ticket", id, "lsid", sess.LSID)
			return strconv.FormatInt(id, 10), nil
		})
}

// ticketBody builds the new ticket: placeholders filled from the primary
// customer's issue submission, names as references, the contact resolved.
func (r *run) ticketBody(ctx context.Context, sess *bt.Session, spec ticketSpec) (map[string]any, error) {
	var issue, details string
	if c, ok := sess.PrimaryCustomerInfo(); ok {
		issue, details = c.Info.Issue, c.Info.Details
	}
	fill := strings.NewReplacer(placeholderIssue, issue, placeholderDetails, details)
	summary := strings.TrimSpace(fill.Replace(spec.Summary))
	if summary == "" {
		summary = "BeyondTrust session " + sess.LSID
	}
	if rs := []rune(summary); len(rs) > maxSummary {
		summary = string(rs[:maxSummary-1]) + "…"
	}
	body := map[string]any{"summary": summary, "processNotifications": r.set.Notify}
	if d := fill.Replace(spec.Description); strings.TrimSpace(d) != "" {
		body["initialDescription"] = d
	}
	named := map[string]string{"board": spec.Board, "status": spec.Status, "priority": spec.Priority, "type": spec.Type}
	for _, k := range engine.SortedKeys(named) {
		if named[k] != "" {
			body[k] = map[string]any{"name": named[k]}
		}
	}
	if spec.Company != "" {
		body["company"] = map[string]any{"identifier": spec.Company}
	}
	contact, err := r.resolveContact(ctx, sess, spec.Contact)
	if err != nil {
		return nil, err
	}
	if contact != nil {
		body["contact"] = map[string]any{"id": contact.ID}
		if contact.Company.ID != 0 {
			// The ticket belongs to the found contact's company.
			body["company"] = map[string]any{"id": contact.Company.ID}
		}
	}
	return body, nil
}

// setExternalKey writes the ticket id into the session's external key.
// The session may have ended, or the API account may lack command access:
// the link still ties the session to the ticket, so a refusal is logged,
// not failed. Trouble reaching the appliance is retried.
func (r *run) setExternalKey(ctx context.Context, lsid, id string) error {
	_, _, err := r.once(ctx, "external_key",
		func() (string, bool, error) { return "", false, nil },
		func() (string, error) {
			err := r.app.SetSessionAttributes(ctx, lsid, &id, nil)
			if err == nil {
				return id, nil
			}
			var refused *bt.ResponseError
			if out, _ := engine.Classify(err); out == engine.OutcomePermanent || errors.As(err, &refused) {
				r.log.Warn("connectwise: could not write the ticket id into the session's external key", "lsid", lsid, "ticket", id, "error", err.Error())
				return "", nil
			}
			return "", fmt.Errorf("connectwise: write ticket #%s into session %s: %w", id, lsid, err)
		})
	return err
}
