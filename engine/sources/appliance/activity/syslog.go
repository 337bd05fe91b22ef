package activity

import (
	"strconv"
	"strings"
	"time"
)

// The Syslog report is a ZIP archive of the appliance's syslog. Each line is
//
//	Mar 10 11:55:00 <host> BG[<pid>]: <number>:<part>:<total>:<payload>
//
// and a message longer than one line is split into numbered segments that
// share host, process, pid and number; the payload is field=value pairs
// separated by ";" with the Unix time in "when" (Sekoia's
// BeyondTrust/beyondtrust_modules/syslog_helpers.py and its tests). Nothing
// else about the format is documented where we could read it.

// Segment is one parsed syslog line.
type Segment struct {
	Date    string // "Mar 10 11:55:00", no year
	Host    string
	Process string // "BG"
	PID     int
	Number  int
	Part    int // 1-based
	Total   int
	Payload string
}

// maxParts bounds the segments of one message: a larger total is read as a
// line that is not a segment.
const maxParts = 10000

// ParseSegment reads one syslog line; ok is false for a line of any other
// shape.
func ParseSegment(line string) (seg Segment, ok bool) {
	// Date: month, day (padded with a space or not), hh:mm:ss.
	rest := line
	month, rest, ok := cutWord(rest)
	if !ok || len(month) != 3 {
		return seg, false
	}
	day, rest, ok := cutWord(rest)
	if !ok || len(day) < 1 || len(day) > 2 || !digits(day) {
		return seg, false
	}
	clock, rest, ok := cutWord(rest)
	if !ok || len(clock) != 8 || clock[2] != ':' || clock[5] != ':' || !digits(clock[:2]+clock[3:5]+clock[6:]) {
		return seg, false
	}
	seg.Date = line[:len(line)-len(rest)]
	seg.Date = strings.TrimRight(seg.Date, " \t")
	if seg.Host, rest, ok = cutWord(rest); !ok {
		return seg, false
	}
	tag, rest, ok := cutWord(rest)
	if !ok || !strings.HasSuffix(tag, "]:") {
		return seg, false
	}
	open := strings.IndexByte(tag, '[')
	if open <= 0 {
		return seg, false
	}
	seg.Process = tag[:open]
	if seg.PID, ok = number(tag[open+1 : len(tag)-2]); !ok {
		return seg, false
	}
	rest = strings.TrimLeft(rest, " \t")
	var nums [3]int
	for i := range nums {
		var field string
		field, rest, ok = strings.Cut(rest, ":")
		if !ok {
			return seg, false
		}
		if nums[i], ok = number(field); !ok {
			return seg, false
		}
	}
	seg.Number, seg.Part, seg.Total = nums[0], nums[1], nums[2]
	if seg.Total < 1 || seg.Total > maxParts || seg.Part < 1 || seg.Part > seg.Total {
		return seg, false
	}
	seg.Payload = rest
	return seg, true
}

