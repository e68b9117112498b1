package results

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/dcbench/dcbench/dcbench"
)

// Statuses of a run (Record.Status).
const (
	// StatusOK: the run finished; Accuracy (or, for KindCost, SecondsPerIter) holds.
	StatusOK = "ok"
	// StatusOOM: the backend could not allocate memory (a result, as the paper's "OOM").
	StatusOOM = "oom"
	// StatusFailed: the run failed with another error (Error holds the message).
	StatusFailed = "failed"
	// StatusSkipped: the run was not attempted, e.g. its method is not registered yet; a
	// later sweep runs it once it can.
	StatusSkipped = "skipped"
)

// Record is one run: one (config, seed) pair, with its outcome. It is one line of a results
// file. Config is embedded, so its fields are top-level keys in the JSON.
type Record struct {
	Config
	// ConfigHash is Config.Hash() (written so that tools need not recompute it).
	ConfigHash string `json:"config_hash,omitempty"`
	// Seed is the evaluation seed (network initialisation, shuffling, augmentation); for a
	// KindCost run it repeats CondenseSeed.
	Seed uint64 `json:"seed"`
	// Run is the 1-based index of the run within one `dcbench eval` invocation (0 in sweeps).
	Run int `json:"run,omitempty"`
	// Status is StatusOK, StatusOOM, StatusFailed or StatusSkipped ("" in records written
	// before statuses existed, read as StatusOK).
	Status string `json:"status,omitempty"`
	// Error is the message of an oom, failed or skipped run.
	Error string `json:"error,omitempty"`
	// Accuracy is the test accuracy in percent.
	Accuracy float64 `json:"accuracy"`
	// Seconds is the wall time of the run (training and testing; for KindCost the
	// condensation).
	Seconds float64 `json:"seconds"`
	// SecondsPerEpoch is the mean wall time of one training pass.
	SecondsPerEpoch float64 `json:"seconds_per_epoch,omitempty"`
	// CondenseSeconds is the wall time the condensation of the set took (when it was made,
	// not when it was loaded from the cache).
	CondenseSeconds float64 `json:"condense_seconds,omitempty"`
	// Iterations and SecondsPerIter: KindCost runs (Table 8).
	Iterations     int     `json:"iterations,omitempty"`
	SecondsPerIter float64 `json:"seconds_per_iter,omitempty"`
	// PeakRSS is the peak resident memory of the process in bytes (VmHWM of
	// /proc/self/status); PeakRSSScope says whether it was reset before the run ("run") or
	// is the peak since the process started ("process").
	PeakRSS      int64  `json:"peak_rss_bytes,omitempty"`
	PeakRSSScope string `json:"peak_rss_scope,omitempty"`
	// SetFile is the condensed set evaluated, SetHash its identity (Config.SetHash).
	SetFile string `json:"set_file,omitempty"`
	SetHash string `json:"set_hash,omitempty"`
	// Backend describes the gomlx backend, Device the accelerator (e.g.
	// "CUDA_VISIBLE_DEVICES=1"), Host the machine, Shard the sweep shard ("2/8").
	Backend string `json:"backend"`
	Device  string `json:"device,omitempty"`
	Host    string `json:"host,omitempty"`
	Shard   string `json:"shard,omitempty"`
	// Command is "eval" or "sweep".
	Command string `json:"command"`
	// Version and Commit of the dcbench that ran it.
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	// Time is when the record was written (UTC).
	Time time.Time `json:"time"`
}

// Stamp fills the identity and provenance fields of r: the normalised config and its hash,
// the set hash, version, commit, host and time (those already set are kept).
func (r *Record) Stamp() {
	r.Config = r.Config.Normalize()
	r.ConfigHash = r.Config.Hash()
	if r.SetHash == "" && r.Kind == KindEval && r.Method != MethodFull {
		r.SetHash = r.Config.SetHash()
	}
	if r.Status == "" {
		r.Status = StatusOK
	}
	if r.Version == "" {
		r.Version = dcbench.Version
	}
	if r.Commit == "" {
		r.Commit = dcbench.Commit()
	}
	if r.Host == "" {
		r.Host, _ = os.Hostname()
	}
	if r.Time.IsZero() {
		r.Time = time.Now().UTC().Truncate(time.Millisecond)
	}
}

// Key is the run's identity, RunKey(config hash, seed).
func (r Record) Key() string {
	h := r.ConfigHash
	if h == "" {
		h = r.Config.Hash()
	}
	return RunKey(h, r.Seed)
}

// Final reports whether the record settles its run: ok, oom and failed do; skipped does not.
func (r Record) Final() bool { return r.Status != StatusSkipped }

// testNote matches the "[test N]" suffix `dcbench eval` once appended to the dataset name
// of runs on a test subset.
var testNote = regexp.MustCompile(`^(.*)\[test (\d+)\]$`)

// SplitTestNote splits a dataset name with the "[test N]" note of `dcbench eval` on a test
// subset ("cifar10-embedded[test 20]") into the name and N; n is 0 without a note.
func SplitTestNote(dataset string) (name string, n int) {
	m := testNote.FindStringSubmatch(dataset)
	if m == nil {
		return dataset, 0
	}
	n, err := strconv.Atoi(m[2])
	if err != nil {
		return dataset, 0
	}
	return strings.TrimSpace(m[1]), n
}

// Upgrade fixes records written by earlier versions in place (see upgrade); ReadFile does
// it to every record it reads.
func Upgrade(recs []Record) {
	for i := range recs {
		recs[i].upgrade()
	}
}

// upgrade fixes records written by earlier versions: no status (ok), a test subset written
// into the dataset name, no config hash.
func (r *Record) upgrade() {
	if r.Status == "" {
		r.Status = StatusOK
	}
	if d, n := SplitTestNote(r.Dataset); n > 0 {
		r.Dataset = d
		if r.TestN == 0 {
			r.TestN = n
		}
		r.ConfigHash = ""
	}
	if r.ConfigHash == "" {
		r.ConfigHash = r.Config.Hash()
	}
}
