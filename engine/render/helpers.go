package render

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"switchboard/engine"
)

// helper is a template helper taking a fixed number of arguments.
type helper struct {
	args int
	fn   func(c call) any
	// appendText is set for helpers whose result is always text: printing
	// it then goes through a reused buffer, not an interface value.
	appendText func(dst []byte, c call) []byte
	// text is set for helpers that make their text as a string, which is
	// printed straight to the output rather than copied through the buffer.
	text func(c call) string
}

// textHelper makes a helper whose result is text.
func textHelper(args int, text func(c call) string) helper {
	h := appendHelper(args, func(dst []byte, c call) []byte { return append(dst, text(c)...) })
	h.text = text
	return h
}

// appendHelper makes a helper whose result is text appended to a buffer.
func appendHelper(args int, appendText func(dst []byte, c call) []byte) helper {
	return helper{args: args, appendText: appendText, fn: func(c call) any { return string(appendText(nil, c)) }}
}

// maxArgs is the most arguments a helper takes.
const maxArgs = 2

// call is one helper call: its arguments and hash arguments. The arguments
// are held in the call, not in a slice of the evaluator's, so a call stores
// no pointers on the heap: while the collector marks, every such store runs
// a write barrier.
type call struct {
	name string
	args [maxArgs]reflect.Value // the first helper.args are set
	hash map[string]reflect.Value
}

// arg returns argument i as a Go value, nil when it resolved to nothing.
func (c call) arg(i int) any {
	v := indirect(c.args[i])
	if !v.IsValid() {
		return nil
	}
	return v.Interface()
}

// text returns argument i as text.
func (c call) text(i int) string { return str(c.args[i]) }

// hashText returns a hash argument as text, and whether it was given.
func (c call) hashText(key string) (string, bool) {
	v, ok := c.hash[key]
	return str(v), ok
}

// helpers are the template helpers besides the built-in block helpers
// (if, unless, each, with, lookup, log). docs/templates.md documents each
// one, and the compatibility test mirrors them in JavaScript.
var helpers = map[string]helper{
	"formatTime":     appendHelper(2, formatTimeHelper),
	"formatDuration": textHelper(2, formatDurationHelper),
	"default": {args: 2, fn: func(c call) any {
		if truthy(c.args[0]) {
			return c.args[0]
		}
		return c.args[1]
	}},
	"eq":        {args: 2, fn: func(c call) any { return compare(c.args[0], c.args[1]) == 0 }},
	"ne":        {args: 2, fn: func(c call) any { return compare(c.args[0], c.args[1]) != 0 }},
	"lt":        {args: 2, fn: func(c call) any { return compare(c.args[0], c.args[1]) < 0 }},
	"le":        {args: 2, fn: func(c call) any { return compare(c.args[0], c.args[1]) <= 0 }},
	"gt":        {args: 2, fn: func(c call) any { return compare(c.args[0], c.args[1]) > 0 }},
	"ge":        {args: 2, fn: func(c call) any { return compare(c.args[0], c.args[1]) >= 0 }},
	"and":       {args: 2, fn: func(c call) any { return truthy(c.args[0]) && truthy(c.args[1]) }},
	"or":        {args: 2, fn: func(c call) any { return truthy(c.args[0]) || truthy(c.args[1]) }},
	"not":       {args: 1, fn: func(c call) any { return !truthy(c.args[0]) }},
	"upper":     textHelper(1, func(c call) string { return strings.ToUpper(c.text(0)) }),
	"lower":     textHelper(1, func(c call) string { return strings.ToLower(c.text(0)) }),
	"truncate":  textHelper(2, truncateHelper),
	"join":      textHelper(2, joinHelper),
	"indent":    textHelper(2, indentHelper),
	"pluralize": textHelper(2, pluralizeHelper),
	"length":    {args: 1, fn: func(c call) any { return lengthOf(c.args[0]) }},
	"json":      textHelper(1, jsonHelper),
}

// jsonHelper: {{json x}} is x's text as one JSON string, quotes included,
// for templates that build a JSON body. <, > and & are written as \u
// escapes, as encoding/json does, so the text is safe inside HTML too;
// invalid UTF-8 becomes U+FFFD.
func jsonHelper(c call) string {
	b, _ := json.Marshal(c.text(0)) // a string always marshals
	return string(b)
}

// Named layouts formatTime accepts besides Go layouts.
var namedLayouts = map[string]string{
	"date":     "2006-01-02",
	"time":     "15:04:05",
	"datetime": "2006-01-02 15:04:05",
	"rfc3339":  time.RFC3339,
}

// LoadZone is engine.LoadZone: time.LoadLocation with a cache.
func LoadZone(name string) (*time.Location, error) { return engine.LoadZone(name) }

// formatTimeHelper: {{formatTime start "02 Jan 2006 15:04" tz="America/New_York"}}.
func formatTimeHelper(dst []byte, c call) []byte {
	t, ok := timeArg(c.args[0])
	if !ok {
		return append(dst, c.text(0)...)
	}
	if t.IsZero() {
		return dst
	}
	layout := c.text(1)
	if len(c.hash) == 0 && (layout == "15:04:05" || layout == "time") {
		// The layout of every chat line, formatted without parsing it.
		return appendClock(dst, t)
	}
	if tz, _ := c.hashText("tz"); tz != "" {
		loc, err := LoadZone(tz)
		if err != nil {
			fail("formatTime: unknown time zone %q", tz)
		}
		t = t.In(loc)
	}
	if named, ok := namedLayouts[layout]; ok {
		layout = named
	}
	return t.AppendFormat(dst, layout)
}

