package render

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	// Templates name zones such as "Europe/Berlin"; embedding the zone
	// database keeps that working on hosts without one (Windows).
	_ "time/tzdata"

	"github.com/aymerick/raymond"
)

// helpers are the template helpers, registered on every parsed template (not
// in raymond's global registry, which panics on a second registration and
// is shared with anything else in the process). docs/templates.md documents
// each one, and the compatibility test mirrors them in JavaScript.
var helpers = map[string]any{
	"formatTime":     formatTimeHelper,
	"formatDuration": formatDurationHelper,
	"default":        defaultHelper,
	"eq":             func(a, b any) bool { return compare(a, b) == 0 },
	"ne":             func(a, b any) bool { return compare(a, b) != 0 },
	"lt":             func(a, b any) bool { return compare(a, b) < 0 },
	"le":             func(a, b any) bool { return compare(a, b) <= 0 },
	"gt":             func(a, b any) bool { return compare(a, b) > 0 },
	"ge":             func(a, b any) bool { return compare(a, b) >= 0 },
	"and":            func(a, b any) bool { return raymond.IsTrue(a) && raymond.IsTrue(b) },
	"or":             func(a, b any) bool { return raymond.IsTrue(a) || raymond.IsTrue(b) },
	"not":            func(a any) bool { return !raymond.IsTrue(a) },
	"upper":          func(s any) string { return strings.ToUpper(raymond.Str(s)) },
	"lower":          func(s any) string { return strings.ToLower(raymond.Str(s)) },
	"truncate":       truncateHelper,
	"join":           joinHelper,
	"indent":         indentHelper,
	"pluralize":      pluralizeHelper,
	"length":         lengthHelper,
}

// builtinHelpers are raymond's own helpers.
var builtinHelpers = []string{"if", "unless", "with", "each", "log", "lookup", "equal"}

// isHelper reports whether templates can call name as a helper.
func isHelper(name string) bool {
	_, ok := helpers[name]
	for _, b := range builtinHelpers {
		ok = ok || b == name
	}
	return ok
}

// Named layouts formatTime accepts besides Go layouts.
var namedLayouts = map[string]string{
	"date":     "2006-01-02",
	"time":     "15:04:05",
	"datetime": "2006-01-02 15:04:05",
	"rfc3339":  time.RFC3339,
}

// zones caches time.LoadLocation, which reads the zone database every call.
var zones sync.Map

func loadZone(name string) (*time.Location, error) {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, loc)
	return loc, nil
}

// formatTimeHelper: {{formatTime start "02 Jan 2006 15:04" tz="America/New_York"}}.
func formatTimeHelper(v any, layout string, options *raymond.Options) string {
	t, ok := asTime(v)
	if !ok {
		return raymond.Str(v)
	}
	if t.IsZero() {
		return ""
	}
	if tz := options.HashStr("tz"); tz != "" {
		loc, err := loadZone(tz)
		if err != nil {
			panic(fmt.Errorf("formatTime: unknown time zone %q", tz))
		}
		t = t.In(loc)
	}
	if named, ok := namedLayouts[layout]; ok {
		layout = named
	}
	return t.Format(layout)
}

func asTime(v any) (time.Time, bool) {
	switch t := v.(type) {
	case Time:
		return t.t, true
	case *Time:
		if t == nil {
			return time.Time{}, true
		}
		return t.t, true
	case time.Time:
		return t, true
	case string:
		parsed, err := time.Parse(time.RFC3339, t)
		return parsed, err == nil
	case nil:
		return time.Time{}, true
	}
	return time.Time{}, false
}

