package bttest

import (
	"archive/zip"
	"bytes"
	"net/http"
	"slices"
	"strings"
	"time"

	"switchboard/engine/beyondtrust"
)

// TeamEvent is one event of the Team report (PRA; SupportTeam on RS), in
// the shape of reference §5 "PRA reports": team_activity (id, name) →
// events/event (timestamp, event_type) with performed_by (type; text name)
// and data/value (name, value).
type TeamEvent struct {
	TeamID, TeamName string
	Time             time.Time
	Type             string // e.g. "Conference Member Added"
	PerformedByType  string // e.g. "representative"
	PerformedBy      string
	Data             [][2]string // name, value pairs, in order
}

// VaultActivity is one entry of the VaultAccountActivity report:
// vault_account_activity (timestamp, event_type, account) with performed_by
// (id, type; text name) and data (text).
type VaultActivity struct {
	Time            time.Time
	Type            string // e.g. "Password Changed"
	Account         string // the account attribute (an id)
	PerformedByID   string
	PerformedByType string
	PerformedBy     string
	Data            string // "" leaves data out, as Sekoia's fixture shows for some entries
}

// AddTeamEvent records a team activity event.
func (a *Appliance) AddTeamEvent(e TeamEvent) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.team = append(a.team, e)
}

// AddVaultActivity records a vault account activity entry.
func (a *Appliance) AddVaultActivity(v VaultActivity) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.vault = append(a.vault, v)
}

// AddSyslog appends lines, verbatim, to the appliance's syslog, which the
// Syslog report serves as syslog.log inside a ZIP archive. A test writes
// them in the shape Sekoia's fixtures show:
// "Mar 10 11:55:00 host BG[pid]: number:part:total:field=value;…".
func (a *Appliance) AddSyslog(lines ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.syslog = append(a.syslog, lines...)
}

// No-data texts of the activity reports (reference §3 "Empty results").
const (
	noTeamData  = "No Support Team report information matching your chosen criteria is available."
	noVaultData = "No vault account activity matching your chosen criteria is available"
)

// activity serves Team/SupportTeam, VaultAccountActivity and Syslog; ok is
// false for a report this product does not have. a.mu is held.
func (a *Appliance) activity(req request, now time.Time) (status int, body string, ok bool) {
	ns := a.namespace(PathReporting)
	teamReport := "SupportTeam"
	if a.product == beyondtrust.ProductPRA {
		teamReport = "Team"
	}
	switch req.op {
	case "Syslog":
		// Only PRA's reporting API documents a Syslog report.
		return http.StatusOK, a.syslogArchive(), a.product == beyondtrust.ProductPRA
	case teamReport, "VaultAccountActivity":
	default:
		return 0, "", false
	}
	param := "end_time"
	if !req.form.Has(param) {
		param = "start_time"
	}
	from, to, msg := window(req, param, now)
	if msg != "" {
		return http.StatusOK, errorDoc(ns, msg), true
	}
	in := func(t time.Time) bool { return !t.Before(from) && t.Before(to) }
	if req.op == "VaultAccountActivity" {
		var found []VaultActivity
		for _, v := range a.vault {
			if in(v.Time) {
				found = append(found, v)
			}
		}
		if len(found) == 0 {
			return http.StatusOK, errorDoc(ns, noVaultData), true
		}
		return http.StatusOK, document(func(x *xmlWriter) {
			x.start("vault_account_activity_list", "xmlns", ns)
			for _, v := range found {
				x.start("vault_account_activity", "timestamp", unixText(v.Time), "event_type", v.Type, "account", v.Account)
				x.elem("performed_by", v.PerformedBy, "id", v.PerformedByID, "type", v.PerformedByType)
				if v.Data != "" {
					x.elem("data", v.Data)
				}
				x.end("vault_account_activity")
			}
			x.end("vault_account_activity_list")
		}), true
	}
	byTeam := map[string][]TeamEvent{}
	var order []string
	for _, e := range a.team {
		if !in(e.Time) {
			continue
		}
		if _, seen := byTeam[e.TeamID]; !seen {
			order = append(order, e.TeamID)
		}
		byTeam[e.TeamID] = append(byTeam[e.TeamID], e)
	}
	if len(order) == 0 {
		return http.StatusOK, errorDoc(ns, noTeamData), true
	}
	slices.Sort(order)
	return http.StatusOK, document(func(x *xmlWriter) {
		x.start("team_activity_list", "xmlns", ns)
		for _, id := range order {
			events := byTeam[id]
			x.start("team_activity", "id", id, "name", events[0].TeamName)
			x.start("events")
			for _, e := range events {
				x.start("event", "timestamp", unixText(e.Time), "event_type", e.Type)
				x.elem("performed_by", e.PerformedBy, "type", e.PerformedByType)
				x.start("data")
				for _, kv := range e.Data {
					x.start("value", "name", kv[0], "value", kv[1])
					x.end("value")
				}
				x.end("data")
				x.end("event")
			}
			x.end("events")
			x.end("team_activity")
		}
		x.end("team_activity_list")
	}), true
}

// syslogArchive is the ZIP the Syslog report downloads. a.mu is held.
func (a *Appliance) syslogArchive() string {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("syslog.log")
	if err == nil {
		_, err = w.Write([]byte(strings.Join(a.syslog, "\n")))
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		panic("bttest: build the syslog archive: " + err.Error())
	}
	return buf.String()
}
