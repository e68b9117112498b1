package main

import (
	"github.com/dcbench/dcbench/dcbench"
	"github.com/dcbench/dcbench/dcbench/results"
)

// record is one line of the results file: one evaluation run (see results.Record; sweeps
// write the same records, and `dcbench report` reads both).
type record = results.Record

// appendRecords appends one JSON line per run to path (created with its folder if needed),
// in one write. Lines are only ever appended, so results already written are never lost or
// rewritten.
func appendRecords(path string, recs []record) error {
	return results.AppendFile(path, recs...)
}

// recordsOf makes the records of an evaluation: one per run. dataset is the name eval
// prints, possibly with a "[test N]" note for a test subset, which goes to TestN.
func recordsOf(dataset string, set *dcbench.Set, setFile string, res *dcbench.EvalResult) []record {
	name, testN := results.SplitTestNote(dataset)
	cfg := results.Config{Dataset: name, Method: set.Method, IPC: set.IPC, CondenseSeed: set.Seed,
		CondenseParams: set.Params, TestN: testN}.WithTrain(res.Config)
	var out []record
	for i, acc := range res.Accuracies {
		out = append(out, record{Config: cfg, Seed: res.Seeds[i], Run: i + 1, Status: results.StatusOK, Accuracy: acc,
			Seconds: res.RunSecs[i], SecondsPerEpoch: res.EpochSecs, CondenseSeconds: set.Seconds, SetFile: setFile,
			Backend: res.Backend, Command: "eval"})
	}
	return out
}
