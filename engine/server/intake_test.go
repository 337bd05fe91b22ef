package server

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/engine"
)

const (
	tokenDefault  = "default-token-0123456789"
	tokenDefault2 = "default-token2-0123456789"
	tokenOther    = "other-token-0123456789"
)

func createConfig(t *testing.T, s *Server, name, applianceID, token string) {
	t.Helper()
	status, body := api(t, s, http.MethodPost, "/api/v1/configurations", map[string]any{
		"plugin":    "count",
		"appliance": map[string]any{"name": name, "appliance_id": applianceID, "host": "support.example.com", "intake_token": token},
		"settings":  map[string]any{},
	})
	if status != http.StatusCreated {
		t.Fatalf("create %s: %d %s", name, status, body)
	}
	if strings.Contains(string(body), token) {
		t.Fatalf("the create response shows the token: %s", body)
	}
}

func postEvent(t *testing.T, client *http.Client, u, lsid string, header http.Header) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(url.Values{"event": {engine.EventSessionEnd}, "lsid": {lsid}, "timestamp": {"1700000000"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// lockedBuffer is a log destination the server's goroutines may share
// with the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The tokens of every configuration of an Appliance Id are accepted for
// it, and no other; the recipient URL the server builds is one that works.
func TestIntakeTokensFromConfigurations(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	s := startWith(t, Options{DataDir: t.TempDir(), Plugins: []engine.Plugin{&countingPlugin{}}, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	createConfig(t, s, "Acme", "Default", tokenDefault)
	createConfig(t, s, "Acme next", "Default", tokenDefault2)
	createConfig(t, s, "Other", "Other", tokenOther)
	base := s.IntakeURL() + "/ERSPost?appliance=Default"
	for i, tc := range []struct {
		name, url string
		want      int
	}{
		{"no token", base, http.StatusForbidden},
		{"wrong token", base + "&token=" + tokenDefault + "x", http.StatusForbidden},
		{"another appliance's token", base + "&token=" + tokenOther, http.StatusForbidden},
		{"the first configuration's token", base + "&token=" + tokenDefault, http.StatusOK},
		{"the second configuration's token", base + "&token=" + tokenDefault2, http.StatusOK},
		{"the recipient URL", s.IntakeRecipientURL("Other", engine.NewSecret(tokenOther)), http.StatusOK},
	} {
		if got := postEvent(t, http.DefaultClient, tc.url, "L"+strconv.Itoa(i), nil); got != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, got, tc.want)
		}
	}
	for _, tok := range []string{tokenDefault, tokenDefault2, tokenOther} {
		if strings.Contains(logs.String(), tok) {
			t.Fatalf("a token reached the log:\n%s", logs.String())
		}
	}
}

// The allow-list is checked against the client address: the socket's, or
// what a trusted proxy reports.
func TestIntakeAllowList(t *testing.T) {
	t.Parallel()
	if _, err := New(t.Context(), Options{DataDir: t.TempDir(), IntakeAllow: []string{"10.0.0.0/33"}}); err == nil || !strings.Contains(err.Error(), "10.0.0.0/33") {
		t.Fatalf("a bad allow-list entry: err %v", err)
	}
	s := startWith(t, Options{DataDir: t.TempDir(), IntakeAllow: []string{"10.0.0.0/8", "203.0.113.7"}})
	if got := postEvent(t, http.DefaultClient, s.IntakeURL()+"/ERSPost", "a", nil); got != http.StatusForbidden {
		t.Fatalf("post from 127.0.0.1, allow-list 10.0.0.0/8: status %d, want 403", got)
	}
	forged := http.Header{"X-Forwarded-For": {"203.0.113.7"}, "X-Real-Ip": {"203.0.113.7"}}
	if got := postEvent(t, http.DefaultClient, s.IntakeURL()+"/ERSPost", "b", forged); got != http.StatusForbidden {
		t.Fatalf("post with a forged X-Forwarded-For and no trusted proxy: status %d, want 403", got)
	}
	proxied := startWith(t, Options{DataDir: t.TempDir(), IntakeAllow: []string{"203.0.113.0/24"}, TrustedProxies: []string{"127.0.0.1"}})
	if got := postEvent(t, http.DefaultClient, proxied.IntakeURL()+"/ERSPost", "c", forged); got != http.StatusOK {
		t.Fatalf("post relayed by a trusted proxy for an allowed client: status %d, want 200", got)
	}
	if got := postEvent(t, http.DefaultClient, proxied.IntakeURL()+"/ERSPost", "d", http.Header{"X-Forwarded-For": {"198.51.100.1"}}); got != http.StatusForbidden {
		t.Fatalf("post relayed by a trusted proxy for another client: status %d, want 403", got)
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1 with the given
// serial, replacing the files the way certbot and cert-manager do: new
// files renamed over the old.
func writeCert(t *testing.T, dir string, serial int64) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "switchboard test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for name, block := range map[string]*pem.Block{"cert.pem": {Type: "CERTIFICATE", Bytes: der}, "key.pem": {Type: "PRIVATE KEY", Bytes: keyDER}} {
		tmp := filepath.Join(dir, name+".new")
		if err := os.WriteFile(tmp, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// servedSerial connects over TLS, trusting only roots, and returns the
// serial of the certificate the intake served.
func servedSerial(t *testing.T, addr string, roots ...*x509.Certificate) int64 {
	t.Helper()
	pool := x509.NewCertPool()
	for _, r := range roots {
		pool.AddCert(r)
	}
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

// The intake serves TLS from the files it was given, and a certificate
// replaced on disk is served from the next connection on, without a
// restart. Events are accepted over it.
func TestIntakeTLSReloadsTheCertificate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := writeCert(t, dir, 1)
	s := startWith(t, Options{DataDir: t.TempDir(), IntakeTLSCert: filepath.Join(dir, "cert.pem"), IntakeTLSKey: filepath.Join(dir, "key.pem")})
	if !strings.HasPrefix(s.IntakeURL(), "https://") {
		t.Fatalf("IntakeURL = %s, want https", s.IntakeURL())
	}
	addr := strings.TrimPrefix(s.IntakeURL(), "https://")
	if got := servedSerial(t, addr, first); got != 1 {
		t.Fatalf("served serial %d, want 1", got)
	}
	second := writeCert(t, dir, 2)
	if got := servedSerial(t, addr, first, second); got != 2 {
		t.Fatalf("after renewal, served serial %d, want 2", got)
	}
	pool := x509.NewCertPool()
	pool.AddCert(second)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	if got := postEvent(t, client, s.IntakeURL()+"/ERSPost", "tls", nil); got != http.StatusOK {
		t.Fatalf("post over TLS: status %d, want 200", got)
	}
	// A half-written renewal (a key that does not fit) keeps the served
	// certificate.
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := servedSerial(t, addr, first, second); got != 2 {
		t.Fatalf("after a broken key file, served serial %d, want 2 (the last good one)", got)
	}
}

// Missing or mismatched files stop the start with a clear error.
func TestIntakeTLSBadFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := New(t.Context(), Options{DataDir: t.TempDir(), IntakeTLSCert: filepath.Join(dir, "cert.pem")}); err == nil || !strings.Contains(err.Error(), "--intake-tls-key") {
		t.Fatalf("a certificate without a key: err %v", err)
	}
	_, err := New(t.Context(), Options{DataDir: t.TempDir(), IntakeTLSCert: filepath.Join(dir, "cert.pem"), IntakeTLSKey: filepath.Join(dir, "key.pem")})
	if err == nil || !strings.Contains(err.Error(), "cert.pem") {
		t.Fatalf("missing files: err %v", err)
	}
}
