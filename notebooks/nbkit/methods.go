package nbkit

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"strings"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench"
	"github.com/dcbench/dcbench/kernelext"
)

// PaperMethods are the condensation methods of the DC-Bench tables, as the paper names them.
var PaperMethods = []string{"Random", "K-Center", "DC", "DSA", "DM", "KIP", "MTT"}

// ErrNotRegistered is returned by Condense for a method that dcbench does not have (yet).
var ErrNotRegistered = errors.New("method not registered")

// ErrSkipped is returned by Condense for a registered method that the profile does not run
// (see Profile.Methods).
var ErrSkipped = errors.New("method skipped by the profile")

// ErrTimedOut is returned by Condense when the profile's CondenseTimeout cancelled the work.
var ErrTimedOut = errors.New("condensation timed out")

// RegistryName is the dcbench registry name of a paper method name ("K-Center" → "kcenter").
func RegistryName(method string) string {
	return strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.ToLower(strings.TrimSpace(method)))
}

// Registered reports whether dcbench has the method (paper or registry name).
func Registered(method string) bool {
	_, err := dcbench.GetCondenser(RegistryName(method))
	return err == nil
}

// Plan splits the methods of list (in order) into those the profile condenses (registered and
// in p.Methods), those registered but skipped by the profile, and those not registered.
func (p Profile) Plan(list []string) (run, skipped, missing []string) {
	for _, m := range list {
		switch {
		case !Registered(m):
			missing = append(missing, m)
		case !p.Runs(m):
			skipped = append(skipped, m)
		default:
			run = append(run, m)
		}
	}
	return run, skipped, missing
}

// PrintPlan prints the Plan of list: which methods run, which are skipped, which are missing.
func (p Profile) PrintPlan(list []string) (run []string) {
	run, skipped, missing := p.Plan(list)
	fmt.Printf("runs: %s\n", orNone(run))
	if len(skipped) > 0 {
		fmt.Printf("registered but skipped by the %s profile (set %s=all to run them): %s\n", p.Name, EnvMethods, strings.Join(skipped, ", "))
	}
	if len(missing) > 0 {
		fmt.Printf("not registered in dcbench yet (shown as not run): %s\n", strings.Join(missing, ", "))
	}
	return run
}

func orNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}

// Condense condenses train with method at ipc images per class, with the profile's seed,
// params (params override the profile's CondenseParams) and timeout. It returns
// ErrNotRegistered for a method dcbench does not have, ErrSkipped for one the profile does
// not run, and an error wrapping ErrTimedOut when the timeout cancelled it; the notebooks
// show all three as "not run".
func (p Profile) Condense(train *datasets.Dataset, method string, ipc int, params map[string]any, progress dcbench.ProgressFunc) (*dcbench.Set, error) {
	if !Registered(method) {
		return nil, fmt.Errorf("%s: %w", method, ErrNotRegistered)
	}
	if !p.Runs(method) {
		return nil, fmt.Errorf("%s: %w", method, ErrSkipped)
	}
	all := maps.Clone(p.CondenseParams)
	if all == nil {
		all = map[string]any{}
	}
	maps.Copy(all, params)
	if RegistryName(method) == "mtt" {
		var err error
		if all, err = p.mttParams(train, all, progress); err != nil {
			if errors.Is(err, ErrNoBuffer) {
				return nil, fmt.Errorf("%s: %w (%v)", method, ErrSkipped, err)
			}
			return nil, fmt.Errorf("%s: %w", method, err)
		}
	}
	ctx := context.Background()
	if p.CondenseTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.CondenseTimeout)
		defer cancel()
	}
	set, err := dcbench.Condense(train, dcbench.CondenseOptions{
		Method: RegistryName(method), IPC: ipc, Seed: p.Seed, Params: all,
		Progress: progress, Context: ctx, Source: p.DatasetLabel(),
	})
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("%s IPC %d after %v: %w (%v)", method, ipc, p.CondenseTimeout, ErrTimedOut, err)
	}
	return set, err
}

// Skipped reports whether err means "not run" (not registered, skipped by the profile, or
// timed out) rather than a failure.
func Skipped(err error) bool {
	return errors.Is(err, ErrNotRegistered) || errors.Is(err, ErrSkipped) || errors.Is(err, ErrTimedOut)
}

// Stat converts an evaluation result to a comparison-table cell (nil: "not run").
func Stat(r *dcbench.EvalResult) kernelext.Stat {
	if r == nil {
		return kernelext.Stat{}
	}
	return kernelext.StatOf(r.Accuracies)
}