// formatDurationHelper: {{formatDuration duration "clock"}}; styles are
// short (1h 2m 3s), clock (1:02:03), minutes (63, rounded up) and hours
// (1.05, two decimals).
func formatDurationHelper(v any, style string) string {
	var d time.Duration
	switch x := v.(type) {
	case Duration:
		d = x.d
	case time.Duration:
		d = x
	case nil:
	default:
		n, ok := asNumber(v)
		if !ok {
			return raymond.Str(v)
		}
		d = time.Duration(n * float64(time.Second))
	}
	d = d.Truncate(time.Second)
	switch style {
	case "", "short":
		return NewDuration(d).String()
	case "clock":
		s := int64(d / time.Second)
		sign := ""
		if s < 0 {
			sign, s = "-", -s
		}
		return fmt.Sprintf("%s%d:%02d:%02d", sign, s/3600, s/60%60, s%60)
	case "minutes":
		return strconv.FormatInt(int64(math.Ceil(d.Minutes())), 10)
	case "hours":
		return strconv.FormatFloat(math.Round(d.Hours()*100)/100, 'f', 2, 64)
	}
	panic(fmt.Errorf("formatDuration: unknown style %q (short, clock, minutes, hours)", style))
}

// defaultHelper: {{default customer.company "(none)"}} gives the value, or
// the fallback when the value is empty, false, zero or missing.
func defaultHelper(v, fallback any) any {
	if raymond.IsTrue(v) {
		return v
	}
	return fallback
}

// compare orders two values: as numbers when both are numbers, else as the
// text they print.
func compare(a, b any) int {
	if x, ok := asNumber(a); ok {
		if y, ok := asNumber(b); ok {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	}
	return strings.Compare(raymond.Str(a), raymond.Str(b))
}

// asNumber reads numbers and numeric text, the way handlebars.js data from
// JSON compares.
func asNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case float64:
		return x, !math.IsNaN(x)
	case float32:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint64:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return 0, false
}

func asInt(name string, v any) int {
	n, ok := asNumber(v)
	if !ok || n > math.MaxInt32 || n < math.MinInt32 {
		panic(fmt.Errorf("%s: %q is not a whole number", name, raymond.Str(v)))
	}
	return int(n)
}

// truncateHelper: {{truncate text 80}} keeps the first 80 characters and
// adds "..." (or suffix="…") when it cut something.
func truncateHelper(v, n any, options *raymond.Options) string {
	s, limit := raymond.Str(v), asInt("truncate", n)
	suffix := "..."
	if _, ok := options.Hash()["suffix"]; ok {
		suffix = options.HashStr("suffix")
	}
	if limit < 0 {
		limit = 0
	}
	i := 0
	for pos := range s {
		if i == limit {
			return s[:pos] + suffix
		}
		i++
	}
	return s
}

// joinHelper: {{join repNames ", "}}.
func joinHelper(v any, sep string) string {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return raymond.Str(v)
	}
	parts := make([]string, rv.Len())
	for i := range parts {
		parts[i] = raymond.Str(rv.Index(i).Interface())
	}
	return strings.Join(parts, sep)
}

// indentHelper: {{indent text 4}} puts 4 spaces before every line of text
// but the first, so a multi-line value lines up under where the template
// placed it.
func indentHelper(v, n any) string {
	width := asInt("indent", n)
	if width < 0 || width > 80 {
		panic(fmt.Errorf("indent: width %d is not between 0 and 80", width))
	}
	s := raymond.Str(v)
	return strings.ReplaceAll(s, "\n", "\n"+strings.Repeat(" ", width))
}

// pluralizeHelper: {{pluralize fileTransfers "file"}} gives "1 file" or
// "3 files"; plural="children" for irregular words. A list counts its
// items.
func pluralizeHelper(v any, singular string, options *raymond.Options) string {
	n, ok := items(v)
	if !ok {
		n = asInt("pluralize", v)
	}
	word := singular
	if n != 1 {
		word = singular + "s"
		if p := options.HashStr("plural"); p != "" {
			word = p
		}
	}
	return strconv.Itoa(n) + " " + word
}

// lengthHelper: {{length chat}} counts the items of a list or the
// characters of a text; 0 for anything else.
func lengthHelper(v any) int {
	if s, ok := v.(string); ok {
		return len([]rune(s))
	}
	n, _ := items(v)
	return n
}

// items counts the items of a list; a missing list has none.
func items(v any) (int, bool) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		return rv.Len(), true
	case reflect.Invalid:
		return 0, true
	}
	return 0, false
}
