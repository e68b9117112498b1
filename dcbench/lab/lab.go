// Package lab is the notebook-facing layer of dcbench: an appendix experiment of DC-Bench
// (a sweep preset, table4 … table9, fig5 … fig8) in a profile ("quick" for a 2-core CPU,
// "paper" for a GPU), run through the same sweep runner and results store as `dcbench
// sweep` and shown through the same aggregation as `dcbench report`.
//
// A notebook cell opens the experiment, runs what its results folder does not hold yet
// (Run: resuming, so a folder written by a GPU sweep is shown without running anything) and
// shows the comparison with the paper (Show). The few helpers around it (Progress, ShowSet,
// ShowProvenance, Check, Must) keep the notebooks' cells short; condensing and evaluating
// one set is left to dcbench.Condense and dcbench.Evaluate in the cells themselves.
package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/backends"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench"
	"github.com/dcbench/dcbench/dcbench/backend"
	"github.com/dcbench/dcbench/dcbench/results"
	"github.com/dcbench/dcbench/dcbench/sweep"
	"github.com/dcbench/dcbench/kernelext"
)

// Environment variables read by Open.
const (
	// EnvProfile chooses the profile ("quick" or "paper"; default quick).
	EnvProfile = "DCBENCH_PROFILE"
	// EnvResults is the results folder (default: <report dir>/results, see ResultsDir).
	EnvResults = "DCBENCH_RESULTS"
	// EnvReportDir is where scripts/run-notebooks.sh collects a run's reports.
	EnvReportDir = "DCBENCH_REPORT_DIR"
)

// Experiment is one appendix experiment in one profile, with its results folder.
type Experiment struct {
	// Name is the preset ("fig8"), Profile "quick" or "paper", Dir the results folder.
	Name, Profile, Dir string
	// Spec is the preset in the profile, Runs its runs.
	Spec *sweep.Spec
	Runs []sweep.Run
	// Store is the results store in Dir.
	Store *results.Store
}

// Profile is $DCBENCH_PROFILE, else "quick".
func Profile() string {
	if p := strings.TrimSpace(os.Getenv(EnvProfile)); p != "" {
		return strings.ToLower(p)
	}
	return sweep.ProfileQuick
}

// ResultsDir is $DCBENCH_RESULTS, else <$DCBENCH_REPORT_DIR>/results, else "results" (the
// default of `dcbench sweep`).
func ResultsDir() string {
	if d := os.Getenv(EnvResults); d != "" {
		return d
	}
	if d := os.Getenv(EnvReportDir); d != "" {
		return filepath.Join(d, "results")
	}
	return "results"
}

// Open is the experiment of preset (see sweep.Presets) in Profile(), with its results in
// ResultsDir(). It reads nothing and runs nothing yet.
func Open(preset string) (*Experiment, error) {
	return New(preset, Profile(), ResultsDir())
}

// MustOpen is Open that stops the cell with the error.
func MustOpen(preset string) *Experiment { return Must(Open(preset)) }

// New is the experiment of preset in profile, with its results folder dir.
func New(preset, profile, dir string) (*Experiment, error) {
	p, err := sweep.Preset(preset)
	if err != nil {
		return nil, err
	}
	spec, err := sweep.WithProfile(p, profile)
	if err != nil {
		return nil, err
	}
	runs, err := spec.Expand()
	if err != nil {
		return nil, err
	}
	store, err := results.Open(dir, "notebook")
	if err != nil {
		return nil, err
	}
	return &Experiment{Name: p.Name, Profile: profile, Dir: dir, Spec: spec, Runs: runs, Store: store}, nil
}

// Run executes the experiment's runs that the results folder does not hold yet, with the
// sweep runner of `dcbench sweep` (one record per run, appended as it ends; condensed sets
// cached in the folder), drawing a progress bar over the runs and one over the current
// condensation or training. It prints the runner's summary.
func (e *Experiment) Run() error {
	b, _, err := backend.New("")
	if err != nil {
		return err
	}
	return e.RunOn(context.Background(), b)
}

