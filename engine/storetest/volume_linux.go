package storetest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// SmallVolume mounts a tmpfs of size bytes on a new temporary directory,
// unmounted when the test ends: a real filesystem that fills up, for tests
// of a full disk. Mounting needs root, as CI has; elsewhere the test is
// skipped, but under CI=true it fails.
func SmallVolume(t testing.TB, size int64) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
		unavailable(t, fmt.Sprintf("mount a %d-byte tmpfs on %s: %v (needs root)", size, dir, err))
	}
	// Registered after TempDir's own cleanup, so it runs before it.
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// Fill writes to the file name on the volume until the volume is full (a
// write fails with ENOSPC), appending to what is there: called again it
// takes whatever space was freed meanwhile.
func Fill(t testing.TB, name string) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatalf("fill %s: %v", filepath.Base(name), err)
	}
	defer f.Close()
	page := make([]byte, 4096)
	for {
		if _, err := f.Write(page); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return
			}
			t.Fatalf("fill %s: %v", filepath.Base(name), err)
		}
	}
}

func unavailable(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI must run this test: %s", why)
	}
	t.Skipf("skipped: %s", why)
}
