package engine

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// Field kinds understood by the admin form and the settings reference.
const (
	KindText        = "text"
	KindTextarea    = "textarea"
	KindNumber      = "number"
	KindBool        = "bool"
	KindSelect      = "select"
	KindMultiSelect = "multiselect"
	KindJSON        = "json"
	KindSecret      = "secret"
)

// OptionsEvents in an `options` tag means "the event types of this plugin".
const OptionsEvents = "@events"

// Option is one choice of a select or multi-select field.
type Option struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// Field describes one settings field. It is derived from struct tags, so the
// struct stays the single source for validation, the admin form and the docs:
//
//	json:"note_type"        the field's name everywhere (API, form, errors)
//	validate:"required"     validator v10 rules
//	label:"…" help:"…"      what the admin reads
//	kind:"json"             overrides the kind derived from the Go type
//	options:"a=A,b=B"       choices (or "@events" for the plugin's events)
//	default:"1"             the value a new configuration starts with
//	placeholder:"…" example:"…" section:"…"
//	binds:"host,client_id"  on a secret: the settings (of the same struct)
//	                        that name where it is sent; a stored secret is
//	                        reused only while all of them are unchanged
//	                        ("-": it is sent nowhere a setting chooses)
type Field struct {
	Name        string   `json:"name"`
	Label       string   `json:"label"`
	Help        string   `json:"help,omitempty"`
	Kind        string   `json:"kind"`
	Options     []Option `json:"options,omitempty"`
	Required    bool     `json:"required"`
	Default     string   `json:"default,omitempty"`
	Placeholder string   `json:"placeholder,omitempty"`
	Example     string   `json:"example,omitempty"`
	Section     string   `json:"section,omitempty"`
	// Binds are, for a secret, the fields naming where it is sent.
	Binds []string `json:"binds,omitempty"`
	// Text is set on a JSON field whose Go type keeps the text (a string
	// type such as JSONText): a form sends it as a JSON string, as typed,
	// rather than as JSON that encoding would compact.
	Text  bool `json:"-"`
	index []int
}

var (
	secretType   = reflect.TypeFor[Secret]()
	jsonTextType = reflect.TypeFor[JSONText]()
)

// Fields lists the settings fields of a settings struct (or pointer to one),
// in declaration order. events fills "@events" options.
func Fields(settings any, events []string) []Field {
	t := reflect.TypeOf(settings)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	base := fieldsOf(t)
	out := make([]Field, len(base))
	for i, f := range base {
		out[i] = f.Field
		out[i].Options = parseOptions(f.options, events)
	}
	for i := range out {
		if len(out[i].Binds) > 0 {
			out[i].Help = strings.TrimSpace(out[i].Help + " " + bindNote(out, out[i].Binds))
		}
	}
	return out
}

// bindNote tells the admin, next to a secret field, that changing where it
// goes asks for it again.
func bindNote(fields []Field, binds []string) string {
	labels := make([]string, 0, len(binds))
	for _, b := range binds {
		for _, f := range fields {
			if f.Name == b {
				labels = append(labels, f.Label)
			}
		}
	}
	return "The stored value is sent only where it was saved for: change " + strings.Join(labels, ", ") + " and it must be typed again."
}

// taggedField is a Field with its options tag not yet expanded.
type taggedField struct {
	Field
	options string
	binds   string // the raw binds tag: "" means not declared
}

// fieldCache keeps each settings type's parsed tags: forms, validation and
// audit diffs ask for them on every request.
var fieldCache sync.Map // reflect.Type → []taggedField

