package sweep

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/dcbench/dcbench/dcbench"
	"github.com/dcbench/dcbench/dcbench/results"
)

// Outcome is what executing a run gives (the fields that apply).
type Outcome struct {
	// Accuracy is the test accuracy in percent.
	Accuracy float64
	// Seconds is the wall time of the run (0: the runner measures it).
	Seconds, SecondsPerEpoch float64
	// CondenseSeconds is the time the condensation of the set took when it was made.
	CondenseSeconds float64
	// Iterations and SecondsPerIter: kind cost.
	Iterations     int
	SecondsPerIter float64
	// SetFile is the cached condensed set evaluated.
	SetFile string
	// Backend describes the backend that ran it.
	Backend string
}

// ExecFunc executes one run. Errors (and panics) become oom or failed records; an error
// while ctx is cancelled is an interruption and leaves no record.
type ExecFunc func(ctx context.Context, r Run) (Outcome, error)

// Runner executes this shard's part of a sweep, skipping the runs the store already has.
type Runner struct {
	// Store receives one record per run, appended as soon as the run ends.
	Store *results.Store
	// Shard and ShardBy (BySet, default, or ByRun) pick this process's runs.
	Shard   Shard
	ShardBy string
	// Exec executes a run (an Executor's Exec, or a fake in tests).
	Exec ExecFunc
	// Retry lists statuses whose runs are executed again (results.StatusFailed,
	// results.StatusOOM); by default every ok, oom or failed record settles its run.
	Retry []string
	// Device and Backend describe where the runs execute, for the records.
	Device, Backend string
	// Log receives one line per run (nil: none).
	Log io.Writer
}

// Summary counts a sweep's runs.
type Summary struct {
	// Total runs in the grid, Mine in this shard, Done already recorded (skipped now),
	// Todo left to run.
	Total, Mine, Done, Todo int
	// Ran counts the runs executed now by status (skipped: method not registered).
	Ran map[string]int
	// Warnings from reading the store.
	Warnings []string
}

func (s Summary) String() string {
	str := fmt.Sprintf("%d runs in the grid, %d in this shard: %d already recorded, %d to run", s.Total, s.Mine, s.Done, s.Todo)
	if len(s.Ran) > 0 {
		str += fmt.Sprintf("; ran: %d ok, %d oom, %d failed, %d skipped (method not registered)",
			s.Ran[results.StatusOK], s.Ran[results.StatusOOM], s.Ran[results.StatusFailed], s.Ran[results.StatusSkipped])
	}
	return str
}

// Plan returns the runs of this shard that the store does not settle yet, grouped so that
// the runs of one condensed set follow each other (in the order the grid lists them), and
// the records that exist (by run key).
func (rn *Runner) Plan(runs []Run) (todo []Run, existing map[string]results.Record, sum Summary, err error) {
	if rn.Shard.Count == 0 {
		rn.Shard = All
	}
	if err := rn.Shard.Validate(); err != nil {
		return nil, nil, sum, err
	}
	recs, warnings, err := rn.Store.Read()
	if err != nil {
		return nil, nil, sum, err
	}
	sum.Warnings = warnings
	existing = results.Latest(recs)
	sum.Total = len(runs)
	order := map[string]int{}
	groups := [][]Run{}
	for _, r := range runs {
		if !rn.Shard.Owns(Unit(r, rn.ShardBy)) {
			continue
		}
		sum.Mine++
		if rec, ok := existing[r.Key]; ok && rec.Final() && !slices.Contains(rn.Retry, rec.Status) {
			sum.Done++
			continue
		}
		g := r.SetHash
		if g == "" {
			g = r.Key
		}
		i, ok := order[g]
		if !ok {
			i = len(groups)
			order[g] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], r)
	}
	for _, g := range groups {
		todo = append(todo, g...)
	}
	sum.Todo = len(todo)
	return todo, existing, sum, nil
}

// Run executes this shard's runs that are not recorded yet, appending one record per run as
// soon as it ends: a run that raises an allocation failure is an oom record, another error
// or a panic a failed record; a method that is not registered gives one skipped record. When
// ctx is cancelled it stops (the interrupted run leaves no record) and returns ctx.Err();
// running the same sweep again resumes where it stopped.
func (rn *Runner) Run(ctx context.Context, runs []Run) (Summary, error) {
	todo, existing, sum, err := rn.Plan(runs)
	if err != nil {
		return sum, err
	}
	for _, w := range sum.Warnings {
		rn.logf("warning: %s\n", w)
	}
	sum.Ran = map[string]int{}
	for i, r := range todo {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		rec := results.Record{Config: r.Config, Seed: r.Seed, Command: "sweep", Shard: rn.Shard.String(),
			Device: rn.Device, Backend: rn.Backend, SetHash: r.SetHash}
		if !Registered(r.Config.Method) {
			sum.Ran[results.StatusSkipped]++
			if old, ok := existing[r.Key]; ok && old.Status == results.StatusSkipped {
				continue // recorded by an earlier sweep
			}
			rec.Status = results.StatusSkipped
			rec.Error = fmt.Sprintf("method %q is not registered (registered: %v)", r.Config.Method, dcbench.Methods())
			if err := rn.Store.Append(rec); err != nil {
				return sum, err
			}
			rn.logf("[%d/%d] %s: skipped (method not registered)\n", i+1, len(todo), r)
			continue
		}
		scope := "process"
		if results.ResetPeakRSS() {
			scope = "run"
		}
		start := time.Now()
		var out Outcome
		err := results.Protect(func() error {
			var e error
			out, e = rn.Exec(ctx, r)
			return e
		})
		if err != nil && ctx.Err() != nil {
			rn.logf("[%d/%d] %s: interrupted\n", i+1, len(todo), r)
			return sum, ctx.Err()
		}
		rec.Status = results.StatusOf(err)
		if err != nil {
			rec.Error = err.Error()
		}
		rec.Accuracy, rec.Seconds, rec.SecondsPerEpoch = out.Accuracy, out.Seconds, out.SecondsPerEpoch
		rec.CondenseSeconds, rec.Iterations, rec.SecondsPerIter, rec.SetFile = out.CondenseSeconds, out.Iterations, out.SecondsPerIter, out.SetFile
		if rec.Seconds == 0 {
			rec.Seconds = time.Since(start).Seconds()
		}
		if out.Backend != "" {
			rec.Backend = out.Backend
		}
		rec.PeakRSS, rec.PeakRSSScope = results.PeakRSS(), scope
		if err := rn.Store.Append(rec); err != nil {
			return sum, err
		}
		sum.Ran[rec.Status]++
		switch {
		case rec.Status != results.StatusOK:
			rn.logf("[%d/%d] %s: %s: %s\n", i+1, len(todo), r, rec.Status, firstLine(rec.Error))
		case r.Config.Kind == results.KindCost:
			rn.logf("[%d/%d] %s: %.3f s/iter (%.1f s)\n", i+1, len(todo), r, rec.SecondsPerIter, rec.Seconds)
		default:
			rn.logf("[%d/%d] %s: %.2f%% (%.1f s)\n", i+1, len(todo), r, rec.Accuracy, rec.Seconds)
		}
	}
	return sum, nil
}

func (rn *Runner) logf(format string, args ...any) {
	if rn.Log != nil {
		fmt.Fprintf(rn.Log, format, args...)
	}
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}
