package service

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func exported(t *testing.T, svc *Service) ExportFile {
	t.Helper()
	f, err := svc.Export(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestExportLeavesSecretsOut: an export is safe to commit to git.
func TestExportLeavesSecretsOut(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t, nil)
	ctx := context.Background()
	if _, err := svc.CreateConfig(ctx, "admin", input(validApp(), map[string]any{"username": "u", "password": "p4ss-value", "integration_code": "code-value"})); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(exported(t, svc))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"oauth-secret-value", "p4ss-value", "code-value", "[redacted]"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("the export holds %q: %s", secret, b)
		}
	}
	if !strings.Contains(string(b), `"host":"support.example.com"`) || !strings.Contains(string(b), ExportFormat) {
		t.Errorf("the export lacks the settings or its format: %s", b)
	}
}

// TestImportRoundTrip: exporting, then importing the same file into another
// installation with secrets from the environment and a secrets file, gives
// the same configuration; importing it again changes nothing.
func TestImportRoundTrip(t *testing.T) {
	t.Parallel()
	src, _ := newService(t, nil)
	ctx := context.Background()
	if _, err := src.CreateConfig(ctx, "admin", input(validApp(), map[string]any{"username": "u", "password": "p", "integration_code": "c"})); err != nil {
		t.Fatal(err)
	}
	f := exported(t, src)
	var settings map[string]any
	if err := json.Unmarshal(f.Configurations[0].Settings, &settings); err != nil {
		t.Fatal(err)
	}
	settings["password"] = "env:AT_PASSWORD"
	f.Configurations[0].Settings, _ = json.Marshal(settings)

	dst, _ := newService(t, nil)
	env := map[string]string{"AT_PASSWORD": "from-env"}
	opts := ImportOptions{
		Getenv:  func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Secrets: map[string]map[string]string{"sec/Acme": {"client_secret": "from-file", "integration_code": "code-from-file"}},
	}
	res, err := dst.Import(ctx, "admin", f, opts)
	if err != nil || len(res) != 1 || res[0].Action != ImportCreated {
		t.Fatalf("import: %+v %v", res, err)
	}
	l, err := dst.Load(ctx, res[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	s := l.Settings.(*secretSettings)
	if l.Appliance.ClientSecret.Reveal() != "from-file" || s.Password.Reveal() != "from-env" || s.Code.Reveal() != "code-from-file" || s.Username != "u" {
		t.Fatalf("imported secrets or settings wrong: %+v %+v", l.Appliance, s)
	}
	res, err = dst.Import(ctx, "admin", exported(t, dst), ImportOptions{})
	if err != nil || res[0].Action != ImportUnchanged {
		t.Fatalf("a second import of the same file: %+v %v", res, err)
	}
	audit, err := dst.st.Audit(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) != 1 {
		t.Errorf("an unchanged import wrote to the audit log: %d entries", len(audit))
	}
}

// TestImportIsAllOrNothing: one invalid configuration refuses the whole file,
// says why per configuration, and writes nothing; a dry run writes nothing.
func TestImportIsAllOrNothing(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t, nil)
	ctx := context.Background()
	good := ExportedConfig{Plugin: "sec"}
	good.Appliance, _ = json.Marshal(validApp())
	good.Settings, _ = json.Marshal(map[string]any{"username": "u"})
	badApp := validApp()
	badApp["name"] = "Broken"
	badApp["host"] = "https://support.example.com"
	bad := ExportedConfig{Plugin: "sec"}
	bad.Appliance, _ = json.Marshal(badApp)
	bad.Settings, _ = json.Marshal(map[string]any{"username": "u", "password": "env:UNSET_VARIABLE"})
	unknown := ExportedConfig{Plugin: "nope", Appliance: json.RawMessage(`{"name":"X"}`)}

	f := ExportFile{Format: ExportFormat, Configurations: []ExportedConfig{good, bad, unknown, good}}
	res, err := svc.Import(ctx, "admin", f, ImportOptions{Getenv: func(string) (string, bool) { return "", false }})
	if !errors.Is(err, ErrImportInvalid) {
		t.Fatalf("err %v, want ErrImportInvalid", err)
	}
	want := []string{ImportCreated, ImportInvalid, ImportInvalid, ImportInvalid}
	for i, r := range res {
		if r.Action != want[i] {
			t.Errorf("result %d: %+v, want %s", i, r, want[i])
		}
	}
	msgs, _ := json.Marshal(res)
	for _, s := range []string{"UNSET_VARIABLE", "without https://", "appears twice", "nope"} {
		if !strings.Contains(string(msgs), s) {
			t.Errorf("the results do not say %q: %s", s, msgs)
		}
	}
	if cs, _ := svc.Configs(ctx, ""); len(cs) != 0 {
		t.Fatalf("a refused import stored %d configurations", len(cs))
	}
	res, err = svc.Import(ctx, "admin", ExportFile{Format: ExportFormat, Configurations: []ExportedConfig{good}}, ImportOptions{DryRun: true})
	if err != nil || res[0].Action != ImportCreated {
		t.Fatalf("dry run: %+v %v", res, err)
	}
	if cs, _ := svc.Configs(ctx, ""); len(cs) != 0 {
		t.Fatalf("a dry run stored %d configurations", len(cs))
	}
	if _, err := svc.Import(ctx, "admin", ExportFile{Format: "something/else"}, ImportOptions{}); err == nil {
		t.Fatal("a file of another format was imported")
	}
}

// TestImportUpdatesByName: a changed setting updates the stored
// configuration of that name (keeping its secrets) and reports the change;
// a changed setting that binds a secret needs the secret in the file.
func TestImportUpdatesByName(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t, nil)
	ctx := context.Background()
	c, err := svc.CreateConfig(ctx, "admin", input(validApp(), map[string]any{"username": "u", "password": "kept"}))
	if err != nil {
		t.Fatal(err)
	}
	f := exported(t, svc)
	f.Configurations[0].Settings = json.RawMessage(`{"username":"renamed"}`)
	if res, err := svc.Import(ctx, "admin", f, ImportOptions{}); err == nil || res[0].Action != ImportInvalid || !strings.Contains(res[0].Errors.Error(), "type it again") {
		t.Fatalf("import moving a stored secret to another username: %+v %v", res, err)
	}
	f.Configurations[0].Settings = json.RawMessage(`{"username":"u","note":"changed"}`)
	res, err := svc.Import(ctx, "admin", f, ImportOptions{})
	if err != nil || res[0].Action != ImportUpdated || res[0].ID != c.ID || len(res[0].Changes) != 1 || res[0].Changes[0].Field != "note" {
		t.Fatalf("import: %+v %v", res, err)
	}
	l, _ := svc.Load(ctx, c.ID)
	if s := l.Settings.(*secretSettings); s.Note != "changed" || s.Password.Reveal() != "kept" {
		t.Fatalf("after import: %+v", s)
	}
}
