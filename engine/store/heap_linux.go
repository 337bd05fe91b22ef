//go:build cgo

package store

/*
#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

// sb_keep_heap sets glibc's trim threshold (see heap_linux.go).
static void sb_keep_heap(size_t n) {
#if defined(__GLIBC__)
	mallopt(M_TRIM_THRESHOLD, (int)n);
#endif
}
*/
import "C"

// SQLite allocates its page cache and each statement's working memory
// with malloc, in whichever OS thread runs the cgo call. With glibc's
// default (dynamic) trim threshold, memory freed at the end of a statement
// was given back to the kernel (brk, madvise, with a TLB shootdown to the
// other core) and faulted in again by the next: the claim at insert cost
// twice the insert it rides on, mostly in the kernel
// (BenchmarkInsertClaiming, docs/performance.md "Prepared statements
// kept"). A fixed 1 MiB threshold keeps that much free at the top of each
// heap; larger free blocks are still given back.
const heapTrimThreshold = 1 << 20

func init() { C.sb_keep_heap(heapTrimThreshold) }
