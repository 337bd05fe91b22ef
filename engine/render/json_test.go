package render

import (
	"encoding/json"
	"testing"
	"time"
)

// TestJSONHelper: {{json x}} writes x's text as one JSON string, quotes
// included, so a template that builds a JSON body stays valid JSON
// whatever the session holds.
func TestJSONHelper(t *testing.T) {
	t.Parallel()
	r := newTestRenderer(t, "")
	data := NewData(SampleSession(), time.UTC)
	tests := []struct{ in, want string }{
		{`say "hi"`, `"say \"hi\""`},
		{"two\nlines\r\tand a tab", `"two\nlines\r\tand a tab"`},
		{`<b>&</b>`, `"\u003cb\u003e\u0026\u003c/b\u003e"`},
		{`back\slash`, `"back\\slash"`},
		{"Grüße 🖨️ 日本", `"Grüße 🖨️ 日本"`},
		{"line\u2028sep", `"line\u2028sep"`},
		{"nul\x00bell\x07", `"nul\u0000bell\u0007"`},
		{"bad \xff byte", `"bad \ufffd byte"`},
		{"", `""`},
	}
	for _, tt := range tests {
		p, err := r.PreviewText("", "t", `{"summary": {{json s}} }`, map[string]any{"s": tt.in})
		if err != nil {
			t.Fatalf("%q: %v", tt.in, err)
		}
		if want := `{"summary": ` + tt.want + ` }`; p.Output != want {
			t.Errorf("%q:\n got %s\nwant %s", tt.in, p.Output, want)
		}
		var back struct{ Summary string }
		if err := json.Unmarshal([]byte(p.Output), &back); err != nil {
			t.Errorf("%q: not JSON: %v", tt.in, err)
		} else if back.Summary != tt.in && tt.in != "bad \xff byte" {
			t.Errorf("%q: decodes to %q", tt.in, back.Summary)
		}
	}
	for tpl, want := range map[string]string{
		`{{json nothing}}`:                   `""`,
		`{{json 42}} {{json true}}`:          `"42" "true"`,
		`{{json customer.name}}`:             `"Dana Whitfield"`,
		`{{json (join repNames ", ")}}`:      `"Sam Rivera, Priya Nair"`,
		`{{json (formatTime start "date")}}`: `"2025-03-14"`,
	} {
		p, err := r.PreviewText("", "t", tpl, data)
		if err != nil || p.Output != want {
			t.Errorf("%s: got %q, %v; want %q", tpl, p.Output, err, want)
		}
	}
}
