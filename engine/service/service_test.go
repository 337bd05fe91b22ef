package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"switchboard/engine"
	"switchboard/engine/render"
	"switchboard/engine/secretbox"
	"switchboard/engine/store"
	"switchboard/engine/storetest"
)

type secretPlugin struct{}

type secretSettings struct {
	Username string        `json:"username" validate:"required" label:"Username"`
	Password engine.Secret `json:"password" binds:"username" label:"Password"`
	Code     engine.Secret `json:"integration_code" binds:"username" label:"Integration Code"`
	Note     string        `json:"note" label:"Note"`
}

func (secretPlugin) Info() engine.Info {
	return engine.Info{ID: "sec", Name: "Secret test", Events: []string{engine.EventSessionEnd},
		NewSettings: func() any { return &secretSettings{} }}
}

func (secretPlugin) Handle(context.Context, *engine.Job) error { return nil }

func newService(t *testing.T, logs *bytes.Buffer) (*Service, *store.Store) {
	t.Helper()
	return newServiceWith(t, logs, secretPlugin{})
}

// newServiceWith is newService with plugin p registered instead.
func newServiceWith(t *testing.T, logs *bytes.Buffer, p engine.Plugin) (*Service, *store.Store) {
	t.Helper()
	st := storetest.Open(t)
	box, err := secretbox.Load(context.Background(), t.TempDir(), "", st)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := engine.NewRegistry(p)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := render.New(render.Options{OverrideDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	if logs != nil {
		log = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	svc, err := New(Options{Store: st, Registry: reg, Box: box, Renderer: rd, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return svc, st
}

func input(app map[string]any, settings map[string]any) ConfigInput {
	a, _ := json.Marshal(app)
	s, _ := json.Marshal(settings)
	return ConfigInput{Plugin: "sec", Appliance: a, Settings: s}
}

func validApp() map[string]any {
	return map[string]any{"name": "Acme", "appliance_id": "Default", "host": "support.example.com",
		"client_id": "abc", "client_secret": "oauth-secret-value"}
}

func TestRefusedApplianceValuesSayWhy(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t, nil)
	cases := []struct {
		field string
		value any
		want  string
	}{
		{"name", "", "is required"},
		{"appliance_id", "", "is required"},
		{"host", "", "is required"},
		{"host", "https://support.example.com", "enter the host name only, without https://: support.example.com"},
		{"host", "http://support.example.com/login", "enter the host name only, without http://: support.example.com"},
		{"host", "support.example.com/login", "remove /login and enter the root host name: support.example.com"},
		{"host", "support.example.com/api", "enter the host name only, without a path: support.example.com"},
		{"use_non_tls", true, "When using OAuth authentication, TLS cannot be disabled"},
		{"product", "ras", "must be one of: rs, pra"},
		{"polling_interval", 5, "must be at least 10"},
		{"retry_attempt_limit", -1, "must be at least 0"},
		{"retry_attempt_limit", 101, "must be at most 100"},
		{"outbound_events", []string{"support_conference_begin"}, `"support_conference_begin" is not an event type this plugin handles`},
		{"locale", "", "is required"},
		{"no_such_setting", 1, "is not a known setting"},
		{"polling_interval", "sixty", "must be a whole number, not a JSON string"},
	}
	for _, c := range cases {
		app := validApp()
		app[c.field] = c.value
		_, err := svc.CreateConfig(context.Background(), "admin", input(app, map[string]any{"username": "u"}))
		var fe engine.FieldErrors
		if !errors.As(err, &fe) {
			t.Errorf("%s=%v: err %v, want field errors", c.field, c.value, err)
			continue
		}
		if got := fe.For(c.field); got != c.want {
			t.Errorf("%s=%v: message %q, want %q (all: %v)", c.field, c.value, got, c.want, fe)
		}
	}
	app := validApp()
	delete(app, "client_secret")
	_, err := svc.CreateConfig(context.Background(), "admin", input(app, map[string]any{"username": "u"}))
	var fe engine.FieldErrors
	if !errors.As(err, &fe) || fe.For("client_secret") != "is required when an OAuth Client ID is set" {
		t.Errorf("client id without secret: %v", err)
	}
}

// Secrets are write-only: never in what the API returns, never in the
// stored settings column, never in the logs or the audit log; untouched
// secret fields keep their value, ClearSecrets clears.
func TestSecretsStaySecret(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	svc, st := newService(t, &logs)
	ctx := context.Background()
	cfg, err := svc.CreateConfig(ctx, "admin", input(validApp(), map[string]any{"username": "u", "password": "pw-1-secret", "integration_code": "code-1-secret"}))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.SecretsSet["password"] || !cfg.SecretsSet["client_secret"] || !cfg.SecretsSet["integration_code"] {
		t.Fatalf("secrets_set = %v", cfg.SecretsSet)
	}
	// Edit something else, leave the secrets empty: they are kept.
	app := validApp()
	app["client_secret"] = ""
	app["name"] = "Acme 2"
	in := input(app, map[string]any{"username": "u"})
	in.ClearSecrets = []string{"integration_code"}
	if _, err := svc.UpdateConfig(ctx, "admin", cfg.ID, in); err != nil {
		t.Fatal(err)
	}
	l, err := svc.Load(ctx, cfg.ID)
	if err != nil {
		t.Fatal(err)
	}
	s := l.Settings.(*secretSettings)
	if s.Password.Reveal() != "pw-1-secret" || s.Code.IsSet() || l.Appliance.ClientSecret.Reveal() != "oauth-secret-value" {
		t.Fatalf("after update: password %q code set %v client secret kept %v", s.Password.Reveal(), s.Code.IsSet(), l.Appliance.ClientSecret.IsSet())
	}
	if _, err := svc.CopyConfig(ctx, "admin", cfg.ID); err != nil {
		t.Fatal(err)
	}
	var everything bytes.Buffer
	all, _ := svc.Configs(ctx, "")
	got, _ := json.Marshal(all)
	everything.Write(got)
	audit, _ := svc.Audit(ctx, 100)
	got, _ = json.Marshal(audit)
	everything.Write(got)
	rows, _ := st.ListConfigs(ctx, "")
	for _, r := range rows {
		everything.WriteString(r.Settings)
		everything.Write(r.Secrets)
	}
	everything.Write(logs.Bytes())
	for _, secret := range []string{"pw-1-secret", "code-1-secret", "oauth-secret-value"} {
		if strings.Contains(everything.String(), secret) {
			t.Errorf("secret %q appears in the API output, stored settings, audit log or logs", secret)
		}
	}
	if !strings.Contains(string(got), `"[cleared]"`) {
		t.Errorf("the audit log does not record that a secret was cleared: %s", got)
	}
}

func TestUpdateRefusesAStaleVersion(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t, nil)
	ctx := context.Background()
	cfg, err := svc.CreateConfig(ctx, "admin", input(validApp(), map[string]any{"username": "u"}))
	if err != nil {
		t.Fatal(err)
	}
	in := input(validApp(), map[string]any{"username": "v"})
	in.Version = cfg.Version
	if _, err := svc.UpdateConfig(ctx, "a", cfg.ID, in); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.UpdateConfig(ctx, "b", cfg.ID, in); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second update with the old version: %v, want ErrConflict", err)
	}
}

func TestRouteReasons(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t, nil)
	ctx := context.Background()
	if _, reason := Route(nil, "Default", engine.EventSessionEnd, engine.SourceOutbound); reason != "no configurations exist yet" {
		t.Fatalf("reason %q", reason)
	}
	app := validApp()
	app["outbound_events"] = []string{}
	if _, err := svc.CreateConfig(ctx, "admin", input(app, map[string]any{"username": "u"})); err != nil {
		t.Fatal(err)
	}
	all, _ := svc.LoadAll(ctx)
	for _, c := range []struct{ appliance, event, want string }{
		{"Other", engine.EventSessionEnd, `no configuration has Appliance Id "Other"`},
		{"Default", "custom_event", `"custom_event" is not an event type any plugin configured for this appliance handles`},
		{"Default", engine.EventSessionEnd, "no enabled configuration for this appliance subscribes to this event type (Outbound Event Types)"},
	} {
		if ds, reason := Route(all, c.appliance, c.event, engine.SourceOutbound); len(ds) != 0 || reason != c.want {
			t.Errorf("%s %s: %d deliveries, reason %q; want %q", c.appliance, c.event, len(ds), reason, c.want)
		}
	}
}

// Creating or copying a configuration is one write: version 1, one audit
// entry carrying the settings, and secrets sealed for the new row's id.
func TestCreateAndCopyAreOneWrite(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t, nil)
	ctx := context.Background()
	cfg, err := svc.CreateConfig(ctx, "admin", input(validApp(), map[string]any{"username": "u", "password": "pw"}))
	if err != nil {
		t.Fatal(err)
	}
	cp, err := svc.CopyConfig(ctx, "admin", cfg.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Version != 1 || cp.Version != 1 || !cp.SecretsSet["password"] || !cp.Disabled {
		t.Fatalf("created version %d, copy version %d, copy secrets %v, copy disabled %v", cfg.Version, cp.Version, cp.SecretsSet, cp.Disabled)
	}
	l, err := svc.Load(ctx, cp.ID)
	if err != nil || l.Settings.(*secretSettings).Password.Reveal() != "pw" {
		t.Fatalf("the copy's secret does not open: %v", err)
	}
	audit, _ := svc.Audit(ctx, 10)
	if len(audit) != 2 || audit[1].Action != "create" || audit[0].Action != "copy" || len(audit[1].Changes) == 0 {
		t.Fatalf("audit = %+v; want one create entry with the settings and one copy entry", audit)
	}
}