func fieldsOf(t reflect.Type) []taggedField {
	if v, ok := fieldCache.Load(t); ok {
		return v.([]taggedField)
	}
	if t.Kind() != reflect.Struct {
		panic(fmt.Sprintf("engine.Fields: %s is not a struct", t))
	}
	var out []taggedField
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if !sf.IsExported() || name == "-" || name == "" {
			continue
		}
		f := Field{
			Name:        name,
			Label:       sf.Tag.Get("label"),
			Help:        sf.Tag.Get("help"),
			Kind:        sf.Tag.Get("kind"),
			Default:     sf.Tag.Get("default"),
			Placeholder: sf.Tag.Get("placeholder"),
			Example:     sf.Tag.Get("example"),
			Section:     sf.Tag.Get("section"),
			Text:        sf.Type.Kind() == reflect.String,
			index:       sf.Index,
		}
		if f.Label == "" {
			f.Label = sf.Name
		}
		binds := sf.Tag.Get("binds")
		if binds != "" && binds != "-" {
			f.Binds = strings.Split(binds, ",")
		}
		for _, rule := range strings.Split(sf.Tag.Get("validate"), ",") {
			if rule == "required" {
				f.Required = true
			}
		}
		if f.Kind == "" {
			f.Kind = kindOf(sf.Type)
		}
		out = append(out, taggedField{Field: f, options: sf.Tag.Get("options"), binds: binds})
	}
	fieldCache.Store(t, out)
	return out
}

func kindOf(t reflect.Type) string {
	switch {
	case t == secretType:
		return KindSecret
	case t == jsonTextType:
		return KindJSON
	case t.Kind() == reflect.Bool:
		return KindBool
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Float64:
		return KindNumber
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		return KindMultiSelect
	case t.Kind() == reflect.Map, t.Kind() == reflect.Struct:
		return KindJSON
	}
	return KindText
}

func parseOptions(tag string, events []string) []Option {
	if tag == "" {
		return nil
	}
	if tag == OptionsEvents {
		out := make([]Option, 0, len(events))
		for _, e := range events {
			out = append(out, Option{Value: e, Label: EventLabel(e)})
		}
		return out
	}
	var out []Option
	for _, part := range strings.Split(tag, ",") {
		v, l, ok := strings.Cut(part, "=")
		if !ok {
			l = v
		}
		out = append(out, Option{Value: v, Label: l})
	}
	return out
}

// SecretRef points at one Secret field inside a settings struct.
type SecretRef struct {
	Name  string
	Value *Secret
	// Binds name the fields of the same struct that say where it is sent.
	Binds []string
}

// Secrets lists the Secret fields of a settings struct pointer, so that the
// store can seal them and the service can keep stored values that a form
// left untouched.
func Secrets(settings any) []SecretRef {
	v := reflect.ValueOf(settings)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("engine.Secrets: want a pointer to a struct, got %T", settings))
	}
	v = v.Elem()
	var out []SecretRef
	for _, f := range fieldsOf(v.Type()) {
		if f.Kind != KindSecret {
			continue
		}
		fv := v.FieldByIndex(f.index)
		if fv.Type() != secretType {
			continue
		}
		out = append(out, SecretRef{Name: f.Name, Value: fv.Addr().Interface().(*Secret), Binds: f.Binds})
	}
	return out
}

// FieldValue returns the value of the named field as the form shows it.
func FieldValue(settings any, name string) (any, bool) {
	v := reflect.ValueOf(settings)
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	for _, f := range fieldsOf(v.Type()) {
		if f.Name == name {
			return v.FieldByIndex(f.index).Interface(), true
		}
	}
	return nil, false
}

// ChangedBindings returns the fields of binds whose values differ between
// two settings structs of the same type: where a stored secret would now be
// sent that it was not saved for.
func ChangedBindings(old, new any, binds []string) []string {
	var out []string
	for _, name := range binds {
		a, _ := FieldValue(old, name)
		b, _ := FieldValue(new, name)
		if !reflect.DeepEqual(a, b) {
			out = append(out, name)
		}
	}
	return out
}

// CheckSecretBindings refuses a settings struct with a secret that does not
// say which settings bind it, or names a setting the struct lacks: without
// them a stored secret would follow any change of destination.
func CheckSecretBindings(settings any) error {
	t := reflect.TypeOf(settings)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	fields := fieldsOf(t)
	for _, f := range fields {
		if f.Kind != KindSecret {
			continue
		}
		if f.binds == "" {
			return fmt.Errorf("secret setting %q of %s has no binds tag naming the settings that say where it is sent", f.Name, t)
		}
		for _, b := range f.Binds {
			if !slices.ContainsFunc(fields, func(o taggedField) bool { return o.Name == b }) {
				return fmt.Errorf("secret setting %q of %s binds %q, which is not a setting", f.Name, t, b)
			}
		}
	}
	return nil
}
