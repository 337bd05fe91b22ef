package engine

import (
	"fmt"
	"reflect"
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
	index       []int
}

var secretType = reflect.TypeFor[Secret]()

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
	return out
}

// taggedField is a Field with its options tag not yet expanded.
type taggedField struct {
	Field
	options string
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
			index:       sf.Index,
		}
		if f.Label == "" {
			f.Label = sf.Name
		}
		for _, rule := range strings.Split(sf.Tag.Get("validate"), ",") {
			if rule == "required" {
				f.Required = true
			}
		}
		if f.Kind == "" {
			f.Kind = kindOf(sf.Type)
		}
		out = append(out, taggedField{Field: f, options: sf.Tag.Get("options")})
	}
	fieldCache.Store(t, out)
	return out
}

func kindOf(t reflect.Type) string {
	switch {
	case t == secretType:
		return KindSecret
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
		out = append(out, SecretRef{Name: f.Name, Value: fv.Addr().Interface().(*Secret)})
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
