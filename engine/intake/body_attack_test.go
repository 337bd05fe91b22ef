package intake

import (
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

// A sender that declares a large Content-Length and then sends a few bytes
// (and waits, slowloris-style) must not make the intake hold a buffer of
// the declared size: a few hundred such connections, before any token is
// checked, would otherwise hold hundreds of MiB. The buffer grows with
// what arrives.
func TestDeclaredLengthDoesNotReserveMemory(t *testing.T) {
	stalled := errors.New("the sender stopped sending")
	body := io.MultiReader(strings.NewReader("event=support_conference_end&lsid=x"), errorReader{stalled})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got, err := readBody(body, DefaultMaxBody, DefaultMaxBody)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, stalled) || string(got) != "event=support_conference_end&lsid=x" {
		t.Fatalf("read %q, %v", got, err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > DefaultMaxBody/8 {
		t.Errorf("reading %d bytes of a post declared %d bytes long allocated %d bytes", len(got), DefaultMaxBody, grew)
	}
}

type errorReader struct{ err error }

func (r errorReader) Read([]byte) (int, error) { return 0, r.err }
