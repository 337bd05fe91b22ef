package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigExportImport: a configuration kept as a file is imported into a
// fresh installation with its secrets from the environment, shows no secret
// when exported again, and a broken file changes nothing.
func TestConfigExportImport(t *testing.T) {
	dir := t.TempDir()
	createInstallation(t, dir)
	t.Setenv("SWITCHBOARD_SECRET_KEY", "")
	t.Setenv("AT_PASSWORD", "password-from-env")
	file := filepath.Join(t.TempDir(), "acme.json")
	doc := `{"format": "switchboard.configurations/v1", "configurations": [{
		"plugin": "autotask",
		"appliance": {"name": "Acme", "appliance_id": "Default", "host": "support.example.com", "product": "rs"},
		"settings": {"username": "api@example.com", "password": "env:AT_PASSWORD", "integration_code": "code-in-file",
			"time_entry_defaults": {}}
	}]}`
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCLI(t, "config", "import", "--dry-run", "--data-dir", dir, file)
	if err != nil || !strings.Contains(out, "autotask/Acme: would be created") {
		t.Fatalf("dry run: %q %v", out, err)
	}
	if out, _, _ = runCLI(t, "config", "export", "--data-dir", dir); strings.Contains(out, "Acme") {
		t.Fatalf("the dry run stored the configuration: %s", out)
	}
	out, _, err = runCLI(t, "config", "import", "--data-dir", dir, file)
	if err != nil || !strings.Contains(out, "autotask/Acme: created") {
		t.Fatalf("import: %q %v", out, err)
	}
	out, _, err = runCLI(t, "config", "export", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"password-from-env", "code-in-file"} {
		if strings.Contains(out, secret) {
			t.Errorf("the export shows the secret %q", secret)
		}
	}
	var f struct {
		Configurations []struct {
			Appliance map[string]any `json:"appliance"`
		} `json:"configurations"`
	}
	if err := json.Unmarshal([]byte(out), &f); err != nil || len(f.Configurations) != 1 || f.Configurations[0].Appliance["host"] != "support.example.com" {
		t.Fatalf("export: %v %s", err, out)
	}

	broken := strings.Replace(doc, `"host": "support.example.com"`, `"host": "https://other.example.com/login"`, 1)
	if err := os.WriteFile(file, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err = runCLI(t, "config", "import", "--data-dir", dir, file)
	if err == nil || !strings.Contains(out, "refused") || !strings.Contains(out, "host") {
		t.Fatalf("an invalid file: %q %v", out, err)
	}
	if out, _, _ = runCLI(t, "config", "export", "--data-dir", dir); !strings.Contains(out, `"host": "support.example.com"`) {
		t.Fatalf("a refused import changed the stored configuration: %s", out)
	}
	if _, _, err := runCLI(t, "config", "import", "--data-dir", filepath.Join(dir, "nowhere"), file); err == nil || !strings.Contains(err.Error(), "--data-dir") {
		t.Fatalf("import into a folder without a database: %v", err)
	}
}
