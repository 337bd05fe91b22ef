package rusage

import (
	"testing"
	"time"
)

// TestCPUCounts: busy work shows as CPU time, and a peak resident set,
// where the system reports one, holds at least what was touched.
func TestCPUCounts(t *testing.T) {
	before := CPU()
	buf := make([]byte, 32<<20)
	for deadline := time.Now().Add(50 * time.Millisecond); time.Now().Before(deadline); {
		for i := 0; i < len(buf); i += 4096 {
			buf[i]++
		}
	}
	if used := CPU() - before; used <= 0 {
		t.Errorf("50 ms of busy work used %v of CPU", used)
	}
	if peak, ok := PeakRSS(); ok && peak < int64(len(buf)) {
		t.Errorf("peak resident set %d bytes after touching %d", peak, len(buf))
	}
}
