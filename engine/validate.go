package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/go-playground/validator/v10"
)

// FieldError is one refused value, named by the field's json name so that a
// form can show the message next to its input. Field "" is form-wide.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// FieldErrors is the list of everything wrong with a submitted configuration.
type FieldErrors []FieldError

func (fe FieldErrors) Error() string {
	parts := make([]string, len(fe))
	for i, e := range fe {
		if e.Field == "" {
			parts[i] = e.Message
		} else {
			parts[i] = e.Field + ": " + e.Message
		}
	}
	return "invalid settings: " + strings.Join(parts, "; ")
}

// For returns the message for one field, or "".
func (fe FieldErrors) For(field string) string {
	for _, e := range fe {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

// SelfValidator is implemented by settings structs with rules that tags
// cannot say: cross-field rules, JSON settings that name their bad key,
// expressions with their own grammar.
type SelfValidator interface {
	ValidateSettings() FieldErrors
}

// validate is the one validator instance: it caches struct metadata, and its
// registration calls are not safe for concurrent use, so all of them happen here.
var validate = func() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		return name
	})
	return v
}()

// Validate checks a settings struct against its validate tags and, when it
// implements SelfValidator, its own rules. It returns nil or FieldErrors.
func Validate(settings any) FieldErrors {
	var out FieldErrors
	if err := validate.Struct(settings); err != nil {
		var verrs validator.ValidationErrors
		if !errors.As(err, &verrs) {
			return FieldErrors{{Message: err.Error()}}
		}
		for _, e := range verrs {
			out = append(out, FieldError{Field: e.Field(), Message: message(e)})
		}
	}
	if sv, ok := settings.(SelfValidator); ok {
		out = append(out, sv.ValidateSettings()...)
	}
	if len(out) == 0 {
		return nil
	}
	return dedupe(out)
}

// dedupe keeps the first message per field, so a form shows one line each.
func dedupe(in FieldErrors) FieldErrors {
	seen := map[string]bool{}
	out := in[:0]
	for _, e := range in {
		if seen[e.Field] {
			continue
		}
		seen[e.Field] = true
		out = append(out, e)
	}
	return out
}

func message(e validator.FieldError) string {
	p := e.Param()
	switch e.Tag() {
	case "required", "required_if", "required_with":
		return "is required"
	case "max":
		if e.Kind() == reflect.String {
			return fmt.Sprintf("must be at most %s characters", p)
		}
		if e.Kind() == reflect.Slice {
			return fmt.Sprintf("must have at most %s items", p)
		}
		return "must be at most " + p
	case "min":
		if e.Kind() == reflect.String {
			return fmt.Sprintf("must be at least %s characters", p)
		}
		return "must be at least " + p
	case "gte":
		return "must be at least " + p
	case "lte":
		return "must be at most " + p
	case "gt":
		return "must be greater than " + p
	case "oneof":
		return "must be one of: " + strings.ReplaceAll(p, " ", ", ")
	case "email":
		return "must be an e-mail address"
	case "url", "http_url":
		return "must be a URL such as https://example.com/path"
	case "hostname", "hostname_rfc1123", "fqdn":
		return "must be a host name such as support.example.com"
	case "alphanum":
		return "may contain only letters and digits"
	case "printascii":
		return "may contain only printable ASCII characters"
	case "json":
		return "must be valid JSON"
	}
	return fmt.Sprintf("is not valid (%s)", e.Tag())
}

// DecodeStrict decodes JSON into dst and refuses unknown fields, so a typo in
// a setting's name is an error rather than a silently ignored value.
func DecodeStrict(data []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return describeJSONError(err)
	}
	if dec.More() {
		return errors.New("unexpected data after the JSON object")
	}
	return nil
}

func describeJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return FieldErrors{{Field: te.Field, Message: fmt.Sprintf("must be %s, not a JSON %s", jsonKind(te.Type), te.Value)}}
	}
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return FieldErrors{{Field: strings.Trim(rest, `"`), Message: "is not a known setting"}}
	}
	return fmt.Errorf("settings are not valid JSON: %w", err)
}

// jsonKind names what a Go type expects, in the words of JSON.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	}
	return "a JSON object"
}

// SortedKeys returns a map's keys in order: what templates and messages see
// must never depend on Go's map iteration order.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
