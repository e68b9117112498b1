package synth

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/dcbench/dcbench/dcbench/condensers/kcenter"
)

// Record is what one iteration cost.
type Record struct {
	// Iter is the iteration number, from 1.
	Iter int `json:"iter"`
	// Seconds is the wall time of the iteration (the method's step, excluding evaluation
	// hooks and checkpoints). The first iteration of a run includes graph compilation.
	Seconds float64 `json:"seconds"`
	// Loss is the value the step returned.
	Loss float64 `json:"loss"`
	// PeakBytes is the peak memory of the process so far, see Stats.MemSource.
	PeakBytes int64 `json:"peak_bytes"`
}

// MemSourceVmHWM and MemSourceMemStats name where Record.PeakBytes comes from.
const (
	// MemSourceVmHWM is the peak resident set size of the process (VmHWM of
	// /proc/self/status, Linux), reset at the start of Run when /proc/self/clear_refs
	// allows it: host memory only, GPU memory is not included.
	MemSourceVmHWM = "VmHWM"
	// MemSourceMemStats is runtime.MemStats.Sys, the memory the Go runtime obtained from the
	// OS (used where /proc is not available): it misses memory allocated by C code.
	MemSourceMemStats = "runtime.MemStats.Sys"
)

// Stats collects the per-iteration records of a run (DC-Bench's Table 8 reports the mean
// and std of the seconds per iteration and the memory). Pass a *Stats as param "stats"; it
// is safe to read while the run goes on. It marshals to JSON as its Summary, so that a set's
// Params stay small.
type Stats struct {
	mu        sync.Mutex
	records   []Record
	memSource string
	resetOK   bool
	resumed   int
}

// Records returns a copy of the records so far.
func (s *Stats) Records() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Record(nil), s.records...)
}

// MemSource says what Record.PeakBytes measures (MemSourceVmHWM or MemSourceMemStats).
func (s *Stats) MemSource() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.memSource
}

// Summary is the digest of a run's records.
type Summary struct {
	// Iterations is the number of records.
	Iterations int `json:"iterations"`
	// ResumedAt is the iteration a checkpoint resumed from (0 for a fresh run).
	ResumedAt int `json:"resumed_at,omitempty"`
	// MeanSeconds and StdSeconds (population) are over the records after the first (which
	// includes compilation), or the only one.
	MeanSeconds float64 `json:"mean_seconds"`
	StdSeconds  float64 `json:"std_seconds"`
	// TotalSeconds sums all records.
	TotalSeconds float64 `json:"total_seconds"`
	// PeakBytes is the largest PeakBytes, and MemSource says what it measures.
	PeakBytes int64  `json:"peak_bytes"`
	MemSource string `json:"mem_source"`
	// PeakSinceRun says whether the peak was reset at the start of Run (else it is the
	// peak since the process started).
	PeakSinceRun bool `json:"peak_since_run"`
}

// Summary digests the records.
func (s *Stats) Summary() Summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	sum := Summary{Iterations: len(s.records), MemSource: s.memSource, PeakSinceRun: s.resetOK, ResumedAt: s.resumed}
	if len(s.records) == 0 {
		return sum
	}
	rs := s.records
	for _, r := range rs {
		sum.TotalSeconds += r.Seconds
		sum.PeakBytes = max(sum.PeakBytes, r.PeakBytes)
	}
	if len(rs) > 1 {
		rs = rs[1:]
	}
	for _, r := range rs {
		sum.MeanSeconds += r.Seconds
	}
	sum.MeanSeconds /= float64(len(rs))
	for _, r := range rs {
		sum.StdSeconds += (r.Seconds - sum.MeanSeconds) * (r.Seconds - sum.MeanSeconds)
	}
	sum.StdSeconds = math.Sqrt(sum.StdSeconds / float64(len(rs)))
	return sum
}

// MarshalJSON writes the Summary.
func (s *Stats) MarshalJSON() ([]byte, error) { return json.Marshal(s.Summary()) }

// start prepares the stats for a run: it resets the peak-RSS mark when the OS allows.
func (s *Stats) start(resumedAt int) {
	src, _ := peakMemory()
	ok := resetPeak()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records = s.records[:0]
	s.memSource, s.resetOK, s.resumed = src, ok, resumedAt
}

func (s *Stats) add(r Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records = append(s.records, r)
}

// peakMemory returns the process's peak resident set (VmHWM) on Linux, else the Go
// runtime's Sys.
func peakMemory() (source string, bytes int64) {
	if f, err := os.Open("/proc/self/status"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := sc.Text()
			if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				fields := strings.Fields(rest)
				if len(fields) >= 1 {
					if kb, err := strconv.ParseInt(fields[0], 10, 64); err == nil {
						return MemSourceVmHWM, kb * 1024
					}
				}
			}
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return MemSourceMemStats, int64(ms.Sys)
}

// resetPeak resets VmHWM to the current RSS (Linux ≥ 4.0: "5" to /proc/self/clear_refs).
func resetPeak() bool {
	f, err := os.OpenFile("/proc/self/clear_refs", os.O_WRONLY, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	_, err = f.WriteString("5")
	return err == nil
}

// Begin starts a fresh record for a method that does not use Run (K-Center, Herding): it
// clears the records and resets the peak-memory mark, as Run does at its start.
func (s *Stats) Begin() { s.start(0) }

// Observe appends the record of iteration iter (from 1) that took seconds and ended with
// loss, stamping the process's peak memory so far. Methods that use Run need not call it.
func (s *Stats) Observe(iter int, seconds, loss float64) {
	_, peak := peakMemory()
	s.add(Record{Iter: iter, Seconds: seconds, Loss: loss, PeakBytes: peak})
}

// Stats is the recorder that K-Center and Herding take as param "stats".
var _ kcenter.Recorder = (*Stats)(nil)