// RunOn is Run on backend b, stopping when ctx is cancelled (a later Run resumes).
func (e *Experiment) RunOn(ctx context.Context, b backends.Backend) error {
	ex := &sweep.Executor{Backend: b, Store: e.Store, Progress: Progress}
	rn := &sweep.Runner{Store: e.Store, Backend: backend.Describe(b), Device: Device()}
	todo, _, sum, err := rn.Plan(e.Runs)
	if err != nil {
		return err
	}
	fmt.Printf("%s (%s profile), results in %s: %s\n", e.Name, e.Profile, e.Dir, sum)
	if len(todo) == 0 {
		return nil
	}
	bar := kernelext.NewProgress(fmt.Sprintf("%s: %d runs", e.Name, len(todo)), len(todo))
	n := 0
	rn.Exec = func(ctx context.Context, r sweep.Run) (sweep.Outcome, error) {
		defer func() { n++; bar.Update(n, r.String()) }()
		return ex.Exec(ctx, r)
	}
	sum, err = rn.Run(ctx, e.Runs)
	bar.Done()
	fmt.Println(sum)
	return err
}

// Data loads the dataset of the experiment's first run as the sweep runner does (normalised;
// the test split cut to the run's class-balanced test_n), for the cells that condense and
// evaluate one set directly.
func (e *Experiment) Data() (*datasets.Pair, error) {
	if len(e.Runs) == 0 {
		return nil, fmt.Errorf("%s: the experiment has no runs", e.Name)
	}
	c := e.Runs[0].Config
	var p *datasets.Pair
	var err error
	if c.Dataset == "cifar10-embedded" {
		p, err = datasets.Embedded()
	} else {
		p, err = datasets.LoadOrDownload(c.Dataset, e.Spec.DataDirs()[c.Dataset])
	}
	if err != nil {
		return nil, err
	}
	p.Normalize()
	if c.TestN > 0 && c.TestN < p.Test.N {
		p.Test = sweep.BalancedHead(p.Test, c.TestN)
	}
	return p, nil
}

// EvalOptions are the evaluation settings of the experiment's first run (model,
// augmentation, schedule, seed) with one evaluation per seed of the grid.
func (e *Experiment) EvalOptions() dcbench.EvalOptions {
	if len(e.Runs) == 0 {
		return dcbench.EvalOptions{}
	}
	r := e.Runs[0]
	return dcbench.EvalOptions{Config: r.Config.Train(r.Seed), NumEval: len(e.Seeds())}
}

// Seeds lists the evaluation seeds of the grid.
func (e *Experiment) Seeds() []uint64 {
	var out []uint64
	seen := map[uint64]bool{}
	for _, r := range e.Runs {
		if !seen[r.Seed] {
			seen[r.Seed] = true
			out = append(out, r.Seed)
		}
	}
	return out
}

// SetPath is where a notebook keeps a set it condensed directly (name.dcb in the results
// folder's notebook-sets), for the next cells to load with dcbench.LoadSet.
func (e *Experiment) SetPath(name string) string {
	dir := filepath.Join(e.Dir, "notebook-sets")
	_ = os.MkdirAll(dir, 0o755)
	return filepath.Join(dir, name+".dcb")
}

// CondenseOptions are the condensation settings of the experiment's first run (method, IPC,
// seed, params), for the cell that condenses one set with dcbench.Condense.
func (e *Experiment) CondenseOptions() dcbench.CondenseOptions {
	if len(e.Runs) == 0 {
		return dcbench.CondenseOptions{}
	}
	c := e.Runs[0].Config
	return dcbench.CondenseOptions{Method: c.Method, IPC: c.IPC, Seed: c.CondenseSeed, Params: c.CondenseParams, Source: c.Dataset}
}

// Models lists the evaluation models of the grid, in grid order.
func (e *Experiment) Models() []string {
	var out []string
	for _, r := range e.Runs {
		if m := r.Config.Model; m != "" && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}
