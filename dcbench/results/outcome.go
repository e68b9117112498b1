package results

import (
	"bufio"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// oomMarkers are the (lower-cased) phrases of allocation failures: XLA/PJRT's
// RESOURCE_EXHAUSTED status, CUDA's and the C library's "out of memory", Go's makeslice
// overflow.
var oomMarkers = []string{
	"resource_exhausted", "resource exhausted", "out of memory", "outofmemory", "oom when allocating",
	"cannot allocate memory", "failed to allocate", "allocation failed", "cuda_error_out_of_memory",
	"makeslice: len out of range", "makeslice: cap out of range",
}

// IsOOM reports whether an error message says that memory ran out.
func IsOOM(msg string) bool {
	m := strings.ToLower(msg)
	for _, k := range oomMarkers {
		if strings.Contains(m, k) {
			return true
		}
	}
	return false
}

// StatusOf classifies the outcome of a run: StatusOK for nil, StatusOOM for an allocation
// failure (see IsOOM), StatusFailed otherwise.
func StatusOf(err error) string {
	switch {
	case err == nil:
		return StatusOK
	case IsOOM(err.Error()):
		return StatusOOM
	default:
		return StatusFailed
	}
}

// PanicError is a panic turned into an error by Protect.
type PanicError struct {
	Value any
	Stack string
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Protect runs fn and turns a panic into a *PanicError, so that a backend that panics on an
// allocation failure gives an oom record instead of a crash. A Go "fatal error: runtime: out
// of memory" cannot be caught by any means: the process dies and its run has no record, so
// the next sweep runs it again.
func Protect(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: string(debug.Stack())}
		}
	}()
	return fn()
}

// ResetPeakRSS resets the kernel's peak-RSS counter of this process (writing "5" to
// /proc/self/clear_refs, Linux ≥ 4.0), so that the next PeakRSS is the peak since now; it
// reports whether it could.
func ResetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// PeakRSS returns the peak resident set size of this process in bytes (VmHWM in
// /proc/self/status), or 0 where that file does not exist.
func PeakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			fields := strings.Fields(rest)
			if len(fields) == 0 {
				return 0
			}
			kb, err := strconv.ParseInt(fields[0], 10, 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}