// Track adapts a progress bar to a dcbench.ProgressFunc, adding offset to the units done, so
// that several Evaluate or Condense calls advance one bar.
func Track(bar *kernelext.Progress, offset int, prefix string) dcbench.ProgressFunc {
	return func(done, total int, msg string) {
		if prefix != "" {
			msg = prefix + ": " + msg
		}
		bar.Update(offset+done, msg)
	}
}

// Record is one cell of a reproduced table: the setting, our result (nil when not run) and
// why it was not run. Notebooks Save a []Record in the experiment cell and Load it in the
// cells that draw tables and charts.
type Record struct {
	// Method is the paper's method name ("Random", "K-Center", ...).
	Method string `json:"method"`
	// IPC is the number of images per class.
	IPC int `json:"ipc"`
	// Key is the table's column: augmentation, model, optimizer, feature or initialisation.
	Key string `json:"key"`
	// Step is a position along a curve, e.g. the condensation iteration (Fig. 6).
	Step int `json:"step,omitempty"`
	// Result is our evaluation; nil when not run.
	Result *dcbench.EvalResult `json:"result,omitempty"`
	// Value is a measured number that is not an accuracy (e.g. seconds per iteration).
	Value *kernelext.Stat `json:"value,omitempty"`
	// Status says why the cell was not run ("not registered", "timed out", "skipped: ...");
	// "" when it ran.
	Status string `json:"status,omitempty"`
	// CondenseSeconds is the wall time of the condensation that made the evaluated set.
	CondenseSeconds float64 `json:"condense_seconds,omitempty"`
}

// Ours is the record's result as a table cell: the accuracy, or Value, or "not run".
func (r Record) Ours() kernelext.Stat {
	if r.Value != nil {
		return *r.Value
	}
	return Stat(r.Result)
}

// StatusOf turns a Condense error into a Record status ("" for nil).
func StatusOf(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrNotRegistered):
		return "not registered"
	case errors.Is(err, ErrSkipped):
		return "skipped by the profile"
	case errors.Is(err, ErrTimedOut):
		return "timed out"
	}
	return "failed: " + err.Error()
}

// Check prints err and ends the cell's program with exit status 1 (which
// scripts/run-notebooks.sh reports as a failed cell); it does nothing for nil.
func Check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// Must returns v, or ends the cell's program like Check when err is not nil.
func Must[T any](v T, err error) T {
	Check(err)
	return v
}

// NotRun summarises the records that did not run, one line per (method, IPC, status):
// "K-Center IPC 1: skipped by the profile (5 cells)".
func NotRun(recs []Record) []string {
	type key struct {
		method string
		ipc    int
		status string
	}
	var order []key
	count := map[key]int{}
	for _, r := range recs {
		if r.Status == "" {
			continue
		}
		k := key{r.Method, r.IPC, r.Status}
		if count[k] == 0 {
			order = append(order, k)
		}
		count[k]++
	}
	out := make([]string, len(order))
	for i, k := range order {
		cells := "1 cell"
		if count[k] > 1 {
			cells = fmt.Sprintf("%d cells", count[k])
		}
		out[i] = fmt.Sprintf("%s IPC %d: %s (%s)", k.method, k.ipc, k.status, cells)
	}
	return out
}

// CondenseShown is Condense with progress bars of its own ("condensing METHOD IPC n", see
// ProgressBars), so only for a method that runs.
func (p Profile) CondenseShown(train *datasets.Dataset, method string, ipc int, params map[string]any) (*dcbench.Set, error) {
	progress, done := ProgressBars(fmt.Sprintf("condensing %s IPC %d", method, ipc))
	defer done()
	return p.Condense(train, method, ipc, params, progress)
}

// ProgressBars returns a progress function that draws the reports it gets as progress bars
// titled title, starting a new bar whenever the total changes (a method's next phase, e.g.
// K-Center's embedding epoch, then its k-means), and a function that ends the last bar. No
// bar is drawn before the first report.
func ProgressBars(title string) (progress dcbench.ProgressFunc, done func()) {
	var bar *kernelext.Progress
	total := -1
	progress = func(n, t int, msg string) {
		if bar == nil || t != total {
			if bar != nil {
				bar.Done()
			}
			bar, total = kernelext.NewProgress(title, t), t
		}
		bar.Update(n, msg)
	}
	done = func() {
		if bar != nil {
			bar.Done()
		}
	}
	return progress, done
}
