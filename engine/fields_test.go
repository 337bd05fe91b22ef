package engine

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

type sampleSettings struct {
	Name    string   `json:"name" validate:"required" label:"Name" help:"who" default:"x"`
	Token   Secret   `json:"token" label:"Token"`
	Events  []string `json:"events" options:"@events"`
	Mode    string   `json:"mode" kind:"select" options:"a=Alpha,b"`
	Count   int      `json:"count"`
	On      bool     `json:"on"`
	Data    string   `json:"data" kind:"json" example:"{}"`
	ignored string   //lint:ignore U1000 the test checks that unexported fields are skipped
	Skip    string   `json:"-"`
}

func TestFieldsFollowTheTags(t *testing.T) {
	t.Parallel()
	got := Fields(&sampleSettings{}, []string{EventSessionEnd})
	var names, kinds []string
	for _, f := range got {
		names = append(names, f.Name)
		kinds = append(kinds, f.Kind)
	}
	if want := []string{"name", "token", "events", "mode", "count", "on", "data"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("names %v, want %v", names, want)
	}
	if want := []string{KindText, KindSecret, KindMultiSelect, KindSelect, KindNumber, KindBool, KindJSON}; !reflect.DeepEqual(kinds, want) {
		t.Fatalf("kinds %v, want %v", kinds, want)
	}
	if f := got[0]; !f.Required || f.Label != "Name" || f.Help != "who" || f.Default != "x" {
		t.Fatalf("name field %+v", f)
	}
	if opts := got[2].Options; len(opts) != 1 || opts[0].Value != EventSessionEnd || opts[0].Label != "Support Session End" {
		t.Fatalf("@events options %+v", opts)
	}
	if opts := got[3].Options; len(opts) != 2 || opts[0] != (Option{"a", "Alpha"}) || opts[1] != (Option{"b", "b"}) {
		t.Fatalf("options %+v", opts)
	}
	// The cache must not leak one call's events into another's.
	if opts := Fields(&sampleSettings{}, nil)[2].Options; len(opts) != 0 {
		t.Fatalf("options from an earlier call: %+v", opts)
	}
	s := &sampleSettings{Token: NewSecret("v")}
	refs := Secrets(s)
	if len(refs) != 1 || refs[0].Name != "token" || refs[0].Value.Reveal() != "v" {
		t.Fatalf("secrets %+v", refs)
	}
	if v, ok := FieldValue(s, "token"); !ok || v.(Secret).Reveal() != "v" {
		t.Fatalf("FieldValue = %v %v", v, ok)
	}
}

func TestSecretNeverPrints(t *testing.T) {
	t.Parallel()
	s := NewSecret("hunter2")
	b, _ := s.MarshalJSON()
	for _, out := range []string{s.String(), s.GoString(), s.LogValue().String(), string(b)} {
		if strings.Contains(out, "hunter2") || len(out) == 0 {
			t.Errorf("printed %q", out)
		}
	}
}

type boundSettings struct {
	URL   string `json:"url" label:"URL"`
	User  string `json:"user" label:"User"`
	Note  string `json:"note" label:"Note"`
	Token Secret `json:"token" binds:"url,user" label:"Token"`
}

type unboundSettings struct {
	Token Secret `json:"token" label:"Token"`
}

type wronglyBoundSettings struct {
	Token Secret `json:"token" binds:"nowhere" label:"Token"`
}

type unboundPlugin struct{ settings any }

func (p unboundPlugin) Info() Info {
	return Info{ID: "unbound", Name: "Unbound", NewSettings: func() any { return p.settings }}
}
func (unboundPlugin) Handle(context.Context, *Job) error { return nil }

// TestSecretBindings: every secret says which settings bind it; a plugin
// whose secret does not is refused at registration.
func TestSecretBindings(t *testing.T) {
	t.Parallel()
	for _, s := range []any{&ApplianceSettings{}, &boundSettings{}} {
		if err := CheckSecretBindings(s); err != nil {
			t.Errorf("%T: %v", s, err)
		}
	}
	for _, s := range []any{&unboundSettings{}, &wronglyBoundSettings{}} {
		if _, err := NewRegistry(unboundPlugin{s}); err == nil {
			t.Errorf("%T registered although its secret is not bound", s)
		}
	}
	old := &boundSettings{URL: "https://a.example", User: "u", Note: "n"}
	moved := &boundSettings{URL: "https://b.example", User: "u", Note: "other"}
	if got := ChangedBindings(old, moved, Secrets(moved)[0].Binds); !reflect.DeepEqual(got, []string{"url"}) {
		t.Errorf("ChangedBindings = %v, want [url]", got)
	}
	for _, f := range Fields(&boundSettings{}, nil) {
		if f.Name == "token" && !strings.Contains(f.Help, "URL, User") {
			t.Errorf("the token's help does not say what binds it: %q", f.Help)
		}
	}
}
