//go:build linux

// The terminal test needs a Linux pseudo-terminal (/dev/ptmx and its
// ioctls); the rest of reset-password's tests run everywhere.

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/sys/unix"

	"switchboard/engine/auth"
)

// openPTY returns a pseudo-terminal's controlling side and its terminal.
func openPTY(t *testing.T) (ctl, tty *os.File) {
	t.Helper()
	ctl, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no pseudo-terminal: %v", err)
		}
		t.Skipf("no pseudo-terminal: %v", err)
	}
	// Through SyscallConn, not Fd, which would make ctl blocking and its
	// Close unable to end a pending Read.
	raw, err := ctl.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var ioErr error
	if err := raw.Control(func(fd uintptr) {
		if ioErr = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); ioErr == nil {
			n, ioErr = unix.IoctlGetInt(int(fd), unix.TIOCGPTN)
		}
	}); err != nil || ioErr != nil {
		t.Fatal(err, ioErr)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ctl, tty
}

// screen collects what a terminal shows.
type screen struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func (s *screen) waitFor(t *testing.T, text string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.String(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("the terminal never showed %q; it shows %q", text, s.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestResetPasswordFromATerminalWithoutEcho types the password on a real
// pseudo-terminal: it is asked twice, the terminal never shows it, and a
// mismatch changes nothing (issue 11 item 9).
func TestResetPasswordFromATerminalWithoutEcho(t *testing.T) {
	t.Setenv("SWITCHBOARD_ADMIN_PASSWORD", "")
	auth.BcryptCost = bcrypt.MinCost
	dir := t.TempDir()
	createInstallation(t, dir)
	for _, tt := range []struct {
		name, first, again string
		ok                 bool
	}{
		{"mismatch", "typed-password-3", "typed-password-4", false},
		{"typed twice", "typed-password-5", "typed-password-5", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctl, tty := openPTY(t)
			defer tty.Close()
			var shown screen
			copied := make(chan struct{})
			go func() { _, _ = io.Copy(&shown, ctl); close(copied) }()
			var out, errOut bytes.Buffer
			done := make(chan error, 1)
			go func() {
				done <- resetPassword(context.Background(), []string{"--data-dir", dir}, tty, &out, &errOut)
			}()
			shown.waitFor(t, "New password for admin: ")
			_, _ = ctl.WriteString(tt.first + "\n")
			shown.waitFor(t, "Type it again: ")
			_, _ = ctl.WriteString(tt.again + "\n")
			var err error
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("reset-password never returned")
			}
			_ = ctl.Close()
			<-copied
			if (err == nil) != tt.ok {
				t.Fatalf("err %v, want ok=%v", err, tt.ok)
			}
			for _, pw := range []string{tt.first, tt.again} {
				if strings.Contains(shown.String()+out.String()+errOut.String(), pw) {
					t.Errorf("the terminal showed the password: %q", shown.String())
				}
			}
			if got := signsIn(t, dir, tt.first); got != tt.ok {
				t.Errorf("signs in with the typed password: %v, want %v", got, tt.ok)
			}
		})
	}
}
