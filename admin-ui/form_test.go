package adminui

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"switchboard/engine"
)

// formSettings has one field of every kind the form generates.
type formSettings struct {
	Name    string            `json:"name" validate:"required" label:"Name"`
	Notes   string            `json:"notes" kind:"textarea" label:"Notes"`
	Count   int               `json:"count" label:"Count"`
	Ratio   float64           `json:"ratio" label:"Ratio"`
	On      bool              `json:"on" label:"On"`
	Mode    string            `json:"mode" kind:"select" options:"a=A,b=B" label:"Mode" section:"Advanced"`
	Events  []string          `json:"events" options:"@events" label:"Events" section:"Advanced"`
	Extra   map[string]any    `json:"extra" label:"Extra" section:"Advanced"`
	Token   engine.Secret     `json:"token" label:"Token"`
	Headers map[string]string `json:"headers" kind:"json" label:"Headers"`
}

var formFields = engine.Fields(&formSettings{}, []string{engine.EventSessionEnd, engine.EventMemberAdded})

func TestDecodeSection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		form      url.Values
		want      map[string]any
		wantClear []string
		wantErrs  []string
	}{
		{
			name: "every kind",
			form: url.Values{
				"s.name": {"  Acme  "}, "s.notes": {" line 1\nline 2 "}, "s.count": {"42"}, "s.ratio": {"0.5"},
				"s.on": {"on"}, "s.mode": {"b"}, "s.events": {engine.EventSessionEnd, " "},
				"s.extra": {`{"a": 1}`}, "s.token": {" spaced secret "}, "s.headers": {""},
			},
			want: map[string]any{
				"name": "Acme", "notes": " line 1\nline 2 ", "count": 42.0, "ratio": 0.5, "on": true, "mode": "b",
				"events": []any{engine.EventSessionEnd}, "extra": map[string]any{"a": 1.0}, "token": " spaced secret ", "headers": nil,
			},
		},
		{
			name: "unchecked and blank",
			form: url.Values{"s.name": {""}},
			want: map[string]any{"name": "", "notes": "", "on": false, "mode": "", "events": []any{}, "extra": nil, "headers": nil},
		},
		{
			name:      "secret cleared wins over a typed value",
			form:      url.Values{"s.token": {"typed"}, "clear": {"token"}},
			want:      map[string]any{"name": "", "notes": "", "on": false, "mode": "", "events": []any{}, "extra": nil, "headers": nil},
			wantClear: []string{"token"},
		},
		{
			name:     "unreadable values",
			form:     url.Values{"s.count": {"many"}, "s.extra": {`{"a": `}},
			want:     map[string]any{"name": "", "notes": "", "on": false, "mode": "", "events": []any{}, "extra": `{"a":`, "headers": nil},
			wantErrs: []string{"count: must be a number", "extra: is not valid JSON: unexpected end of JSON input (line 1, column 6)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, clear, errs := decodeSection(formFields, "s", tt.form)
			var got map[string]any
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatalf("not JSON: %s", raw)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("JSON = %v\nwant   %v", got, tt.want)
			}
			if !reflect.DeepEqual(clear, tt.wantClear) {
				t.Errorf("clear = %v, want %v", clear, tt.wantClear)
			}
			var msgs []string
			for _, e := range errs {
				msgs = append(msgs, e.Field+": "+e.Message)
			}
			if !reflect.DeepEqual(msgs, tt.wantErrs) {
				t.Errorf("errors = %q\nwant     %q", msgs, tt.wantErrs)
			}
		})
	}
}

func TestValuesRoundTrip(t *testing.T) {
	t.Parallel()
	in := &formSettings{
		Name: "Acme", Notes: "n", Count: 7, Ratio: 1.25, On: true, Mode: "a",
		Events: []string{engine.EventMemberAdded}, Extra: map[string]any{"k": "v"},
		Token: engine.NewSecret("hidden"), Headers: nil,
	}
	vals := valuesOf(formFields, in)
	want := rawValues{
		"name": {"Acme"}, "notes": {"n"}, "count": {"7"}, "ratio": {"1.25"}, "on": {"on"}, "mode": {"a"},
		"events": {engine.EventMemberAdded}, "extra": {"{\n  \"k\": \"v\"\n}"}, "headers": {""},
	}
	if !reflect.DeepEqual(vals, want) {
		t.Fatalf("valuesOf = %q\nwant       %q", vals, want)
	}
	form := url.Values{}
	for k, v := range vals {
		form["s."+k] = v
	}
	raw, _, errs := decodeSection(formFields, "s", form)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var out formSettings
	if err := engine.DecodeStrict(raw, &out); err != nil {
		t.Fatal(err)
	}
	in.Token = engine.Secret{} // never shown, so never sent back
	if !reflect.DeepEqual(&out, in) {
		t.Errorf("round trip = %+v\nwant         %+v", out, *in)
	}
}

