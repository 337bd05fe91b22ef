package adminui

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"switchboard/engine"
)

// Form input names: a section prefix keeps the appliance section and the
// plugin's own settings apart in one HTML form, while validation errors name
// fields by their bare json name (the two sections never share one).
const (
	applianceSection = "appliance"
	settingsSection  = "settings"
	clearInput       = "clear" // checkbox per secret field: clear the stored value
	versionInput     = "version"
	configIDInput    = "config_id"
)

// formSection is one <fieldset> of the configuration form.
type formSection struct {
	Title  string
	ID     string
	Fields []formField
}

// formField is one labelled input, with what the admin typed or what is
// stored, and the error to show next to it.
type formField struct {
	engine.Field
	Input     string // the input's name
	ID        string // the input's id; its error slot is ID+"-error"
	Value     string
	Checked   bool
	Selected  map[string]bool
	SecretSet bool // a stored secret exists (shown as "set")
	Clear     bool // the admin ticked "Clear"
	Error     string
}

// inputName is the form name of a field of section.
func inputName(section, field string) string { return section + "." + field }

// inputID is the HTML id of a field's input; json names are unique across
// both sections, so the bare name is enough.
func inputID(field string) string { return "f-" + field }

// rawValues are a section's values as a form posts them: one or more
// strings per input name (without section prefix).
type rawValues map[string][]string

// valuesOf turns a settings struct into the strings its form inputs hold.
// Secrets are never included: their inputs always start empty.
func valuesOf(fields []engine.Field, settings any) rawValues {
	out := rawValues{}
	for _, f := range fields {
		v, ok := engine.FieldValue(settings, f.Name)
		if !ok || f.Kind == engine.KindSecret {
			continue
		}
		out[f.Name] = formStrings(f, v)
	}
	return out
}

func formStrings(f engine.Field, v any) []string {
	switch x := v.(type) {
	case bool:
		if x {
			return []string{"on"}
		}
		return nil
	case []string:
		return slices.Clone(x)
	case string:
		return []string{x}
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String: // named string types, e.g. a JSON text setting
		return []string{rv.String()}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return []string{strconv.FormatInt(rv.Int(), 10)}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return []string{strconv.FormatUint(rv.Uint(), 10)}
	case reflect.Float32, reflect.Float64:
		return []string{strconv.FormatFloat(rv.Float(), 'f', -1, 64)}
	case reflect.Map, reflect.Slice, reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return []string{""}
		}
	}
	if f.Kind == engine.KindJSON {
		b, err := json.MarshalIndent(v, "", "  ")
		if err == nil {
			return []string{string(b)}
		}
	}
	return []string{fmt.Sprint(v)}
}

// valuesFromForm picks one section's inputs out of a posted form.
func valuesFromForm(fields []engine.Field, section string, form url.Values) rawValues {
	out := rawValues{}
	for _, f := range fields {
		if vs, ok := form[inputName(section, f.Name)]; ok {
			out[f.Name] = vs
		}
	}
	return out
}

// buildSection lays out fields with their values and errors. The plugin's
// fields are split by their section tag, in the order the tags first appear.
func buildSections(title, section string, fields []engine.Field, values rawValues, secretsSet map[string]bool, cleared []string, errs engine.FieldErrors) []formSection {
	var out []formSection
	index := map[string]int{}
	for _, f := range fields {
		name := title
		if f.Section != "" && section == settingsSection {
			name = f.Section
		}
		i, ok := index[name]
		if !ok {
			i = len(out)
			index[name] = i
			out = append(out, formSection{Title: name, ID: "s-" + slug(name)})
		}
		out[i].Fields = append(out[i].Fields, buildField(section, f, values[f.Name], secretsSet, cleared, errs))
	}
	return out
}

func buildField(section string, f engine.Field, vs []string, secretsSet map[string]bool, cleared []string, errs engine.FieldErrors) formField {
	ff := formField{
		Field: f,
		Input: inputName(section, f.Name),
		ID:    inputID(f.Name),
		Error: errs.For(f.Name),
	}
	switch f.Kind {
	case engine.KindBool:
		ff.Checked = len(vs) > 0 && vs[0] != "" && vs[0] != "false"
	case engine.KindMultiSelect:
		ff.Selected = map[string]bool{}
		for _, v := range vs {
			ff.Selected[v] = true
		}
	case engine.KindSecret:
		ff.SecretSet = secretsSet[f.Name]
		ff.Clear = slices.Contains(cleared, f.Name)
	default:
		if len(vs) > 0 {
			ff.Value = vs[0]
		}
	}
	return ff
}

