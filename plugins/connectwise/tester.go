package connectwise

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"switchboard/engine"
	"switchboard/engine/connector"
	"switchboard/engine/outbound"
)

// checkTimeout bounds each Test check; the admin is waiting.
const checkTimeout = connector.CheckTimeout

// tester runs the ConnectWise half of the Test button. It only reads.
type tester struct {
	cfg  *engine.TestConfig
	set  *Settings
	cw   *Client
	down string // why the remaining ConnectWise checks cannot run, once known
}

// Test checks a configuration without writing to ConnectWise: the
// settings, the appliance, the site, the keys, the names the settings
// use, a member for a sample representative, a sample ticket, and the
// templates.
func (p *Plugin) Test(ctx context.Context, cfg *engine.TestConfig) []engine.Check {
	t := &tester{cfg: cfg}
	out := []engine.Check{t.settingsCheck()}
	set, ok := cfg.Settings.(*Settings)
	if !ok {
		return out
	}
	t.set = set
	out = append(out, engine.ApplianceChecks(ctx, cfg, set.AutoTicket)...)
	opts := p.options(set)
	opts.Timeout = checkTimeout
	if cw, err := NewClient(opts); err != nil {
		t.down = "the Site is not valid"
	} else {
		t.cw = cw
	}
	for _, bad := range []string{"site", "company_id", "public_key", "private_key", "client_id", "api_version"} {
		if cfg.Errors.For(bad) != "" {
			t.down = "fix the ConnectWise settings above first"
		}
	}
	steps := []struct {
		id, label string
		run       func(ctx context.Context) (status, message, detail string)
	}{
		{"connectwise_site", "Reach the site", t.site},
		{"connectwise_auth", "Authentication", t.auth},
		{"connectwise_ticket_names", "Board, status, priority, type and company", t.ticketNames},
		{"connectwise_member", "Member for a sample representative", t.member},
		{"connectwise_time", "Work type and work role", t.workNames},
		{"connectwise_sample_ticket", "Read the sample ticket", t.sampleTicket},
	}
	for _, s := range steps {
		out = append(out, timed(ctx, s.id, s.label, s.run))
	}
	return append(out, timed(ctx, "templates", "Report templates", t.templates))
}

var timed = connector.TimedCheck

func (t *tester) settingsCheck() engine.Check { return connector.SettingsCheck(t.cfg) }

// ready reports whether the ConnectWise checks can run, and if not the
// skipped check's values.
func (t *tester) ready() (bool, string, string, string) {
	if t.down != "" {
		return false, engine.CheckSkipped, "Skipped: " + t.down + ".", ""
	}
	return true, "", "", ""
}

func (t *tester) failed(err error) (string, string, string) {
	msg, detail := explain(err)
	return engine.CheckFail, msg, detail
}

func (t *tester) site(ctx context.Context) (string, string, string) {
	if ok, s, m, d := t.ready(); !ok {
		return s, m, d
	}
	root, err := t.cw.Root(ctx)
	if err != nil {
		t.down = "the site cannot be reached"
		return t.failed(err)
	}
	if t.cw.fixed != "" {
		return engine.CheckOK, "Using the configured API root " + root + ".", ""
	}
	return engine.CheckOK, "The company " + t.set.CompanyID + " is served at " + root + ".", ""
}

func (t *tester) auth(ctx context.Context) (string, string, string) {
	if ok, s, m, d := t.ready(); !ok {
		return s, m, d
	}
	var info struct {
		Version string `json:"version"`
	}
	if err := t.cw.Get(ctx, "system/info", &info); err != nil {
		t.down = "ConnectWise refused the keys"
		return t.failed(err)
	}
	return engine.CheckOK, "Signed in to ConnectWise PSA " + info.Version + " as " + t.set.CompanyID + "+" + t.set.PublicKey + ".", ""
}

// byName finds the record of path whose field is value; "" when none.
func (t *tester) byName(ctx context.Context, path, field, value string) (int64, error) {
	q, ok := quote(value)
	if !ok {
		return 0, nil
	}
	found, err := Find[struct {
		ID int64 `json:"id"`
	}](ctx, t.cw, path, url.Values{"conditions": {field + "=" + q}}, 1)
	if err != nil || len(found) == 0 {
		return 0, err
	}
	return found[0].ID, nil
}

func (t *tester) ticketNames(ctx context.Context) (string, string, string) {
	if !t.set.AutoTicket {
		return engine.CheckSkipped, "Automatic ticket creation is off.", ""
	}
	if ok, s, m, d := t.ready(); !ok {
		return s, m, d
	}
	board, err := t.byName(ctx, "service/boards", "name", t.set.Board)
	if err != nil {
		return t.failed(err)
	}
	if board == 0 {
		return engine.CheckFail, fmt.Sprintf("There is no board named %q; check Board.", t.set.Board), ""
	}
	boardPath := "service/boards/" + strconv.FormatInt(board, 10)
	checks := []struct{ setting, path, field, value string }{
		{"Status", boardPath + "/statuses", "name", t.set.Status},
		{"Type", boardPath + "/types", "name", t.set.Type},
		{"Priority", "service/priorities", "name", t.set.Priority},
		{"Company", "company/companies", "identifier", t.set.Company},
	}
	for _, c := range checks {
		if c.value == "" {
			continue
		}
		id, err := t.byName(ctx, c.path, c.field, c.value)
		if err != nil {
			return t.failed(err)
		}
		if id == 0 {
			where := ""
			if strings.HasPrefix(c.path, boardPath) {
				where = " on the board " + t.set.Board
			}
			return engine.CheckFail, fmt.Sprintf("%s: there is no %s %q%s.", c.setting, strings.ToLower(c.setting), c.value, where), ""
		}
	}
	if t.set.DefaultContactID != 0 {
		var c struct{}
		if err := t.cw.Get(ctx, "company/contacts/"+strconv.FormatInt(t.set.DefaultContactID, 10), &c); errors.Is(err, ErrNotFound) {
			return engine.CheckFail, fmt.Sprintf("Default Contact: there is no contact %d.", t.set.DefaultContactID), ""
		} else if err != nil {
			return t.failed(err)
		}
	}
	return engine.CheckOK, fmt.Sprintf("New tickets go to the board %s of company %s.", t.set.Board, t.set.Company), ""
}

