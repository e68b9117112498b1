// Package expkit holds what the condenser experiment programs (experiments, gmexp, kipexp,
// mttexp) share: the backend and dataset set-up, class-balanced pools, throttled progress
// logging and JSON-lines records. Every function exits the program on an error.
package expkit

import (
	"encoding/json"
	"fmt"
	"log"
	"os"
	"sync"
	"time"

	"github.com/gomlx/gomlx/backends"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench"
	"github.com/dcbench/dcbench/dcbench/backend"
)

// Open makes the project's backend (backend.New: $GOMLX_BACKEND, a CUDA GPU, else the CPU
// backend) and loads and normalises the dataset; it also returns the backend's description
// and why it was chosen, for the log.
func Open(dataset, data string) (backends.Backend, string, *datasets.Pair) {
	be, choice, err := backend.New("")
	if err != nil {
		log.Fatal(err)
	}
	p, err := datasets.Load(dataset, data)
	if err != nil {
		log.Fatal(err)
	}
	p.Normalize()
	return be, fmt.Sprintf("%s (%s)", backend.Describe(be), choice.Reason), p
}

// Sample returns n images per class of d (datasets.Dataset.SamplePerClass with the seed and
// salt).
func Sample(d *datasets.Dataset, n int, seed, salt uint64) *datasets.Dataset {
	s, err := d.SamplePerClass(n, seed, salt)
	if err != nil {
		log.Fatal(err)
	}
	return s
}

// Balanced returns n images per class of d drawn with the seed (all of d when n is 0).
func Balanced(d *datasets.Dataset, n int, seed uint64) *datasets.Dataset {
	if n == 0 {
		return d
	}
	return Sample(d, n, seed, 0x706f6f6c)
}

// Throttled logs progress at most every 30 seconds, and always the first `first` reports
// and the last.
func Throttled(name string, first int) dcbench.ProgressFunc {
	var mu sync.Mutex
	last := time.Now()
	return func(done, total int, msg string) {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(last) > 30*time.Second || done == total || done <= first {
			log.Printf("%s: %d/%d %s", name, done, total, msg)
			last = time.Now()
		}
	}
}

// AppendJSON appends v as one JSON line to the file at path (nothing when path is ""); it
// exits the program on an error.
func AppendJSON(path string, v any) {
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	if err := json.NewEncoder(f).Encode(v); err != nil {
		log.Fatal(err)
	}
}
