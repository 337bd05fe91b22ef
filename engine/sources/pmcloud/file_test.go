package pmcloud

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadFile(t *testing.T) {
	t.Parallel()
	env := map[string]string{"ACME_SECRET": "from-env"}
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	good := `{"name":"acme","services_url":"https://acme-services.pm.beyondtrustcloud.com/management-api/","client_id":"id","client_secret_env":"ACME_SECRET","deliver_to":["SIEM"]}`
	cases := []struct {
		name, body string
		mode       os.FileMode
		want       string // "" = loads
	}{
		{"good", "[" + good + "]", 0o644, ""},
		{"secret in a private file", `[{"name":"a","services_url":"https://a-services.pm.beyondtrustcloud.com","client_id":"id","client_secret":"x"}]`, 0o600, ""},
		{"secret in a shared file", `[{"name":"a","services_url":"https://a-services.pm.beyondtrustcloud.com","client_id":"id","client_secret":"x"}]`, 0o644, "chmod 600"},
		{"not an array", good, 0o644, "JSON array"},
		{"unknown field", `[{"name":"a","servces_url":"x"}]`, 0o644, "servces_url"},
		{"unset env", `[{"name":"a","services_url":"https://a-services.pm.beyondtrustcloud.com","client_id":"id","client_secret_env":"NOPE"}]`, 0o644, "NOPE is not set"},
		{"no secret", `[{"name":"a","services_url":"https://a-services.pm.beyondtrustcloud.com","client_id":"id"}]`, 0o644, "client_secret"},
		{"http", `[{"name":"a","services_url":"http://a-services.pm.beyondtrustcloud.com","client_id":"id","client_secret_env":"ACME_SECRET"}]`, 0o644, "https"},
		{"two names", "[" + good + "," + good + "]", 0o644, "two sources"},
		{"cap too large", `[{"name":"a","services_url":"https://a.example.com","client_id":"id","client_secret_env":"ACME_SECRET","max_per_cycle":1000001}]`, 0o644, "max_per_cycle"},
		{"empty", `[]`, 0o644, "names no source"},
	}
	for _, c := range cases {
		path := filepath.Join(t.TempDir(), "sources.json")
		if err := os.WriteFile(path, []byte(c.body), c.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, c.mode); err != nil {
			t.Fatal(err)
		}
		got, err := LoadFile(path, getenv)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want it to mention %q", c.name, err, c.want)
		case err != nil && (strings.Contains(err.Error(), "from-env") || strings.Contains(err.Error(), `"x"`)):
			t.Errorf("%s: the secret is in the error: %v", c.name, err)
		}
		if c.name == "good" && (len(got) != 1 || got[0].ClientSecret.Reveal() != "from-env" || got[0].MaxPerCycle != DefaultMaxPerCycle || got[0].Interval != DefaultInterval) {
			t.Errorf("good file loaded %+v", got)
		}
	}
}
