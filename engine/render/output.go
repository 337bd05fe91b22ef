package render

import "unsafe"

// output is the text of one render. It works like strings.Builder, but
// writing into spare capacity stores only the new length: strings.Builder
// stores its buffer pointer on every write, and while the collector marks,
// each such store runs a write barrier, a tenth of a render's time.
type output struct{ buf []byte }

func newOutput(size int) *output { return &output{buf: make([]byte, 0, size)} }

// WriteString appends s.
func (o *output) WriteString(s string) {
	n := len(o.buf)
	if len(s) > cap(o.buf)-n {
		o.buf = append(o.buf, s...)
		return
	}
	o.buf = o.buf[:n+len(s)]
	copy(o.buf[n:], s)
}

// Write appends p.
func (o *output) Write(p []byte) { o.WriteString(unsafe.String(unsafe.SliceData(p), len(p))) }

// Len is the length of the text so far.
func (o *output) Len() int { return len(o.buf) }

// String returns the text without copying it; o must not be written to
// afterwards.
func (o *output) String() string { return unsafe.String(unsafe.SliceData(o.buf), len(o.buf)) }
