package engine

import (
	"encoding/json"
	"testing"
)

// TestJSONText: text is kept as typed through a JSON round trip, and an
// object stored by an older version with \u003c escapes reads with the
// characters back (an escaped backslash before u003c stays as it is).
func TestJSONText(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{`"{\n  \"a\": \"<<x|y>>\"\n}"`, "{\n  \"a\": \"<<x|y>>\"\n}"},
		{`{"title":"a \u0026 b","c":"\u003c\u003cemailAddress|customer_email\u003E\u003e","path":"C:\\u003c"}`,
			`{"title":"a & b","c":"<<emailAddress|customer_email>>","path":"C:\\u003c"}`},
		{`{"u":"\u00e9"}`, `{"u":"\u00e9"}`},
		{`null`, ``},
	}
	for _, tt := range tests {
		var got JSONText
		if err := json.Unmarshal([]byte(`{"v":`+tt.in+`}`), &struct{ V *JSONText }{&got}); err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if string(got) != tt.want {
			t.Errorf("%s read as %q, want %q", tt.in, got, tt.want)
		}
		b, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		var back JSONText
		if err := json.Unmarshal(b, &back); err != nil || back != got {
			t.Errorf("round trip of %q gave %q, %v", got, back, err)
		}
	}
}
