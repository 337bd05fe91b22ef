package adminui

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"switchboard/engine"
	"switchboard/engine/render"
	"switchboard/engine/service"
)

// funcs are the helpers the page templates use.
var funcs = template.FuncMap{
	"when":         when,
	"duration":     duration,
	"eventLabel":   engine.EventLabel,
	"sourceLabel":  sourceLabel,
	"layerLabel":   layerLabel,
	"stateClass":   stateClass,
	"retryable":    retryable,
	"statusClass":  statusClass,
	"statusLabel":  statusLabel,
	"checkSummary": checkSummary,
	"describedBy":  describedBy,
	"icon":         icon,
	"firstLine":    firstLine,
}

// firstLine is the first line of s, cut to about max characters: an
// error's gist for a list, whose full text is one click away.
func firstLine(max int, s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return s
}

// timeLayout is how a time reads without the page's script: in UTC, as
// stored and as the log has it. The script shows it in the admin's own
// time zone and keeps the UTC text as the element's title.
const timeLayout = "2006-01-02 15:04:05 UTC"

func when(t time.Time) template.HTML {
	if t.IsZero() {
		return "—"
	}
	u := t.UTC()
	return template.HTML(`<time datetime="` + u.Format(time.RFC3339) + `" data-local>` + u.Format(timeLayout) + `</time>`)
}

func duration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0 ms"
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return d.Round(time.Second).String()
}

func sourceLabel(source string) string {
	switch source {
	case engine.SourceOutbound:
		return "Outbound event"
	case engine.SourcePoll:
		return "Polling"
	}
	return source
}

// layerLabel names the layer a template is served from.
func layerLabel(source string) string {
	switch source {
	case render.SourceSet:
		return "Template set"
	case render.SourceOverride:
		return "Admin override"
	case render.SourcePlugin:
		return "Plugin default"
	case render.SourceEmbedded:
		return "Engine default"
	}
	return source
}

// deliveryStates are the states a delivery filter offers, in lifecycle order.
var deliveryStates = []string{service.StatePending, service.StateRunning, service.StateRetrying, service.StateDone, service.StateFailed, service.StateSkipped}

func stateClass(state string) string {
	switch state {
	case service.StateDone:
		return "ok"
	case service.StateFailed:
		return "fail"
	case service.StateRetrying:
		return "warn"
	case service.StateSkipped:
		return "off"
	}
	return "info"
}

// retryable says whether "Retry now" makes sense: the delivery has ended
// without success, or waits for its next try.
func retryable(state string) bool {
	switch state {
	case service.StateFailed, service.StateSkipped, service.StateRetrying:
		return true
	}
	return false
}

func statusClass(status string) string {
	switch status {
	case engine.CheckOK:
		return "ok"
	case engine.CheckWarn:
		return "warn"
	case engine.CheckFail:
		return "fail"
	}
	return "off"
}

func statusLabel(status string) string {
	switch status {
	case engine.CheckOK:
		return "OK"
	case engine.CheckWarn:
		return "Warning"
	case engine.CheckFail:
		return "Failed"
	case engine.CheckSkipped:
		return "Skipped"
	}
	return status
}

// checkSummary is the one line a screen reader announces when a test ends.
func checkSummary(checks []engine.Check) string {
	var failed, warned int
	for _, c := range checks {
		switch c.Status {
		case engine.CheckFail:
			failed++
		case engine.CheckWarn:
			warned++
		}
	}
	switch {
	case failed > 0:
		return fmt.Sprintf("%d of %d checks failed.", failed, len(checks))
	case warned > 0:
		return fmt.Sprintf("All checks passed, %d with a warning.", warned)
	}
	return fmt.Sprintf("All %d checks passed.", len(checks))
}

// describedBy lists the help and error elements of a field for
// aria-describedby; the error slot always exists so a script can fill it.
func describedBy(f formField) string {
	if f.Help == "" {
		return f.ID + "-error"
	}
	return f.ID + "-help " + f.ID + "-error"
}

// icons are inline SVGs (no icon font, no request). They are decorative:
// the text next to each says what it means.
var icons = map[string]template.HTML{
	"clipboard": `<svg class="icon" aria-hidden="true" focusable="false" viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><rect x="5" y="4" width="14" height="17" rx="2"/><path d="M9 4V3h6v1"/><rect x="9" y="2.5" width="6" height="3" rx="1"/><path d="M12 10v6M9 13h6"/></svg>`,
}

func icon(name string) template.HTML { return icons[name] }
