package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/dcbench/dcbench/dcbench"
)

// record is one line of the results file: one evaluation run.
type record struct {
	Time           time.Time `json:"time"`
	Command        string    `json:"command"`
	Dataset        string    `json:"dataset"`
	Method         string    `json:"method"`
	IPC            int       `json:"ipc"`
	CondenseSeed   uint64    `json:"condense_seed"`
	CondenseSecs   float64   `json:"condense_seconds"`
	SetFile        string    `json:"set_file,omitempty"`
	Model          string    `json:"model"`
	Augment        string    `json:"augment"`
	Epochs         int       `json:"epochs"`
	Optimizer      string    `json:"optimizer"`
	LR             float64   `json:"lr"`
	Batch          int       `json:"batch"`
	Run            int       `json:"run"`
	Seed           uint64    `json:"seed"`
	Accuracy       float64   `json:"accuracy"`
	Seconds        float64   `json:"seconds"`
	SecondsPerPass float64   `json:"seconds_per_epoch"`
	Backend        string    `json:"backend"`
	Version        string    `json:"version"`
	Commit         string    `json:"commit,omitempty"`
}

// appendRecords appends one JSON line per run to path (created with its folder if needed).
// Lines are only ever appended, so results already written are never lost or rewritten.
func appendRecords(path string, recs []record) error {
	if path == "" || len(recs) == 0 {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("results file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("results file: %w", err)
	}
	var buf []byte
	for _, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			f.Close()
			return err
		}
		buf = append(append(buf, b...), '\n')
	}
	if _, err := f.Write(buf); err != nil { // one write: the lines land together
		f.Close()
		return fmt.Errorf("results file %s: %w", path, err)
	}
	return f.Close()
}

func recordsOf(dataset string, set *dcbench.Set, setFile string, res *dcbench.EvalResult) []record {
	var out []record
	for i, acc := range res.Accuracies {
		out = append(out, record{Time: time.Now().UTC().Truncate(time.Second), Command: "eval", Dataset: dataset,
			Method: set.Method, IPC: set.IPC, CondenseSeed: set.Seed, CondenseSecs: set.Seconds, SetFile: setFile,
			Model: res.Model, Augment: res.Augment, Epochs: res.Config.Epochs, Optimizer: res.Config.Optimizer,
			LR: res.Config.LR, Batch: res.Config.BatchSize, Run: i + 1, Seed: res.Seeds[i], Accuracy: acc,
			Seconds: res.RunSecs[i], SecondsPerPass: res.EpochSecs, Backend: res.Backend,
			Version: dcbench.Version, Commit: dcbench.Commit()})
	}
	return out
}
