package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"switchboard/engine"
	"switchboard/engine/store"
)

// TestForgedPostsOverTheWire attacks a fully configured intake (TLS, a
// token for the Appliance Id, an allow-list, a trusted proxy) the way an
// outsider would: every forged post gets 403 (plain HTTP gets no answer a
// client could take for success), nothing is stored, each refusal is
// counted by reason, and no token, right or wrong, reaches the log. Only
// the genuine post is stored (issue 11 item 3).
func TestForgedPostsOverTheWire(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert := writeCert(t, dir, 1)
	var logs lockedBuffer
	s := startWith(t, Options{
		DataDir: t.TempDir(), Plugins: []engine.Plugin{&countingPlugin{}},
		IntakeTLSCert: filepath.Join(dir, "cert.pem"), IntakeTLSKey: filepath.Join(dir, "key.pem"),
		IntakeAllow: []string{"203.0.113.0/24"}, TrustedProxies: []string{"127.0.0.1"},
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	createConfig(t, s, "Acme", "Default", tokenDefault)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	base := s.IntakeURL() + "/ERSPost?appliance=Default"
	from := func(addr string) http.Header { return http.Header{"X-Forwarded-For": {addr}} }
	const wrong = "guessed-token-0123456789"
	for _, tc := range []struct {
		name   string
		url    string
		header http.Header
	}{
		{"allowed address, no token", base, from("203.0.113.9")},
		{"allowed address, wrong token", base + "&token=" + wrong, from("203.0.113.9")},
		{"allowed address, the token's prefix", base + "&token=" + tokenDefault[:12], from("203.0.113.9")},
		{"allowed address, the token in a header", base, http.Header{"X-Forwarded-For": {"203.0.113.9"}, "Authorization": {"Bearer " + tokenDefault}}},
		{"right token, address outside the list", base + "&token=" + tokenDefault, from("198.51.100.9")},
		{"right token, allowed address forged before the real one", base + "&token=" + tokenDefault, from("203.0.113.9, 198.51.100.9")},
		{"another Appliance Id without its token", s.IntakeURL() + "/ERSPost?appliance=Other&token=" + wrong, from("198.51.100.9")},
	} {
		if got := postEvent(t, client, tc.url, "forged", tc.header); got != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", tc.name, got)
		}
	}
	plain := strings.Replace(base, "https://", "http://", 1) + "&token=" + tokenDefault
	if resp, err := http.Post(plain, "application/x-www-form-urlencoded", strings.NewReader("event=support_conference_end&lsid=plain")); err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("a plain-HTTP post to the TLS intake got 200")
		}
	}
	events, err := s.Store.ListEvents(context.Background(), store.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 0 {
		t.Fatalf("%d forged events stored, want none", len(events))
	}
	if got := postEvent(t, client, base+"&token="+tokenDefault, "genuine", from("203.0.113.9")); got != http.StatusOK {
		t.Fatalf("the genuine post: status %d, want 200", got)
	}
	if events, _ = s.Store.ListEvents(context.Background(), store.EventFilter{}); len(events) != 1 || events[0].LSID != "genuine" {
		t.Fatalf("after the genuine post: %d events, want only it", len(events))
	}
	resp, err := http.Get(s.AdminURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, reason := range []string{"token_missing", "token_invalid", "address_not_allowed"} {
		if !strings.Contains(string(metrics), `switchboard_intake_rejected_total{reason="`+reason+`"}`) {
			t.Errorf("no refusal counted as %s", reason)
		}
	}
	for _, tok := range []string{tokenDefault, tokenDefault[:12], wrong} {
		if strings.Contains(logs.String(), tok) {
			t.Fatalf("a token reached the log:\n%s", logs.String())
		}
	}
}