func (t *tester) member(ctx context.Context) (string, string, string) {
	if ok, s, m, d := t.ready(); !ok {
		return s, m, d
	}
	rep := strings.TrimSpace(t.set.TestRep)
	if rep == "" {
		rep = firstTableUser(t.set.MemberTable)
	}
	if rep == "" {
		return engine.CheckSkipped, "Set Sample Representative (or a Member Table line) to check the member mapping.", ""
	}
	r := &run{set: t.set, cw: t.cw, log: slog.New(slog.DiscardHandler)}
	id, err := r.member(ctx, rep)
	if out, _ := engine.Classify(err); out == engine.OutcomePermanent && outbound.StatusOf(err) == 0 {
		// The mapping found no member (or the table is broken): the
		// error says which rule was tried.
		return engine.CheckFail, strings.TrimPrefix(err.Error(), "connectwise: ") + ".", ""
	}
	if err != nil {
		return t.failed(err)
	}
	return engine.CheckOK, fmt.Sprintf("The representative %s is the member %s.", rep, id), ""
}

func (t *tester) workNames(ctx context.Context) (string, string, string) {
	if !t.set.TimeEntry {
		return engine.CheckSkipped, "Add Time Entry is off.", ""
	}
	if ok, s, m, d := t.ready(); !ok {
		return s, m, d
	}
	for _, c := range []struct{ setting, path, value string }{{"Work Type", "time/workTypes", t.set.WorkType}, {"Work Role", "time/workRoles", t.set.WorkRole}} {
		if c.value == "" {
			continue
		}
		id, err := t.byName(ctx, c.path, "name", c.value)
		if err != nil {
			return t.failed(err)
		}
		if id == 0 {
			return engine.CheckFail, fmt.Sprintf("%s: there is no %s %q.", c.setting, strings.ToLower(c.setting), c.value), ""
		}
	}
	return engine.CheckOK, "Time entries can be written with these work type and role.", ""
}

func (t *tester) sampleTicket(ctx context.Context) (string, string, string) {
	if t.set.TestTicketID == 0 {
		return engine.CheckSkipped, "Set Sample Ticket to check that tickets can be read.", ""
	}
	if ok, s, m, d := t.ready(); !ok {
		return s, m, d
	}
	var tk struct {
		Summary string `json:"summary"`
	}
	err := t.cw.Get(ctx, "service/tickets/"+strconv.FormatInt(t.set.TestTicketID, 10), &tk)
	if errors.Is(err, ErrNotFound) {
		return engine.CheckFail, fmt.Sprintf("There is no ticket #%d, or the API member may not see it.", t.set.TestTicketID), ""
	}
	if err != nil {
		return t.failed(err)
	}
	return engine.CheckOK, fmt.Sprintf("Ticket #%d reads: %s", t.set.TestTicketID, tk.Summary), ""
}

// firstTableUser is the username of the Member Table's first mapping.
func firstTableUser(table string) string {
	if _, err := parseMemberTable(table); err != nil {
		return ""
	}
	for _, line := range strings.Split(table, "\n") {
		line = strings.TrimSpace(line)
		if user, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			return strings.TrimSpace(user)
		}
	}
	return ""
}

// templates renders every template the plugin uses against the sample
// session.
func (t *tester) templates(context.Context) (string, string, string) {
	return connector.TemplatesCheck(t.cfg, t.set.Location())
}

// explain turns a client error into the line an admin reads, and the
// upstream detail.
func explain(err error) (message, detail string) {
	detail = err.Error()
	switch outbound.StatusOf(err) {
	case http.StatusUnauthorized:
		return "Authentication failed (401) — check Company ID, Public Key, Private Key and Client ID.", detail
	case http.StatusForbidden:
		return "Permission denied (403) — the API member's security role must allow reading and adding service tickets, notes, time entries and members.", detail
	case http.StatusNotFound:
		return "Not found (404) — check Site: it must be your region's API host or your server's /apis/3.0 URL.", detail
	case http.StatusTooManyRequests:
		return "ConnectWise is throttling this integration (429) — try again in a minute.", detail
	}
	if p, ok := problemOf(err); ok {
		msg := p.Message
		for _, e := range p.Errors {
			msg += "; " + e.Message
		}
		return "ConnectWise refused the request: " + msg, detail
	}
	if s := outbound.StatusOf(err); s >= 500 {
		return fmt.Sprintf("ConnectWise had a server error (%d) — try again later.", s), detail
	}
	if msg, ok := connector.ExplainNetwork(err, connector.Reach{DNS: "Site and DNS", Cert: "the site's certificate",
		Timeout: "the site", Refused: "Site and HTTPS 443 from this server"}); ok {
		return msg, detail
	}
	return strings.TrimPrefix(detail, "connectwise: "), detail
}