// appendClock appends t as the layout "15:04:05" does.
func appendClock(dst []byte, t time.Time) []byte {
	h, m, s := t.Clock()
	return append(dst,
		byte('0'+h/10), byte('0'+h%10), ':',
		byte('0'+m/10), byte('0'+m%10), ':',
		byte('0'+s/10), byte('0'+s%10))
}

// timeArg reads a time argument without copying a Time when it can.
func timeArg(v reflect.Value) (time.Time, bool) {
	v = indirect(v)
	if v.IsValid() && v.Type() == timeType && v.CanAddr() {
		return v.Addr().Interface().(*Time).t, true
	}
	return asTime(valueOf(v))
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
		// RFC 3339, or the text a Time prints (and its JSON carries).
		parsed, err := time.Parse(time.RFC3339, t)
		if err != nil {
			parsed, err = time.Parse(timeText, t)
		}
		return parsed, err == nil
	case nil:
		return time.Time{}, true
	}
	return time.Time{}, false
}

// formatDurationHelper: {{formatDuration duration "clock"}}; styles are
// short (1h 2m 3s), clock (1:02:03), minutes (63, rounded up) and hours
// (1.05, two decimals).
func formatDurationHelper(c call) string {
	var d time.Duration
	style := c.text(1)
	switch x := c.arg(0).(type) {
	case Duration:
		d = x.d
	case time.Duration:
		d = x
	case nil:
	case string:
		// A number of seconds, or the text a Duration prints.
		if n, ok := asNumber(x); ok {
			d = time.Duration(n * float64(time.Second))
		} else if parsed, err := time.ParseDuration(strings.ReplaceAll(x, " ", "")); err == nil {
			d = parsed
		} else {
			return x
		}
	default:
		n, ok := asNumber(x)
		if !ok {
			return c.text(0)
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
	fail("formatDuration: unknown style %q (short, clock, minutes, hours)", style)
	return ""
}

// compare orders two values: as numbers when both are numbers, else as the
// text they print.
func compare(a, b reflect.Value) int {
	if x, ok := asNumber(valueOf(a)); ok {
		if y, ok := asNumber(valueOf(b)); ok {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		}
	}
	return strings.Compare(str(a), str(b))
}

func valueOf(v reflect.Value) any {
	if v = indirect(v); v.IsValid() {
		return v.Interface()
	}
	return nil
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

func asInt(name string, v reflect.Value) int {
	n, ok := asNumber(valueOf(v))
	if !ok || n > math.MaxInt32 || n < math.MinInt32 {
		fail("%s: %q is not a whole number", name, str(v))
	}
	return int(n)
}

// truncateHelper: {{truncate text 80}} keeps the first 80 characters and
// adds "..." (or suffix="…") when it cut something.
func truncateHelper(c call) string {
	s, limit := c.text(0), asInt("truncate", c.args[1])
	suffix := "..."
	if sfx, ok := c.hashText("suffix"); ok {
		suffix = sfx
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
func joinHelper(c call) string {
	rv := indirect(c.args[0])
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return c.text(0)
	}
	parts := make([]string, rv.Len())
	for i := range parts {
		parts[i] = str(rv.Index(i))
	}
	return strings.Join(parts, c.text(1))
}

// indentHelper: {{indent text 4}} puts 4 spaces before every line of text
// but the first, so a multi-line value lines up under where the template
// placed it.
func indentHelper(c call) string {
	width := asInt("indent", c.args[1])
	if width < 0 || width > 80 {
		fail("indent: width %d is not between 0 and 80", width)
	}
	s := c.text(0)
	if !strings.Contains(s, "\n") {
		return s
	}
	return strings.ReplaceAll(s, "\n", "\n"+strings.Repeat(" ", width))
}

// pluralizeHelper: {{pluralize fileTransfers "file"}} gives "1 file" or
// "3 files"; plural="children" for irregular words. A list counts its
// items.
func pluralizeHelper(c call) string {
	n, ok := items(c.args[0])
	if !ok {
		n = asInt("pluralize", c.args[0])
	}
	word := c.text(1)
	if n != 1 {
		word += "s"
		if p, _ := c.hashText("plural"); p != "" {
			word = p
		}
	}
	return strconv.Itoa(n) + " " + word
}

// lengthOf: {{length chat}} counts the items of a list or the characters
// of a text; 0 for anything else.
func lengthOf(v reflect.Value) int {
	if v = indirect(v); v.Kind() == reflect.String {
		return len([]rune(v.String()))
	}
	n, _ := items(v)
	return n
}

// items counts the items of a list; a missing list has none.
func items(v reflect.Value) (int, bool) {
	rv := indirect(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		return rv.Len(), true
	case reflect.Invalid:
		return 0, true
	}
	return 0, false
}
