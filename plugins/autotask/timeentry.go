package autotask

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"switchboard/engine"
	bt "switchboard/engine/beyondtrust"
)

// Autotask's limits on hoursWorked: more than 0, at most 24.
const (
	minHours = 0.01
	maxHours = 24
)

// addTimeEntry records the session's time for the primary representative
// on the ticket, unless the checkpoint or an entry carrying the marker in
// its internal notes shows it was recorded before.
func (r *run) addTimeEntry(ctx context.Context, ticket ticketRef, sess *bt.Session) error {
	def, err := r.set.timeEntryDefaults()
	if err != nil {
		return engine.Permanent(fmt.Errorf("autotask: Time Entry Default Data %w", err))
	}
	rep, ok := sess.PrimaryRepresentative()
	if !ok || rep.Username == "" {
		r.log.Warn("autotask: no time entry: the session has no primary representative", "lsid", sess.LSID)
		r.job.Explain("time entry", "no time entry: the session has no primary representative")
		return nil
	}
	mark := marker(sess.LSID, "time")
	id, existing, err := r.job.Once(ctx, "time_entry",
		func(ctx context.Context) (string, bool, error) {
			// By ticket and marker only: an earlier attempt may have written
			// the entry for a resource id that has changed since.
			earlier, ok, err := r.findMarked(ctx, "TimeEntries", []Filter{Eq("ticketID", ticket.ID)}, "internalNotes", mark)
			if err != nil {
				return "", false, Classify(fmt.Errorf("look for an earlier time entry on ticket %s: %w", ticket, err))
			}
			return strconv.FormatInt(earlier, 10), ok, nil
		},
		func(ctx context.Context) (string, error) {
			resourceID, err := r.resource(ctx, rep.Username, def.DefaultDomain)
			if err != nil {
				return "", err
			}
			roleID, err := r.role(ctx, def.RoleName)
			if err != nil {
				return "", err
			}
			entry := timeEntry(def, sess, r.set.Location())
			entry["ticketID"] = ticket.ID
			entry["resourceID"] = resourceID
			entry["roleID"] = roleID
			notes, _ := entry["internalNotes"].(string)
			entry["internalNotes"] = strings.TrimSpace(notes + "\n" + mark)
			id, err := r.at.Create(ctx, "TimeEntries", entry)
			if err != nil {
				id, err = r.refreshRefs(ctx, ticket, entry, err, def, rep.Username, mark)
			}
			if err != nil {
				return "", Classify(fmt.Errorf("add time entry to ticket %s: %w", ticket, err),
					Blame{"Time Entry Default Data", append(slices.Collect(maps.Keys(def.Fields)), "summaryNotes")},
					Blame{"Time Entry Default Data (roleName)", []string{"roleID", "role"}})
			}
			r.log.Info("autotask: time entry added", "ticket", ticket.String(), "time_entry", id)
			return strconv.FormatInt(id, 10), nil
		})
	if err == nil {
		hours, _ := timeEntry(def, sess, r.set.Location())["hoursWorked"].(float64)
		r.recordOn(ticket, recordTimeEntry, id, strconv.FormatFloat(hours, 'f', 2, 64)+" h", existing)
	}
	return err
}

// timeEntry builds the entry's session-derived fields over the defaults.
// Times go as UTC; dateWorked is the start's date in the report time zone,
// the day the representative worked. A session longer than Autotask takes
// is cut to 24 hours.
func timeEntry(def TimeEntryDefaults, sess *bt.Session, loc *time.Location) map[string]any {
	entry := make(map[string]any, len(def.Fields)+8)
	for k, v := range def.Fields {
		entry[k] = v
	}
	start, end := sess.StartTime.UTC(), sess.EndTime.UTC()
	if end.Sub(start) > maxHours*time.Hour {
		end = start.Add(maxHours * time.Hour)
	}
	hours := math.Round(end.Sub(start).Hours()*100) / 100
	if hours < minHours {
		hours = minHours
		end = start.Add(36 * time.Second)
	}
	entry["dateWorked"] = start.In(loc).Format("2006-01-02") + "T00:00:00"
	entry["startDateTime"] = start.Format(time.RFC3339)
	entry["endDateTime"] = end.Format(time.RFC3339)
	entry["hoursWorked"] = hours
	entry["summaryNotes"] = def.SummaryNotes
	return entry
}

// resource finds the active Autotask resource whose e-mail is the
// representative's username at the default domain (remembered a while:
// RefID).
func (r *run) resource(ctx context.Context, username, domain string) (int64, error) {
	email := username
	if domain != "" && !strings.Contains(username, "@") {
		email = username + "@" + domain
	}
	id, ok, err := r.at.RefID(ctx, "Resources", Eq("email", email), Eq("isActive", true))
	if err != nil {
		return 0, Classify(fmt.Errorf("find the resource %s: %w", email, err))
	}
	if !ok {
		return 0, engine.Permanent(fmt.Errorf("autotask: no active Autotask resource has the e-mail %s (BeyondTrust username %q + defaultDomain); check defaultDomain in Time Entry Default Data", email, username))
	}
	r.job.Explain("time entry", "the primary representative %q is Autotask resource %d (e-mail %s)", username, id, email)
	return id, nil
}

// role finds the active role with that name (remembered a while: RefID).
func (r *run) role(ctx context.Context, name string) (int64, error) {
	id, ok, err := r.at.RefID(ctx, "Roles", Eq("name", name), Eq("isActive", true))
	if err != nil {
		return 0, Classify(fmt.Errorf("find the role %q: %w", name, err))
	}
	if !ok {
		return 0, engine.Permanent(fmt.Errorf("autotask: there is no active Autotask role named %q; check roleName in Time Entry Default Data", name))
	}
	return id, nil
}

// refreshRefs answers a time entry Autotask did not take. The resource
// and role ids may be remembered from before a change in Autotask (a
// resource deactivated and made again for the same e-mail, a role
// replaced): they are forgotten and looked up again, and when either
// changed the entry is written once more, in this attempt, with the ids
// Autotask has now. An entry the failed write made after all (a server
// error) is found by its marker on the ticket first, so that nothing is
// written twice. Otherwise the original error stands.
func (r *run) refreshRefs(ctx context.Context, ticket ticketRef, entry map[string]any, failed error, def TimeEntryDefaults, username, mark string) (int64, error) {
	r.at.ForgetRefs()
	var ae *APIError
	if !errors.As(failed, &ae) || (ae.Problem != ProblemRejected && ae.Problem != ProblemServer) {
		return 0, failed // no answer: the next attempt looks again
	}
	oldResource, _ := entry["resourceID"].(int64)
	oldRole, _ := entry["roleID"].(int64)
	resourceID, err := r.resource(ctx, username, def.DefaultDomain)
	if err != nil {
		return 0, failed
	}
	roleID, err := r.role(ctx, def.RoleName)
	if err != nil || (resourceID == oldResource && roleID == oldRole) {
		return 0, failed
	}
	id, ok, err := r.findMarked(ctx, "TimeEntries", []Filter{Eq("ticketID", ticket.ID)}, "internalNotes", mark)
	if err != nil {
		return 0, failed
	}
	if ok {
		return id, nil
	}
	r.log.Info("autotask: time entry refused for ids remembered from before; writing it with the current ones",
		"ticket", ticket.String(), "resource", resourceID, "role", roleID, "error", failed.Error())
	entry["resourceID"], entry["roleID"] = resourceID, roleID
	return r.at.Create(ctx, "TimeEntries", entry)
}
