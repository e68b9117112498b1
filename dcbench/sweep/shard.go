package sweep

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Shard is this process's part of a grid split among Count independent processes: the runs
// whose unit hashes to Index (0-based). The assignment depends only on the run, so every
// process computes the same split with no coordinator, and restarting a shard resumes it.
type Shard struct {
	Index, Count int
}

// All is the whole grid (one shard).
var All = Shard{Index: 0, Count: 1}

// String is "i/n".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Writer is the name of the shard's records file: "shard-<i>-of-<n>".
func (s Shard) Writer() string {
	w := len(strconv.Itoa(s.Count - 1))
	return fmt.Sprintf("shard-%0*d-of-%d", w, s.Index, s.Count)
}

// Validate checks 0 ≤ Index < Count.
func (s Shard) Validate() error {
	if s.Count < 1 || s.Index < 0 || s.Index >= s.Count {
		return fmt.Errorf("shard %d/%d: want 0 ≤ index < count", s.Index, s.Count)
	}
	return nil
}

// ParseShard reads "i/n" (0 ≤ i < n).
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("bad shard %q: want INDEX/COUNT with a 0-based index, e.g. 0/4", s)
	}
	sh := Shard{Index: i, Count: n}
	return sh, sh.Validate()
}

// ShardFromEnv reads the shard of a job-array task: Kubernetes indexed Jobs
// (JOB_COMPLETION_INDEX, with the count from count, else $DCBENCH_SHARDS), then Slurm job
// arrays (SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT tasks; the
// array must be contiguous, e.g. --array=0-7). ok is false outside a job array.
func ShardFromEnv(getenv func(string) string, count int) (sh Shard, source string, ok bool, err error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if v := getenv("JOB_COMPLETION_INDEX"); v != "" {
		i, err := strconv.Atoi(v)
		if err != nil {
			return Shard{}, "", false, fmt.Errorf("JOB_COMPLETION_INDEX=%q is not a number", v)
		}
		if count == 0 {
			if c := getenv("DCBENCH_SHARDS"); c != "" {
				if count, err = strconv.Atoi(c); err != nil {
					return Shard{}, "", false, fmt.Errorf("DCBENCH_SHARDS=%q is not a number", c)
				}
			}
		}
		if count == 0 {
			return Shard{}, "", false, fmt.Errorf("JOB_COMPLETION_INDEX is set but not the number of shards: pass --shards N or set DCBENCH_SHARDS (the Job's completions)")
		}
		sh = Shard{Index: i, Count: count}
		return sh, "JOB_COMPLETION_INDEX", true, sh.Validate()
	}
	if v := getenv("SLURM_ARRAY_TASK_ID"); v != "" {
		id, err := strconv.Atoi(v)
		if err != nil {
			return Shard{}, "", false, fmt.Errorf("SLURM_ARRAY_TASK_ID=%q is not a number", v)
		}
		lo := 0
		if m := getenv("SLURM_ARRAY_TASK_MIN"); m != "" {
			if lo, err = strconv.Atoi(m); err != nil {
				return Shard{}, "", false, fmt.Errorf("SLURM_ARRAY_TASK_MIN=%q is not a number", m)
			}
		}
		if st := getenv("SLURM_ARRAY_TASK_STEP"); st != "" && st != "1" {
			return Shard{}, "", false, fmt.Errorf("SLURM_ARRAY_TASK_STEP=%s: use a contiguous array (--array=0-N)", st)
		}
		n := count
		if c := getenv("SLURM_ARRAY_TASK_COUNT"); c != "" && n == 0 {
			if n, err = strconv.Atoi(c); err != nil {
				return Shard{}, "", false, fmt.Errorf("SLURM_ARRAY_TASK_COUNT=%q is not a number", c)
			}
		}
		if n == 0 {
			return Shard{}, "", false, fmt.Errorf("SLURM_ARRAY_TASK_ID is set but not SLURM_ARRAY_TASK_COUNT: pass --shards N")
		}
		sh = Shard{Index: id - lo, Count: n}
		return sh, "SLURM_ARRAY_TASK_ID", true, sh.Validate()
	}
	return All, "", false, nil
}

// How runs are grouped into the units that shards take (Runner.ShardBy).
const (
	// BySet keeps every evaluation of one condensed set on one shard, so each set is
	// condensed once (the default: condensation is the expensive part for most methods).
	BySet = "set"
	// ByRun spreads single runs: better balance when condensation is cheap (random
	// selection); a set needed by two shards is then condensed by each (same seed, same
	// set) unless one finds the other's file in the cache first.
	ByRun = "run"
)

// Unit returns the key a run is assigned by: its set hash (BySet; kind cost and the full
// method fall back to the config hash, so that all seeds of one setting stay together) or
// its run key (ByRun).
func Unit(r Run, by string) string {
	if by == ByRun {
		return r.Key
	}
	if r.SetHash != "" {
		return r.SetHash
	}
	return r.Hash
}

// Owns reports whether the shard takes the unit: the first 8 bytes of its SHA-256, modulo
// Count, equal Index.
func (s Shard) Owns(unit string) bool {
	if s.Count <= 1 {
		return true
	}
	h := sha256.Sum256([]byte(unit))
	return int(binary.BigEndian.Uint64(h[:8])%uint64(s.Count)) == s.Index
}
