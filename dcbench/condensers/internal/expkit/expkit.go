// Package expkit holds what the condenser experiment programs (experiments, mttexp) share:
// class-balanced pools, throttled progress logging and JSON-lines records.
package expkit

import (
	"encoding/json"
	"log"
	"os"
	"sync"
	"time"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench"
)

// Balanced returns n images per class of d drawn with the seed (all of d when n is 0); it
// exits the program on an error.
func Balanced(d *datasets.Dataset, n int, seed uint64) *datasets.Dataset {
	if n == 0 {
		return d
	}
	s, err := d.SamplePerClass(n, seed, 0x706f6f6c)
	if err != nil {
		log.Fatal(err)
	}
	return s
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
