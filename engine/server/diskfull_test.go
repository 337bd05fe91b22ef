package server

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"switchboard/engine"
	"switchboard/engine/store"
	"switchboard/engine/storetest"
)

// On a real, small volume that fills up: the intake answers 503 and
// /readyz fails while the database cannot be written; once space is freed
// the next post is stored without a restart, and the engine's own files
// do not fill the volume again.
func TestDiskFullAnswers503AndRecovers(t *testing.T) {
	t.Parallel()
	const walLimit = 256 << 10
	dir := storetest.SmallVolume(t, 8<<20)
	var logs bytes.Buffer
	s := startWith(t, Options{
		DataDir: dir, Plugins: []engine.Plugin{&countingPlugin{}}, WALLimit: walLimit,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	n := 0
	post := func() *http.Response {
		t.Helper()
		n++
		resp, err := http.PostForm(s.IntakeURL()+"/ERSPost", url.Values{"event": {engine.EventSessionEnd}, "lsid": {fmt.Sprint("disk", n)}, "timestamp": {"1700000000"}})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	ready := func() int {
		t.Helper()
		resp, err := http.Get(s.IntakeURL() + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for range 20 {
		if code := post().StatusCode; code != http.StatusOK {
			t.Fatalf("post before the disk is full: %d", code)
		}
	}

	// Fill the volume, and fill it again whenever the engine frees some
	// (a rewound WAL gives space back), until a post fails.
	filler := filepath.Join(dir, "filler")
	full := false
	for range 200 {
		storetest.Fill(t, filler)
		resp := post()
		if resp.StatusCode == http.StatusOK {
			continue
		}
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("post on a full disk: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		if ready() == http.StatusServiceUnavailable {
			full = true
			break
		}
	}
	if !full {
		t.Fatalf("no post failed with /readyz failing while the volume was full\n%s", logs.String())
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if code := post().StatusCode; code != http.StatusOK {
		t.Fatalf("first post after space was freed: %d, want 200 without a restart\n%s", code, logs.String())
	}
	if code := ready(); code != http.StatusOK {
		t.Fatalf("/readyz after a successful write: %d", code)
	}
	for i := range 1000 {
		if code := post().StatusCode; code != http.StatusOK {
			t.Fatalf("post %d after recovery: %d; the volume filled up again\n%s", i, code, logs.String())
		}
	}
	wal, err := os.Stat(store.DefaultPath(dir) + "-wal")
	if err == nil && wal.Size() > 2*walLimit+walLimit/2 {
		t.Fatalf("WAL holds %d bytes after recovery; bound %d", wal.Size(), 2*walLimit+walLimit/2)
	}
}
