package server

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// TestAdminHostAllowList sends requests under forged Host names, as a
// DNS-rebinding page would (its own name, resolved to 127.0.0.1): refused.
// Loopback names and the configured public name pass.
func TestAdminHostAllowList(t *testing.T) {
	t.Parallel()
	s := startWith(t, Options{DataDir: t.TempDir(), AdminPublicNames: []string{"switchboard.example.com"}})
	tests := []struct {
		host string
		want int
	}{
		{"rebind.attacker.example", http.StatusMisdirectedRequest},
		{"rebind.attacker.example:53231", http.StatusMisdirectedRequest},
		{"10.0.0.8", http.StatusMisdirectedRequest},
		{"localhost", http.StatusOK},
		{"127.0.0.1:53231", http.StatusOK},
		{"[::1]:53231", http.StatusOK},
		{"Switchboard.Example.com", http.StatusOK},
	}
	for _, path := range []string{"/metrics", "/api/v1/plugins"} {
		for _, tt := range tests {
			req, _ := http.NewRequest("GET", s.AdminURL()+path, nil)
			req.Host = tt.host
			req.SetBasicAuth("admin", "correct horse battery")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("GET %s with Host %q: %d, want %d", path, tt.host, resp.StatusCode, tt.want)
			}
		}
	}
	req, _ := http.NewRequest("GET", s.AdminURL()+"/healthz", nil)
	req.Host = "probe.internal"
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("health check under another name: %v %v", resp, err)
	}
	if s.adminSrv.ReadTimeout == 0 || s.adminSrv.WriteTimeout == 0 || s.adminSrv.IdleTimeout == 0 {
		t.Errorf("admin listener timeouts: read %s, write %s, idle %s", s.adminSrv.ReadTimeout, s.adminSrv.WriteTimeout, s.adminSrv.IdleTimeout)
	}
}

// TestClientIPFromSocket: a forged X-Forwarded-For does not move the
// address the login throttle and the logs use, unless the request came
// through a configured proxy.
func TestClientIPFromSocket(t *testing.T) {
	t.Parallel()
	direct, err := ipExtractor(nil)
	if err != nil {
		t.Fatal(err)
	}
	proxied, err := ipExtractor([]string{"192.0.2.10", "198.51.100.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		ipx    echo.IPExtractor
		remote string
		want   string
	}{
		{"no proxy configured", direct, "192.0.2.10:4000", "192.0.2.10"},
		{"loopback is not a proxy by default", direct, "127.0.0.1:4000", "127.0.0.1"},
		{"from a trusted proxy", proxied, "192.0.2.10:4000", "203.0.113.7"},
		{"from a trusted range", proxied, "198.51.100.9:4000", "203.0.113.7"},
		{"from anyone else", proxied, "127.0.0.1:4000", "127.0.0.1"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest("GET", "/", nil)
		req.RemoteAddr = tt.remote
		req.Header.Set("X-Forwarded-For", "203.0.113.7")
		req.Header.Set("X-Real-IP", "203.0.113.8")
		if got := tt.ipx(req); got != tt.want {
			t.Errorf("%s: client %s, want %s", tt.name, got, tt.want)
		}
	}
	if _, err := ipExtractor([]string{"not-an-address"}); err == nil {
		t.Error("a bad trusted proxy was accepted")
	}

	// End to end: 5 failed logins with a new forged address each are
	// throttled by the socket address all the same.
	s := startWith(t, Options{DataDir: t.TempDir()})
	var last int
	for i := range 7 {
		req, _ := http.NewRequest("GET", s.AdminURL()+"/api/v1/plugins", nil)
		req.SetBasicAuth("nobody-"+string(rune('a'+i)), "wrong password!")
		req.Header.Set("X-Forwarded-For", "203.0.113."+string(rune('1'+i)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		last = resp.StatusCode
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("the 7th failed login from one socket with forged addresses: %d, want 429", last)
	}
}

// TestPrivateFiles: the data directory is 0700, the database and its WAL
// 0600, and the one-time setup link reaches neither the log (at any level)
// nor anything but a 0600 file.
func TestPrivateFiles(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	var logs bytes.Buffer
	ctx := context.Background()
	s, err := New(ctx, Options{DataDir: dir, IntakeAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	defer s.Shutdown(sctx) //nolint:errcheck // test teardown
	token := strings.TrimPrefix(s.SetupURL, "/setup?token=")
	if token == "" || strings.Contains(logs.String(), token) {
		t.Errorf("the setup token is in the log (or there is none): %q", s.SetupURL)
	}
	link, err := os.ReadFile(filepath.Join(dir, SetupLinkFile))
	if err != nil || !strings.Contains(string(link), token) {
		t.Errorf("setup link file: %q %v", link, err)
	}
	want := map[string]os.FileMode{dir: 0o700, filepath.Join(dir, SetupLinkFile): 0o600, s.Store.Path(): 0o600, s.Store.Path() + "-wal": 0o600}
	for path, mode := range want {
		info, err := os.Stat(path)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if info.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", path, info.Mode().Perm(), mode)
		}
	}
}