// slug makes a section title usable in an id.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// decodeSection turns one section of a posted form into the JSON object the
// service decodes, the secrets to clear, and errors found before the
// service sees the values (a number that is not one, JSON that does not
// parse). A field with such an error is sent as typed where its type allows
// (JSON text as a string), else left out, so the service still reports
// everything else.
func decodeSection(fields []engine.Field, section string, form url.Values) (json.RawMessage, []string, engine.FieldErrors) {
	obj := map[string]any{}
	var clear []string
	var errs engine.FieldErrors
	for _, f := range fields {
		name := inputName(section, f.Name)
		v := strings.TrimSpace(form.Get(name))
		switch f.Kind {
		case engine.KindSecret:
			if slices.Contains(form[clearInput], f.Name) {
				clear = append(clear, f.Name)
			} else if raw := form.Get(name); raw != "" {
				// Secrets are sent exactly as typed: spaces may belong.
				obj[f.Name] = raw
			}
		case engine.KindBool:
			obj[f.Name] = v != "" && v != "false"
		case engine.KindMultiSelect:
			vs := []string{}
			for _, s := range form[name] {
				if s = strings.TrimSpace(s); s != "" {
					vs = append(vs, s)
				}
			}
			obj[f.Name] = vs
		case engine.KindNumber:
			if v == "" {
				continue // the setting's default applies
			}
			if !isJSONNumber(v) {
				errs = append(errs, engine.FieldError{Field: f.Name, Message: "must be a number"})
				continue
			}
			obj[f.Name] = json.Number(v)
		case engine.KindJSON:
			switch {
			case v == "":
				obj[f.Name] = nil
			case !json.Valid([]byte(v)):
				errs = append(errs, engine.FieldError{Field: f.Name, Message: "is not valid JSON: " + jsonProblem(v)})
				obj[f.Name] = v
			case f.Text:
				// Sent as typed: a setting that keeps the text keeps the
				// admin's layout and characters (< stays <).
				obj[f.Name] = v
			default:
				obj[f.Name] = json.RawMessage(v)
			}
		case engine.KindTextarea:
			obj[f.Name] = form.Get(name)
		default:
			obj[f.Name] = v
		}
	}
	b, err := json.Marshal(obj)
	if err != nil {
		// Every value above is a string, bool, list, number or valid JSON.
		panic(fmt.Sprintf("adminui: encode form section %s: %v", section, err))
	}
	return b, clear, errs
}

// isJSONNumber accepts what JSON calls a number (so not NaN, Inf, hex or
// digit separators, which Go's parsers would take).
func isJSONNumber(v string) bool {
	return v != "" && (v[0] == '-' || v[0] >= '0' && v[0] <= '9') && json.Valid([]byte(v))
}

// jsonProblem describes a JSON syntax error with its line and column.
func jsonProblem(text string) string {
	var v any
	err := json.Unmarshal([]byte(text), &v)
	se, ok := err.(*json.SyntaxError)
	if !ok {
		if err == nil {
			return ""
		}
		return err.Error()
	}
	// Offset counts the bytes read up to and including the bad one; at the
	// end of the text, the position is just after it.
	end := min(max(int(se.Offset)-1, 0), len(text))
	if strings.HasPrefix(se.Error(), "unexpected end") {
		end = len(text)
	}
	line, col := 1, 1
	for _, r := range text[:end] {
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("%s (line %d, column %d)", se.Error(), line, col)
}

// mergeErrors keeps the first message per field: the form's own checks say
// more precisely what is wrong than the decoder's type error does.
func mergeErrors(lists ...engine.FieldErrors) engine.FieldErrors {
	var out engine.FieldErrors
	seen := map[string]bool{}
	for _, list := range lists {
		for _, e := range list {
			if e.Field != "" && seen[e.Field] {
				continue
			}
			seen[e.Field] = true
			out = append(out, e)
		}
	}
	return out
}

// formWide returns the errors that belong to no field of the form, to be
// shown above it. errs have been through rootErrors.
func formWide(errs engine.FieldErrors, fieldSets ...[]engine.Field) []string {
	known := map[string]bool{}
	for _, fs := range fieldSets {
		for _, f := range fs {
			known[f.Name] = true
		}
	}
	var out []string
	for _, e := range errs {
		if !known[e.Field] {
			if e.Field == "" {
				out = append(out, e.Message)
			} else {
				out = append(out, e.Field+": "+e.Message)
			}
		}
	}
	return out
}

// fieldRoot is the top-level setting an error names: the decoder reports a
// nested JSON key as "ticket_defaults.queueID".
func fieldRoot(field string) string {
	root, _, _ := strings.Cut(field, ".")
	return root
}

// rootErrors re-labels errors on nested keys to their top-level field, so
// they show next to its input.
func rootErrors(errs engine.FieldErrors) engine.FieldErrors {
	out := make(engine.FieldErrors, 0, len(errs))
	for _, e := range errs {
		if root := fieldRoot(e.Field); root != e.Field {
			e = engine.FieldError{Field: root, Message: strings.TrimPrefix(e.Field, root+".") + ": " + e.Message}
		}
		out = append(out, e)
	}
	return out
}
