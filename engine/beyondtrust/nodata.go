package beyondtrust

import "strings"

// The reporting API answers a query that matches nothing with an <error>
// document, often with HTTP 200, whose text follows the API locale, e.g.
// "No Support report information matching your chosen criteria is
// available." Switchboard treats such an error as an empty result when its
// text contains one of these markers (compared in lower case, with typographic
// apostrophes folded). The English and French markers are seen in public
// clients; the others are our translations of the same sentence and may need
// adjusting against a real appliance in that language. An unrecognised
// "no data" text is reported as an error, never read as empty, so a poll
// cannot skip over sessions because of a wording it did not know.
var noDataMarkers = []string{
	"matching your chosen criteria",    // en
	"correspondant à vos critères",     // fr
	"ihren gewählten kriterien",        // de
	"coincida con los criterios",       // es
	"corrispondenti ai criteri",        // it
	"voldoen aan de gekozen criteria",  // nl
	"correspondam aos critérios",       // pt-br
	"som matchar dina valda kriterier", // sv
	"選択した条件に一致する",                      // ja
	"符合所选条件",                           // zh-hans
}

// IsNoData reports whether the text of an <error> document means "no data
// matches the query" rather than a failure.
func IsNoData(message string) bool {
	m := strings.ToLower(strings.ReplaceAll(message, "’", "'"))
	for _, marker := range noDataMarkers {
		if strings.Contains(m, marker) {
			return true
		}
	}
	return false
}
