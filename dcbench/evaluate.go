package dcbench

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/gomlx/gomlx/backends"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench/backend"
	"github.com/dcbench/dcbench/dcbench/train"
)

// EvalOptions are the settings of Evaluate: the training setting (train.Config, whose zero
// fields take the reference values: ConvNet, SGD lr 0.01 momentum 0.9 weight decay 5e-4,
// batch 256, 300 epochs or 1000 with augmentation, lr ×0.1 at half) and the number of runs.
type EvalOptions struct {
	train.Config
	// NumEval is the number of independent runs (default 5). Run r uses seed Seed+r.
	NumEval int
	// Backend to compute on; nil picks one with backend.New("").
	Backend backends.Backend
	// Progress receives progress (epochs over all runs); nil for none.
	Progress ProgressFunc
	// Context cancels the work; nil means context.Background().
	Context context.Context
}

// EvalResult is the outcome of Evaluate: test accuracies in percent.
type EvalResult struct {
	Model      string       `json:"model"`
	Augment    string       `json:"augment"`
	Accuracies []float64    `json:"accuracies"` // percent, one per run
	Mean       float64      `json:"mean"`       // percent
	Std        float64      `json:"std"`        // population std (ddof=0), as the reference
	Seeds      []uint64     `json:"seeds"`
	RunSecs    []float64    `json:"run_seconds"`       // wall time of each run (training and testing)
	Seconds    float64      `json:"seconds"`           // wall time of all runs
	EpochSecs  float64      `json:"seconds_per_epoch"` // mean wall time of one training pass
	Config     train.Config `json:"config"`
	Backend    string       `json:"backend"`
}

// String is "mean ± std" with two decimals, as the reference tables.
func (r *EvalResult) String() string { return fmt.Sprintf("%.2f ± %.2f", r.Mean, r.Std) }

// MeanStd returns the mean and the population standard deviation (ddof=0) of xs.
func MeanStd(xs []float64) (mean, std float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(xs)))
}

// Evaluate trains NumEval freshly initialised networks on the condensed set and reports
// their accuracy on the real test set (normalised, same image size and classes).
func Evaluate(set *Set, test *datasets.Dataset, opts EvalOptions) (*EvalResult, error) {
	if err := set.Validate(); err != nil {
		return nil, err
	}
	if test == nil || test.N == 0 {
		return nil, fmt.Errorf("empty test set")
	}
	d := set.Data
	if test.H != d.H || test.W != d.W || test.C != d.C || test.NumClasses() != d.NumClasses() {
		return nil, fmt.Errorf("test set %s has %dx%dx%d images and %d classes, the condensed set %dx%dx%d and %d",
			test.Name, test.H, test.W, test.C, test.NumClasses(), d.H, d.W, d.C, d.NumClasses())
	}
	if opts.NumEval == 0 {
		opts.NumEval = 5
	}
	if opts.NumEval < 0 {
		return nil, fmt.Errorf("number of evaluation runs must be positive, got %d", opts.NumEval)
	}
	cfg := opts.Config.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var err error
	if opts.Backend == nil {
		if opts.Backend, _, err = backend.New(""); err != nil {
			return nil, err
		}
	}
	if opts.Context == nil {
		opts.Context = context.Background()
	}
	res := &EvalResult{Model: cfg.Model, Augment: cfg.Augment, Config: cfg, Backend: backend.Describe(opts.Backend)}
	start := time.Now()
	var trainSecs float64
	passes := cfg.NumPasses()
	for r := 0; r < opts.NumEval; r++ {
		rc := cfg
		rc.Seed = cfg.Seed + uint64(r)
		tr, err := train.New(opts.Backend, rc, d.NumClasses(), d.H, d.W, d.C, d.Mean, d.Std)
		if err != nil {
			return nil, err
		}
		t0 := time.Now()
		runStart := t0
		err = tr.Fit(opts.Context, d, func(ep, total int, loss float64) {
			if opts.Progress != nil {
				opts.Progress(r*passes+ep, opts.NumEval*passes,
					fmt.Sprintf("%s run %d/%d, epoch %d/%d, loss %.4f", cfg.Model, r+1, opts.NumEval, ep, total, loss))
			}
		})
		trainSecs += time.Since(t0).Seconds()
		if err != nil {
			tr.Finalize()
			return nil, fmt.Errorf("evaluation run %d: %w", r+1, err)
		}
		acc, err := tr.Accuracy(test)
		tr.Finalize()
		if err != nil {
			return nil, fmt.Errorf("evaluation run %d: %w", r+1, err)
		}
		res.Accuracies = append(res.Accuracies, 100*acc)
		res.Seeds = append(res.Seeds, rc.Seed)
		res.RunSecs = append(res.RunSecs, time.Since(runStart).Seconds())
	}
	res.Mean, res.Std = MeanStd(res.Accuracies)
	res.Seconds = time.Since(start).Seconds()
	res.EpochSecs = trainSecs / float64(opts.NumEval*passes)
	return res, nil
}

// Transfer evaluates one condensed set on several models with the same protocol (opts,
// whose Model is replaced by each name in turn) and returns one result per model, in order.
func Transfer(set *Set, test *datasets.Dataset, modelNames []string, opts EvalOptions) ([]*EvalResult, error) {
	var out []*EvalResult
	for _, m := range modelNames {
		o := opts
		o.Model = m
		r, err := Evaluate(set, test, o)
		if err != nil {
			return out, fmt.Errorf("model %s: %w", m, err)
		}
		out = append(out, r)
	}
	return out, nil
}
