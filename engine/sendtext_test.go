package engine

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCleanText(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"tab\tand\nnewline", "tab\tand\nnewline"},
		{"windows\r\nline", "windows\nline"},
		{"old mac\rline", "old mac\nline"},
		{"cr cr lf\r\r\n", "cr cr lf\n\n"},
		{"trailing cr\r", "trailing cr\n"},
		{"nul\x00bel\x07vt\x0bff\x0cesc\x1b[31mred\x1b[0m", "nulbelvtffesc[31mred[0m"},
		{"H\x00i\x00", "Hi"},
		{"\x01\x02\x1f", ""},
		{"del \x7f and C1 \u0085 stay", "del \x7f and C1 \u0085 stay"},
		{"ünïcödé ✓ 🙂\x00", "ünïcödé ✓ 🙂"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := CleanText(tc.in); got != tc.want {
			t.Errorf("CleanText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMarshalClean(t *testing.T) {
	t.Parallel()
	type filter struct {
		Field string `json:"field"`
		Value any    `json:"value"`
	}
	body := map[string]any{
		"title":       "Chat\x07 with Jane\r\nDoe",
		"description": "line\x1b[1m\rnext",
		"id":          json.Number("12345678901234567890"),
		"hours":       0.25,
		"flag":        true,
		"nested":      []any{"a\x00b", map[string]any{"k\x0b": "v\x0c"}},
		"filter":      []filter{{Field: "title", Value: "[bt:x:report]\x00"}},
		"html":        "<b>&</b>",
	}
	raw, err := MarshalClean(body)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"title": "Chat with Jane\nDoe", "description": "line[1m\nnext", "hours": 0.25, "flag": true,
		"nested": []any{"ab", map[string]any{"k": "v"}},
		"filter": []any{map[string]any{"field": "title", "value": "[bt:x:report]"}},
		"html":   "<b>&</b>",
	}
	for k, w := range want {
		if g, _ := json.Marshal(got[k]); string(g) != mustJSON(t, w) {
			t.Errorf("%s = %s, want %s", k, g, mustJSON(t, w))
		}
	}
	if !strings.Contains(string(raw), `"id":12345678901234567890`) {
		t.Errorf("a large number lost precision: %s", raw)
	}

	// Nothing to clean: the bytes are json.Marshal's.
	plain := map[string]any{"a": `back\slash \r literally`, "n": 1}
	raw, _ = MarshalClean(plain)
	std, _ := json.Marshal(plain)
	if string(raw) != string(std) {
		t.Errorf("clean body changed: %s, want %s", raw, std)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"a\r\nb", "\x00\x1b[0m", "x\ry", "\t\n", "ü\x7f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := CleanText(s)
		if strings.IndexFunc(out, needsCleaning) >= 0 {
			t.Fatalf("CleanText(%q) = %q still holds a control character", s, out)
		}
		if CleanText(out) != out {
			t.Fatalf("CleanText is not idempotent on %q", s)
		}
		raw, err := MarshalClean(map[string]string{"v": s})
		if err != nil {
			t.Fatal(err)
		}
		var back map[string]string
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatal(err)
		}
		if utf8.ValidString(s) && back["v"] != out {
			t.Fatalf("MarshalClean(%q) sent %q, want %q", s, back["v"], out)
		}
	})
}
