package server

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestRecipientURLReachable: listening on all interfaces, the startup line
// and the recipient URL name this host as an appliance can reach it, never
// 127.0.0.1 or 0.0.0.0; with a public URL configured, that URL.
func TestRecipientURLReachable(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	s, err := New(context.Background(), Options{
		DataDir: t.TempDir(), IntakeAddr: "0.0.0.0:0", AdminAddr: "127.0.0.1:0", AdminPassword: "correct horse battery",
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	base := s.IntakeBaseURL()
	for _, local := range []string{"127.0.0.1", "0.0.0.0", "[::]", "localhost"} {
		if strings.Contains(base, local) {
			t.Errorf("recipient base URL %q names %s", base, local)
		}
	}
	if !strings.Contains(logs.String(), "intake="+base+"/ERSPost") {
		t.Errorf("the startup line does not give %s/ERSPost:\n%s", base, logs.String())
	}

	if got := reachableHost([]string{"10.1.2.3", "127.0.0.1"}, "box"); got != "10.1.2.3" {
		t.Errorf("reachableHost = %q, want the first outward address", got)
	}
	if got := reachableHost(nil, "switchboard.example.com"); got != "switchboard.example.com" {
		t.Errorf("reachableHost = %q, want the host's full name", got)
	}
	if got := reachableHost(nil, "box"); got != "<this-host>" {
		t.Errorf("reachableHost = %q, want the placeholder", got)
	}
}
