package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard/engine/auth"
	"switchboard/engine/beyondtrust/bttest"
	"switchboard/engine/server"
	"switchboard/engine/service"
	"switchboard/plugins"
)

// TestQueryCommand: `switchboard query` asks a running engine with an API
// token, follows the cursor with --all, and says what went wrong when the
// engine refuses (a bad window, a revoked token) or no token is given.
func TestQueryCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim := bttest.New(bttest.WithProduct("pra"))
	t.Cleanup(sim.Close)
	s, err := server.New(ctx, server.Options{DataDir: t.TempDir(), IntakeAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		Plugins: plugins.All(), AdminPassword: "a long admin password", ApplianceRootCAs: sim.CertPool()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) }) //nolint:errcheck // test teardown
	opts := sim.Options()
	app := `{"name":"PRA","host":"` + opts.Host + `","client_id":"` + opts.ClientID + `","client_secret":"` + opts.ClientSecret + `","product":"pra"}`
	cfg, err := s.Service.CreateConfig(ctx, "admin", service.ConfigInput{Plugin: "siem", Appliance: []byte(app),
		Settings: []byte(`{"destination":"webhook","url":"https://siem.example.com/hook","credential":"a signing secret"}`)})
	if err != nil {
		t.Fatalf("create configuration: %v", err)
	}
	for i := range 3 {
		sim.AddVaultActivity(bttest.VaultActivity{Time: sim.Now().Add(-time.Duration(10+i) * time.Minute), Type: "Password Changed",
			Account: "7", PerformedByID: "1", PerformedByType: "user", PerformedBy: "Admin"})
	}
	tok, secret, err := s.Auth.CreateAPIToken(ctx, auth.User{Username: "admin"}, "cli")
	if err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	from := sim.Now().Add(-time.Hour).Format(time.RFC3339)
	common := []string{"--url", s.AdminURL(), "--token-file", tokenFile, "--config", strconv.FormatInt(cfg.ID, 10)}

	out, errOut, err := runCLI(t, append([]string{"query", "vault-activity", "--from", from, "--limit", "2", "--all"}, common...)...)
	if err != nil || strings.Count(out, "\n") != 3 || strings.Count(out, `"event_type":"Password Changed"`) != 3 {
		t.Fatalf("--all: %q %q %v", out, errOut, err)
	}
	out, _, err = runCLI(t, append([]string{"query", "vault-activity", "--from", from, "--limit", "2"}, common...)...)
	if err != nil || !strings.Contains(out, `"next_cursor": "`) || !strings.Contains(out, `"count": 2`) {
		t.Fatalf("one page: %q %v", out, err)
	}
	sim.AddConfigJumpItem(bttest.ConfigJumpItem{Type: "shell-jump", Name: "db01", Hostname: "db01.example.com", JumpointID: 1, JumpGroupID: 1, JumpGroupType: "shared"})
	out, _, err = runCLI(t, append([]string{"query", "jump-items", "--type", "shell-jump", "--all"}, common...)...)
	if err != nil || strings.Count(out, "\n") != 1 || !strings.Contains(out, `"type":"shell-jump"`) || !strings.Contains(out, `"name":"db01"`) {
		t.Fatalf("jump-items --type: %q %v", out, err)
	}
	if _, _, err := runCLI(t, append([]string{"query", "vault-activity", "--from", "soon"}, common...)...); err == nil || !strings.Contains(err.Error(), "HTTP 400: from must be an RFC 3339 time") {
		t.Fatalf("bad window: %v", err)
	}
	if _, _, err := runCLI(t, "query", "vault-activity", "--url", s.AdminURL(), "--token-file", filepath.Join(t.TempDir(), "none")); err == nil || !strings.Contains(err.Error(), "token file") {
		t.Fatalf("no token file: %v", err)
	}
	if _, errOut, err := runCLI(t, "query"); exitCode(err) != 2 || !strings.Contains(errOut, "Kinds: sessions") {
		t.Fatalf("no kind: %v %q", err, errOut)
	}
	if err := s.Auth.RevokeAPIToken(ctx, auth.User{Username: "admin"}, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCLI(t, append([]string{"query", "vault-activity", "--from", from}, common...)...); err == nil || !strings.Contains(err.Error(), "HTTP 401: unauthorized") {
		t.Fatalf("revoked token: %v", err)
	}
}
