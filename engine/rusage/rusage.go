// Package rusage reads this process's resource use for benchmarks: CPU time,
// which on a shared machine varies far less than the wall clock, and the
// peak resident set. It builds on every platform the binary ships for, so
// the benchmarks' test files compile there too.
package rusage