// cutWord splits off the first word after leading blanks; the rest starts
// at the blank that ended it.
func cutWord(s string) (word, rest string, ok bool) {
	s = strings.TrimLeft(s, " \t")
	i := strings.IndexAny(s, " \t")
	if i <= 0 {
		return "", "", false
	}
	return s[:i], s[i:], true
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// number reads a decimal of at most 9 digits (no sign).
func number(s string) (int, bool) {
	if !digits(s) || len(s) > 9 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// Message is one syslog message, reassembled from its segments.
type Message struct {
	Date, Host, Process string
	PID, Number         int
	Payload             string
	// Total is the number of segments the message announced; Missing
	// lists those not found in the archive (the message is kept, marked
	// incomplete).
	Total   int
	Missing []int
	// Raw is a line that is not a segment, kept as it is.
	Raw bool
	// Open is a message still waiting for segments when the archive ended
	// (not one closed by a repeated part): the rest may come with the next
	// download.
	Open bool
}

// maxOpen bounds the messages waiting for segments; past it the oldest is
// given up as incomplete.
const maxOpen = 4096

type segKey struct {
	host, process string
	pid, number   int
}

type openMessage struct {
	first Segment
	parts map[int]string
	seq   int // order of arrival, to give up the oldest first
}

// Reassembler joins segments into messages. Segments of one message may
// come in any order; a repeated part, or a segment announcing another
// total, closes the message before it as incomplete and starts a new one.
type Reassembler struct {
	open map[segKey]*openMessage
	seq  int
	emit func(Message)
}

// NewReassembler returns a reassembler that hands each message to emit.
func NewReassembler(emit func(Message)) *Reassembler {
	return &Reassembler{open: map[segKey]*openMessage{}, emit: emit}
}

// Line takes one line of the archive; blank lines are ignored.
func (r *Reassembler) Line(line string) {
	line = strings.TrimRight(line, "\r\n")
	if strings.TrimSpace(line) == "" {
		return
	}
	seg, ok := ParseSegment(line)
	if !ok {
		r.emit(Message{Payload: line, Raw: true, Total: 1})
		return
	}
	if seg.Total == 1 {
		r.emit(Message{Date: seg.Date, Host: seg.Host, Process: seg.Process, PID: seg.PID, Number: seg.Number, Payload: seg.Payload, Total: 1})
		return
	}
	k := segKey{seg.Host, seg.Process, seg.PID, seg.Number}
	m := r.open[k]
	if m != nil {
		if _, dup := m.parts[seg.Part]; dup || m.first.Total != seg.Total {
			r.close(k, m, false)
			m = nil
		}
	}
	if m == nil {
		if len(r.open) >= maxOpen {
			r.closeOldest()
		}
		r.seq++
		m = &openMessage{first: seg, parts: map[int]string{}, seq: r.seq}
		r.open[k] = m
	}
	if seg.Part == 1 {
		m.first.Date = seg.Date
	}
	m.parts[seg.Part] = seg.Payload
	if len(m.parts) == seg.Total {
		r.close(k, m, false)
	}
}

func (r *Reassembler) closeOldest() { r.closeFirst(false) }

// closeFirst closes the message that started first (open: at the end of
// the archive).
func (r *Reassembler) closeFirst(open bool) {
	var oldK segKey
	var old *openMessage
	for k, m := range r.open {
		if old == nil || m.seq < old.seq {
			oldK, old = k, m
		}
	}
	if old != nil {
		r.close(oldK, old, open)
	}
}

// close emits an open message with the parts it has, in part order; open
// marks one the archive ended in.
func (r *Reassembler) close(k segKey, m *openMessage, open bool) {
	delete(r.open, k)
	var b strings.Builder
	var missing []int
	for p := 1; p <= m.first.Total; p++ {
		if s, ok := m.parts[p]; ok {
			b.WriteString(s)
		} else if len(missing) < 100 {
			missing = append(missing, p)
		}
	}
	r.emit(Message{Date: m.first.Date, Host: k.host, Process: k.process, PID: k.pid, Number: k.number,
		Payload: b.String(), Total: m.first.Total, Missing: missing, Open: open && len(missing) > 0})
}

// Flush emits the messages still missing segments, oldest first, marked
// incomplete and open.
func (r *Reassembler) Flush() {
	for len(r.open) > 0 {
		r.closeFirst(true)
	}
}

// Field is one field=value pair of a payload.
type Field struct{ Name, Value string }

// ParseFields reads "field=value;" pairs. A piece without "=" belongs to the
// value before it (a value holding ";"), so no text is dropped; a piece
// before any field is kept under the name "". Names and values are not
// unescaped: no escaping is documented.
func ParseFields(payload string) []Field {
	var out []Field
	for piece := range strings.SplitSeq(payload, ";") {
		name, value, ok := strings.Cut(piece, "=")
		if ok && validName(name) {
			out = append(out, Field{Name: name, Value: value})
			continue
		}
		if len(out) == 0 {
			if piece != "" {
				out = append(out, Field{Value: piece})
			}
			continue
		}
		out[len(out)-1].Value += ";" + piece
	}
	// A trailing ";" ends the last pair; it is not part of its value.
	if n := len(out); n > 0 && strings.HasSuffix(payload, ";") {
		out[n-1].Value = strings.TrimSuffix(out[n-1].Value, ";")
	}
	return out
}

// validName accepts field names as the samples show them: letters, digits,
// "_", "-" and ".".
func validName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// When is the message's "when" field as a time; zero when it has none that
// reads as Unix seconds.
func When(fields []Field) time.Time {
	for _, f := range fields {
		if f.Name == "when" {
			if v, err := strconv.ParseInt(strings.TrimSpace(f.Value), 10, 64); err == nil && v > 0 && v < 1<<40 {
				return time.Unix(v, 0).UTC()
			}
			return time.Time{}
		}
	}
	return time.Time{}
}
