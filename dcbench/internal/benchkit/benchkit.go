// Package benchkit holds what the hot-path benchmarks share.
package benchkit

import "syscall"

// CPUSeconds is the user+system CPU time of this process so far. Benchmarks report its
// difference per op: on a shared machine it moves far less with the load than wall time.
func CPUSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
