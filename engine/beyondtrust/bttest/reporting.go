package bttest

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"switchboard/engine/beyondtrust"
)

// noData is the "nothing matches" message by locale. The English and French
// texts follow what public clients quote; the others are our translations.
var noData = map[string]string{
	"en": "No Support report information matching your chosen criteria is available.",
	"fr": "Aucune information de rapport d’assistance correspondant à vos critères n’est disponible.",
	"de": "Es sind keine Support-Berichtsinformationen verfügbar, die Ihren gewählten Kriterien entsprechen.",
	"es": "No hay información de informes de soporte que coincida con los criterios elegidos.",
	"it": "Nessuna informazione di report di supporto corrispondenti ai criteri scelti è disponibile.",
	"nl": "Er is geen supportrapportinformatie beschikbaar die voldoen aan de gekozen criteria.",
	"pt": "Não há informações de relatório de suporte que correspondam aos critérios escolhidos.",
	"sv": "Det finns ingen supportrapportinformation som matchar dina valda kriterier.",
	"ja": "選択した条件に一致するサポート レポート情報はありません。",
	"zh": "没有符合所选条件的支持报告信息。",
}

// NoDataMessage is the appliance's "no data" text in a locale such as
// "fr-fr"; unknown locales get English.
func NoDataMessage(locale string) string {
	lang, _, _ := strings.Cut(strings.ToLower(locale), "-")
	if lang == "pt" && !strings.HasPrefix(strings.ToLower(locale), "pt-br") {
		lang = "en" // only Brazilian Portuguese is translated
	}
	if msg, ok := noData[lang]; ok {
		return msg
	}
	return noData["en"]
}

// reportNames per product: session, listing.
func (a *Appliance) reportNames() (session, listing string) {
	if a.product == beyondtrust.ProductPRA {
		return "AccessSession", "AccessSessionListing"
	}
	return "SupportSession", "SupportSessionListing"
}

// report serves /api/reporting.
func (a *Appliance) report(req request) (int, string) {
	ns := a.namespace(PathReporting)
	if !req.account.Reporting {
		return http.StatusForbidden, errorDoc(ns, "You do not have permission to access this report: the API account needs Allow Access to Support Session Reports and Recordings.")
	}
	sessionReport, listingReport := a.reportNames()
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	switch req.op {
	case sessionReport, listingReport:
		sessions, msg := a.selectSessions(req, now)
		if msg != "" {
			return http.StatusOK, errorDoc(ns, msg)
		}
		if req.op == listingReport {
			// An empty listing is an empty list, not an error.
			return http.StatusOK, document(func(x *xmlWriter) {
				x.start("session_summary_list", "xmlns", ns)
				for _, s := range sessions {
					summary(x, s)
				}
				x.end("session_summary_list")
			})
		}
		if len(sessions) == 0 {
			return http.StatusOK, errorDoc(ns, NoDataMessage(req.locale))
		}
		return http.StatusOK, document(func(x *xmlWriter) {
			x.start("session_list", "xmlns", ns)
			for _, s := range sessions {
				a.session(x, s, now)
			}
			x.end("session_list")
		})
	case "Team", "SupportTeam", "VaultAccountActivity", "Syslog":
		if status, body, ok := a.activity(req, now); ok {
			return status, body
		}
	case "EndpointLicenseUsage":
		if a.product == beyondtrust.ProductPRA {
			return http.StatusOK, a.endpointLicenseArchive()
		}
	case "SupportCustExitSurvey", "SupportRepExitSurvey":
		if a.product != beyondtrust.ProductRS {
			break
		}
		kind := beyondtrust.CustomerSurvey
		if req.op == "SupportRepExitSurvey" {
			kind = beyondtrust.RepSurvey
		}
		from, to, msg := window(req, "start_time", now)
		if msg != "" {
			return http.StatusOK, errorDoc(ns, msg)
		}
		var found []submittedSurvey
		for _, sv := range a.surveys {
			if sv.kind == kind && !sv.survey.Timestamp.Before(from) && sv.survey.Timestamp.Before(to) {
				found = append(found, sv)
			}
		}
		if len(found) == 0 {
			return http.StatusOK, errorDoc(ns, NoDataMessage(req.locale))
		}
		return http.StatusOK, document(func(x *xmlWriter) {
			x.start("exit_survey_list", "xmlns", ns)
			for _, sv := range found {
				exitSurvey(x, sv, a.sessions[sv.lsid])
			}
			x.end("exit_survey_list")
		})
	}
	return http.StatusOK, errorDoc(ns, "Invalid report type: "+req.op)
}

