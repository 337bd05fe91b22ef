package render

import (
	"testing"
	"time"
)

// BenchmarkSessionReport renders the default session report of a typical
// session: 50 chat lines, one customer, one representative. Run with
// -cpu 1 for the one-core figure.
func BenchmarkSessionReport(b *testing.B) {
	r := newTestRenderer(b, "")
	data := NewData(chatSession(50), time.UTC)
	set := r.Set("")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := set.Render(SessionReport, data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewData is the cost of building the data of that session.
func BenchmarkNewData(b *testing.B) {
	s := chatSession(50)
	b.ReportAllocs()
	for b.Loop() {
		NewData(s, time.UTC)
	}
}
