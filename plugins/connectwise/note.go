package connectwise

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
	"switchboard/engine/outbound"
)

// marker is written into what a delivery creates so that a retry whose
// checkpoint was lost finds it (reference §7):
// [switchboard:<lsid>:<what>].
func marker(lsid, what string) string { return "[switchboard:" + lsid + ":" + what + "]" }

// Survey kinds.
const (
	surveyCustomer = "customer-survey"
	surveyRep      = "rep-survey"
)

// sessionEnd adds the session report to the session's ticket and, when
// configured, a time entry.
func (r *run) sessionEnd(ctx context.Context) error {
	sess, err := r.session(ctx)
	if err != nil {
		return err
	}
	if !sess.Ended() {
		return fmt.Errorf("connectwise: the appliance reports session %s without an end time yet", sess.LSID)
	}
	ticket, err := r.findTicket(ctx, sess)
	if err != nil {
		return err
	}
	body, err := r.render(engine.TemplateSessionReport, sess)
	if err != nil {
		return err
	}
	if err := r.addNote(ctx, ticket, "note:report", marker(sess.LSID, "report"), "Session report", body); err != nil {
		return err
	}
	if r.set.TimeEntry {
		return r.addTimeEntry(ctx, ticket, sess)
	}
	r.job.Explain("time entry", "no time entry: Time Entry is off")
	return nil
}

// surveys adds each exit survey of the kind to the ticket, one note per
// survey.
func (r *run) surveys(ctx context.Context, kind string) error {
	sess, err := r.session(ctx)
	if err != nil {
		return err
	}
	list, tpl := sess.CustomerSurveys, engine.TemplateCustomerSurvey
	if kind == surveyRep {
		list, tpl = sess.RepSurveys, engine.TemplateRepSurvey
	}
	if len(list) == 0 {
		return fmt.Errorf("connectwise: the appliance's report of session %s has no %s yet", sess.LSID, strings.ReplaceAll(kind, "-", " "))
	}
	ticket, err := r.findTicket(ctx, sess)
	if err != nil {
		return err
	}
	for i, sv := range list {
		id := sv.GSNumber
		if id == "" {
			id = strconv.Itoa(i + 1)
		}
		if sv.Timestamp.IsZero() && (r.job.Event.Fields.Get("gsnumber") == sv.GSNumber || len(list) == 1) {
			// A survey in a report has no time; the event announcing it
			// does.
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
		title := "Customer exit survey"
		if kind == surveyRep {
			title = "Representative survey"
		}
		if err := r.addNote(ctx, ticket, "note:"+kind+"-"+id, marker(sess.LSID, kind+"-"+id), title, body); err != nil {
			return err
		}
	}
	return nil
}

// render runs a template.
func (r *run) render(name string, sess *bt.Session) (string, error) {
	out, err := r.job.RenderSession(name, sess)
	if err != nil {
		// A broken template's error is permanent by itself; a bug is retried.
		return "", fmt.Errorf("connectwise: render %s: %w", name, err)
	}
	return out, nil
}

// addNote posts a note whose text ends with mark, once, and records it
// under title.
func (r *run) addNote(ctx context.Context, ticket int64, key, mark, title, body string) error {
	path := "service/tickets/" + strconv.FormatInt(ticket, 10) + "/notes"
	id, existing, err := r.once(ctx, key,
		func() (string, bool, error) {
			id, ok, err := r.findMarked(ctx, path, nil, "text", mark)
			if err != nil {
				return "", false, fmt.Errorf("connectwise: look for an earlier note on ticket #%d: %w", ticket, err)
			}
			return strconv.FormatInt(id, 10), ok, nil
		},
		func() (string, error) {
			note := map[string]any{
				"text":                  strings.TrimRight(body, "\n") + "\n\n" + mark,
				"detailDescriptionFlag": r.set.NoteDiscussion,
				"internalAnalysisFlag":  r.set.NoteInternal,
				"resolutionFlag":        r.set.NoteResolution,
				"processNotifications":  r.set.Notify,
			}
			id, err := r.cw.Create(ctx, path, note)
			if err != nil {
				return "", fmt.Errorf("connectwise: add note to ticket #%d: %w", ticket, err)
			}
			r.log.Info("connectwise: note added", "ticket", ticket, "note", id)
			return strconv.FormatInt(id, 10), nil
		})
	if err == nil {
		r.recordOn(ticket, recordNote, id, title, existing)
	}
	return err
}

// findMarked finds the record below path (within scope conditions) whose
// field holds mark. It asks ConnectWise with contains, which the reference
// lists as an operator without confirming it on these columns (§7, [U]);
// a 400 makes it list the records and look itself, and the refusal is
// remembered for the client.
func (r *run) findMarked(ctx context.Context, path string, scope []string, field, mark string) (int64, bool, error) {
	type row struct {
		ID            int64  `json:"id"`
		Text          string `json:"text"`
		InternalNotes string `json:"internalNotes"`
	}
	text := func(x row) string {
		if field == "text" {
			return x.Text
		}
		return x.InternalNotes
	}
	quoted, _ := quote(mark)
	if !r.cw.refusesContains(field) {
		conds := strings.Join(append(scope[:len(scope):len(scope)], field+" contains "+quoted), " and ")
		rows, err := Find[row](ctx, r.cw, path, url.Values{"conditions": {conds}}, 0)
		if err == nil || outbound.StatusOf(err) != http.StatusBadRequest {
			for _, x := range rows {
				if strings.Contains(text(x), mark) {
					return x.ID, true, nil
				}
			}
			return 0, false, err
		}
		r.cw.rememberContainsRefused(field)
		r.log.Warn("connectwise: the server refused a contains condition; listing the records instead", "path", path, "field", field, "error", err.Error())
	}
	q := url.Values{}
	if len(scope) > 0 {
		q.Set("conditions", strings.Join(scope, " and "))
	}
	rows, err := Find[row](ctx, r.cw, path, q, 0)
	if err != nil {
		return 0, false, err
	}
	for _, x := range rows {
		if strings.Contains(text(x), mark) {
			return x.ID, true, nil
		}
	}
	return 0, false, nil
}

func (c *Client) refusesContains(field string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.noContains[field]
}

func (c *Client) rememberContainsRefused(field string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.noContains[field] = true
}