func TestBuildSections(t *testing.T) {
	t.Parallel()
	errs := engine.FieldErrors{{Field: "name", Message: "is required"}, {Field: "extra", Message: "bad"}, {Field: "", Message: "form-wide"}, {Field: "ghost", Message: "unknown"}}
	secs := buildSections("Plugin", settingsSection, formFields, rawValues{"on": {"on"}, "events": {engine.EventSessionEnd}, "mode": {"b"}}, map[string]bool{"token": true}, []string{"token"}, errs)
	var titles []string
	for _, s := range secs {
		titles = append(titles, s.Title+"#"+s.ID)
	}
	if want := []string{"Plugin#s-plugin", "Advanced#s-advanced"}; !reflect.DeepEqual(titles, want) {
		t.Errorf("sections = %v, want %v", titles, want)
	}
	byName := map[string]formField{}
	for _, s := range secs {
		for _, f := range s.Fields {
			byName[f.Name] = f
		}
	}
	switch {
	case byName["name"].Error != "is required" || byName["name"].Input != "settings.name" || byName["name"].ID != "f-name":
		t.Errorf("name field = %+v", byName["name"])
	case !byName["on"].Checked:
		t.Error("checkbox not checked")
	case !byName["events"].Selected[engine.EventSessionEnd] || byName["events"].Selected[engine.EventMemberAdded]:
		t.Errorf("events selected = %v", byName["events"].Selected)
	case !byName["token"].SecretSet || !byName["token"].Clear || byName["token"].Value != "":
		t.Errorf("token field = %+v", byName["token"])
	case byName["mode"].Value != "b":
		t.Errorf("mode = %q", byName["mode"].Value)
	}
	if wide := formWide(errs, formFields); !reflect.DeepEqual(wide, []string{"form-wide", "ghost: unknown"}) {
		t.Errorf("form-wide errors = %q", wide)
	}
}

func TestErrorHelpers(t *testing.T) {
	t.Parallel()
	merged := mergeErrors(
		engine.FieldErrors{{Field: "count", Message: "must be a number"}},
		engine.FieldErrors{{Field: "count", Message: "must be a int, not a JSON string"}, {Field: "name", Message: "is required"}, {Message: "a"}, {Message: "b"}},
	)
	if want := (engine.FieldErrors{{Field: "count", Message: "must be a number"}, {Field: "name", Message: "is required"}, {Message: "a"}, {Message: "b"}}); !reflect.DeepEqual(merged, want) {
		t.Errorf("mergeErrors = %v", merged)
	}
	rooted := rootErrors(engine.FieldErrors{{Field: "ticket_defaults.queueID", Message: "must be a number"}, {Field: "name", Message: "x"}})
	if want := (engine.FieldErrors{{Field: "ticket_defaults", Message: "queueID: must be a number"}, {Field: "name", Message: "x"}}); !reflect.DeepEqual(rooted, want) {
		t.Errorf("rootErrors = %v", rooted)
	}
	slugs := map[string]string{"BeyondTrust Appliance": "beyondtrust-appliance", "Time entry": "time-entry", "  Ünïcode & more!": "n-code-more"}
	for in, want := range slugs {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
	if got := jsonProblem("{\n  \"a\": ,\n}"); !strings.Contains(got, "line 2, column 8") {
		t.Errorf("jsonProblem = %q", got)
	}
}

// FuzzDecodeSection feeds the form decoder what a browser (or anyone
// holding a session) could post: it must never panic and must always hand
// the service a JSON object.
func FuzzDecodeSection(f *testing.F) {
	f.Add("Acme", "42", "on", `{"a": 1}`, "secret", "")
	f.Add("", "1e400", "", `{"a": `, "", "token")
	f.Add("\x00\xff", "-0", "false", "[1,2", "\u2028", "name")
	f.Add("x", "NaN", "on", `"str"`, "", "")
	f.Fuzz(func(t *testing.T, name, count, on, extra, token, clear string) {
		form := url.Values{"s.name": {name}, "s.count": {count}, "s.on": {on}, "s.extra": {extra}, "s.token": {token}, "clear": {clear}, "s.events": {name, count}}
		raw, _, _ := decodeSection(formFields, "s", form)
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			t.Fatalf("decodeSection gave no JSON object: %v\n%s", err, raw)
		}
	})
}
