package store

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"testing"
)

// rssMiB is the process's resident memory, from /proc.
func rssMiB(t *testing.T) float64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skip("resident memory is read from /proc/self/statm (Linux)")
	}
	var size, rss int64
	if _, err := fmt.Sscan(string(b), &size, &rss); err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(size)
	return float64(rss*int64(os.Getpagesize())) / (1 << 20)
}

// A kept statement must not keep the values it was last run with: SQLite
// copies each bound text into its own memory (outside the Go heap, so no
// GC limit sees it) and keeps it until the statement is bound again. With
// 64 statements kept per connection, the group commit's multi-row inserts
// of posts (up to 64 KiB of fields each, hundreds per batch) would pin
// hundreds of MiB: 280 MiB of resident memory after 64 batches of 60 KiB
// posts, against 42 MiB without kept statements. Here: 16 reads, each its
// own statement text, each bound to a 4 MiB value.
func TestKeptStatementsDoNotPinTheirArguments(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	// The value is bound as a blob, which mattn hands to SQLite without
	// a copy of its own, and it is made (and its pages touched, shadow
	// pages of the race detector too) before the measure: what grows
	// after it is SQLite's.
	big := bytes.Repeat([]byte("x"), 4<<20)
	run := func(texts int, value []byte) {
		for i := range texts {
			var n int64
			if err := st.r.WithContext(ctx).Raw(fmt.Sprintf("SELECT COUNT(*) FROM events WHERE fields = ? AND id > %d", i), value).Scan(&n).Error; err != nil {
				t.Fatal(err)
			}
		}
		runtime.GC()
		debug.FreeOSMemory()
	}
	run(16, []byte("small")) // opens the pool's connections and compiles the statements
	run(1, big)              // and lets the allocators grow for one value
	run(1, []byte("small"))
	before := rssMiB(t)
	run(16, big)
	if grew := rssMiB(t) - before; grew > 40 {
		t.Errorf("resident memory grew %.0f MiB after reads bound to 4 MiB values (16 statement texts, 64 MiB if each keeps its value)", grew)
	}
}
