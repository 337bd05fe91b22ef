package render

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	bt "switchboard/engine/beyondtrust"
)

// FuzzReportFromXML: whatever session report the parser accepts, the data
// model is built and every default template renders it without error, and
// each system information row it keeps has something to show.
func FuzzReportFromXML(f *testing.F) {
	f.Add(sampleXML)
	f.Add([]byte(referenceSysInfo))
	f.Add([]byte(surveyXML))
	files, _ := filepath.Glob(filepath.Join("testdata", "sessions", "*.xml"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	r := newTestRenderer(f, "")
	f.Fuzz(func(t *testing.T, data []byte) {
		ss, err := bt.ParseSessions(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, s := range ss {
			d := NewData(s, time.UTC)
			for _, c := range d.SystemInfo {
				for _, row := range c.Rows {
					if row.Text == "" || row.Block == "" {
						t.Fatalf("category %q keeps a row with nothing to show: %+v", c.Name, row)
					}
				}
			}
			for _, name := range defaultTemplates {
				if _, err := r.Set("").Render(name, d); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
			}
		}
	})
}