// window reads a Unix time parameter and a duration in seconds (0: up to
// now) into [from, to).
func window(req request, param string, now time.Time) (from, to time.Time, msg string) {
	start, err := strconv.ParseInt(req.form.Get(param), 10, 64)
	if err != nil {
		return from, to, "Invalid value for " + param
	}
	dur, err := strconv.ParseInt(req.form.Get("duration"), 10, 64)
	if err != nil || dur < 0 {
		return from, to, "Invalid value for duration"
	}
	from = time.Unix(start, 0).UTC()
	to = now.Add(time.Second) // "up to now", inclusive of this second
	if dur > 0 {
		to = from.Add(time.Duration(dur) * time.Second)
	}
	return from, to, ""
}

// selectSessions applies lsid, lsids, start_time or end_time with duration;
// the result is in lseq order. msg is an error text for bad parameters.
func (a *Appliance) selectSessions(req request, now time.Time) ([]*beyondtrust.Session, string) {
	var out []*beyondtrust.Session
	switch {
	case req.form.Has("lsid") || req.form.Has("lsids"):
		ids := strings.Split(req.form.Get("lsids"), ",")
		if req.form.Has("lsid") {
			ids = []string{req.form.Get("lsid")}
		}
		for _, id := range ids {
			if s, ok := a.sessions[strings.TrimSpace(id)]; ok {
				out = append(out, s)
			}
		}
	case req.form.Has("end_time"):
		from, to, msg := window(req, "end_time", now)
		if msg != "" {
			return nil, msg
		}
		for _, s := range a.sessions {
			if s.Ended() && !s.EndTime.Before(from) && s.EndTime.Before(to) {
				out = append(out, s)
			}
		}
	case req.form.Has("start_time"):
		from, to, msg := window(req, "start_time", now)
		if msg != "" {
			return nil, msg
		}
		for _, s := range a.sessions {
			if !s.StartTime.Before(from) && s.StartTime.Before(to) {
				out = append(out, s)
			}
		}
	default:
		return nil, "Missing parameters: give lsid, lsids, start_time or end_time with duration"
	}
	slices.SortFunc(out, func(x, y *beyondtrust.Session) int { return int(x.LSeq - y.LSeq) })
	return out, ""
}

// maxAttribute is the appliance's limit on one custom attribute value.
const maxAttribute = 1024

// command serves /api/command.
func (a *Appliance) command(req request) (int, string) {
	ns := a.namespace(PathCommand)
	if req.account.Command == "deny" || req.account.Command == "" {
		return http.StatusForbidden, errorDoc(ns, "You do not have permission to use the command API.")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch req.op {
	case "get_api_info":
		return http.StatusOK, a.apiInfo(req.account)
	case "set_session_attributes":
		if a.refuse != nil {
			a.refuse(req.op)
			return http.StatusInternalServerError, errorDoc(ns, "This simulator refuses writes.")
		}
		if req.account.Command != "full" {
			return http.StatusForbidden, errorDoc(ns, "You do not have permission to perform this action: the API account needs full command API access.")
		}
		s, ok := a.sessions[req.form.Get("lsid")]
		if !ok || s.Ended() {
			return http.StatusOK, errorDoc(ns, "The session is not active or does not exist.")
		}
		for _, k := range slices.Sorted(maps.Keys(req.form)) {
			code, ok := strings.CutPrefix(k, "session.custom.")
			if !ok {
				continue
			}
			v := req.form.Get(k)
			if len(v) > maxAttribute {
				return http.StatusOK, errorDoc(ns, "The value of "+k+" is longer than 1024 characters.")
			}
			if code == "external_key" {
				s.ExternalKey = v
				continue
			}
			setCustom(s, code, code, v)
		}
		return http.StatusOK, document(func(x *xmlWriter) { x.elem("success", "Session attributes were set", "xmlns", ns) })
	}
	return http.StatusOK, errorDoc(ns, "Invalid action: "+req.op)
}

func setCustom(s *beyondtrust.Session, code, display, value string) {
	for i := range s.CustomAttributes {
		if s.CustomAttributes[i].CodeName == code {
			s.CustomAttributes[i].Value = value
			return
		}
	}
	s.CustomAttributes = append(s.CustomAttributes, beyondtrust.CustomAttribute{CodeName: code, DisplayName: display, Value: value})
}

func (a *Appliance) apiInfo(acc *Account) string {
	ns := a.namespace(PathCommand)
	reporting := beyondtrust.PermReportingSupport
	if a.product == beyondtrust.ProductPRA {
		reporting = beyondtrust.PermReportingAccess
	}
	return document(func(x *xmlWriter) {
		x.start("api_information", "xmlns", ns)
		x.elem("api_version", "1.24.1")
		if a.product == beyondtrust.ProductRS {
			x.elem("company_name", "Switchboard Simulated Appliance")
		}
		x.elem("timestamp", unixText(a.now()))
		x.start("permissions")
		x.elem("perm_backup", "0")
		x.elem(beyondtrust.PermCommand, acc.Command)
		x.elem("perm_configuration", "0")
		x.elem(reporting, boolText(acc.Reporting))
		x.end("permissions")
		x.end("api_information")
	})
}
