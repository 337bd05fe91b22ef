//go:build unix

package rusage

import (
	"runtime"
	"syscall"
	"time"
)

// CPU is the user and system CPU time the process has used so far, or 0
// when the system does not say.
func CPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// PeakRSS is the most resident memory the process has held, in bytes;
// ok is false when the system does not say.
func PeakRSS() (bytes int64, ok bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, false
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return int64(ru.Maxrss), true // bytes there, KiB elsewhere
	}
	return int64(ru.Maxrss) * 1024, true
}
