package connectwise

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
)

// addTimeEntry charges the session's time to the ticket for the primary
// representative's member, once: the checkpoint, then an entry on the
// ticket carrying the marker in its internal notes, then a new entry. A
// session without a representative gets none.
func (r *run) addTimeEntry(ctx context.Context, ticket int64, sess *bt.Session) error {
	rep, ok := sess.PrimaryRepresentative()
	if !ok || rep.Username == "" {
		r.log.Warn("connectwise: no time entry: the session has no primary representative", "lsid", sess.LSID)
		r.job.Explain("time entry", "no time entry: the session has no primary representative")
		return nil
	}
	mark := marker(sess.LSID, "time")
	scope := []string{"chargeToId=" + strconv.FormatInt(ticket, 10), `chargeToType="ServiceTicket"`}
	entry := timeEntry(r.set, sess)
	id, existing, err := r.once(ctx, "time_entry",
		func() (string, bool, error) {
			id, ok, err := r.findMarked(ctx, "time/entries", scope, "internalNotes", mark)
			if err != nil {
				return "", false, fmt.Errorf("connectwise: look for an earlier time entry on ticket #%d: %w", ticket, err)
			}
			return strconv.FormatInt(id, 10), ok, nil
		},
		func() (string, error) {
			member, err := r.member(ctx, rep.Username)
			if err != nil {
				return "", err
			}
			entry["chargeToId"] = ticket
			entry["member"] = map[string]any{"identifier": member}
			entry["internalNotes"] = mark
			id, err := r.cw.Create(ctx, "time/entries", entry)
			if err != nil {
				return "", fmt.Errorf("connectwise: add time entry to ticket #%d for member %s: %w", ticket, member, err)
			}
			r.log.Info("connectwise: time entry added", "ticket", ticket, "time_entry", id, "member", member)
			return strconv.FormatInt(id, 10), nil
		})
	if err == nil {
		r.recordOn(ticket, recordTimeEntry, id, strconv.FormatFloat(entry["actualHours"].(float64), 'f', 2, 64)+" h", existing)
	}
	return err
}

// maxHours keeps one entry within a day; a longer session is cut.
const maxHours = 24

// timeEntry builds the entry's fields from the settings and the session:
// start and end in UTC (reference §5.2), hours to two decimals.
func timeEntry(s *Settings, sess *bt.Session) map[string]any {
	start, end := sess.StartTime.UTC(), sess.EndTime.UTC()
	if end.Sub(start) > maxHours*time.Hour {
		end = start.Add(maxHours * time.Hour)
	}
	if !end.After(start) {
		end = start.Add(time.Minute)
	}
	entry := map[string]any{
		"chargeToType":               "ServiceTicket",
		"timeStart":                  start.Format(time.RFC3339),
		"timeEnd":                    end.Format(time.RFC3339),
		"actualHours":                math.Max(0.01, math.Round(end.Sub(start).Hours()*100)/100),
		"billableOption":             s.BillableOption,
		"notes":                      s.TimeEntryNotes,
		"addToDetailDescriptionFlag": false,
		"addToInternalAnalysisFlag":  s.TimeEntryInNote,
		"addToResolutionFlag":        false,
		"emailResourceFlag":          false,
		"emailContactFlag":           false,
		"emailCcFlag":                false,
	}
	if s.BillableOption == "" {
		entry["billableOption"] = "NoDefault"
	}
	if s.WorkType != "" {
		entry["workType"] = map[string]any{"name": s.WorkType}
	}
	if s.WorkRole != "" {
		entry["workRole"] = map[string]any{"name": s.WorkRole}
	}
	return entry
}

// member maps a BeyondTrust username to an active member's identifier:
// the table first, then the rule. No member is permanent: the admin must
// add one or map the username.
func (r *run) member(ctx context.Context, username string) (string, error) {
	table, err := parseMemberTable(r.set.MemberTable)
	if err != nil {
		return "", engine.Permanent(fmt.Errorf("connectwise: Member Table %w", err))
	}
	var cond, how string
	if id, ok := table[strings.ToLower(username)]; ok {
		q, _ := quote(id)
		cond, how = "identifier="+q, "the Member Table maps "+username+" to "+id
	} else if r.set.MemberRule == MemberByEmail {
		email := username
		if !strings.Contains(email, "@") {
			email += "@" + r.set.MemberDomain
		}
		q, ok := quote(email)
		if !ok {
			return "", engine.Permanent(fmt.Errorf("connectwise: the username %q cannot be searched", username))
		}
		cond, how = "(primaryEmail="+q+" or officeEmail="+q+")", "no active member has the e-mail "+email
	} else {
		q, ok := quote(username)
		if !ok {
			return "", engine.Permanent(fmt.Errorf("connectwise: the username %q cannot be searched", username))
		}
		cond, how = "identifier="+q, "no active member has the identifier "+username
	}
	found, err := Find[struct {
		Identifier string `json:"identifier"`
	}](ctx, r.cw, "system/members", url.Values{"conditions": {cond + " and inactiveFlag=false"}}, 1)
	if err != nil {
		return "", fmt.Errorf("connectwise: find the member for %s: %w", username, err)
	}
	if len(found) == 0 || found[0].Identifier == "" {
		if strings.HasPrefix(how, "the Member Table") {
			how += ", which is not an active member"
		}
		return "", engine.Permanent(fmt.Errorf("connectwise: no member for representative %s: %s; check Member Mapping", username, how))
	}
	r.job.Explain("time entry", "the primary representative %q is ConnectWise member %s (found by %s)", username, found[0].Identifier, strings.TrimPrefix(cond, "("))
	return found[0].Identifier, nil
}
