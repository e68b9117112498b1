package sweep

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"sync"
	"time"

	"github.com/gomlx/gomlx/backends"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench"
	"github.com/dcbench/dcbench/dcbench/backend"
	"github.com/dcbench/dcbench/dcbench/results"
	"github.com/dcbench/dcbench/dcbench/train"
)

// Executor runs sweep runs for real: it loads each dataset once, condenses each set once
// (cached in the store's sets folder and in memory, and reused by every evaluation of it:
// other seeds, augmentations, models) and trains one network per run.
type Executor struct {
	// Backend computes everything.
	Backend backends.Backend
	// Store holds the condensed-set cache (Store.SetPath).
	Store *results.Store
	// DataDirs maps a dataset name to its folder or archive (else it is downloaded).
	DataDirs map[string]string
	// Log receives a line per condensed or loaded set (nil: none).
	Log io.Writer
	// Progress, if set, returns a progress callback for long work and a function to call
	// when it ends.
	Progress func(title string) (dcbench.ProgressFunc, func())

	mu     sync.Mutex
	data   map[string]*datasets.Pair
	tests  map[string]*datasets.Dataset
	sets   map[string]*cachedSet
	recent []string
}

type cachedSet struct {
	set  *dcbench.Set
	file string
	err  error
}

// keepSets is the number of condensed sets kept in memory.
const keepSets = 4

// Exec executes one run (an ExecFunc).
func (e *Executor) Exec(ctx context.Context, r Run) (Outcome, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := Outcome{Backend: backend.Describe(e.Backend)}
	data, err := e.dataset(ctx, r.Config.Dataset)
	if err != nil {
		return out, err
	}
	c := r.Config
	switch {
	case c.Kind == results.KindCost:
		return e.cost(ctx, r, data, out)
	case c.Method == results.MethodFull:
		return e.full(ctx, r, data, out)
	}
	cs := e.set(ctx, r, data)
	if cs.err != nil {
		return out, cs.err
	}
	out.SetFile, out.CondenseSeconds = relative(e.Store, cs.file), cs.set.Seconds
	test := e.testSet(c.Dataset, data.Test, c.TestN)
	opts := dcbench.EvalOptions{Config: c.Train(r.Seed), NumEval: 1, Backend: e.Backend, Context: ctx}
	prog, done := e.progress(fmt.Sprintf("train %s on %s ipc %d seed %d", c.Model, c.Method, c.IPC, r.Seed))
	opts.Progress = prog
	res, err := dcbench.Evaluate(cs.set, test, opts)
	done()
	if err != nil {
		return out, err
	}
	out.Accuracy, out.Seconds, out.SecondsPerEpoch = res.Accuracies[0], res.Seconds, res.EpochSecs
	return out, nil
}

func (e *Executor) progress(title string) (dcbench.ProgressFunc, func()) {
	if e.Progress == nil {
		return nil, func() {}
	}
	return e.Progress(title)
}

func (e *Executor) logf(format string, args ...any) {
	if e.Log != nil {
		fmt.Fprintf(e.Log, format, args...)
	}
}

// dataset loads and normalises a dataset once.
func (e *Executor) dataset(ctx context.Context, name string) (*datasets.Pair, error) {
	if d, ok := e.data[name]; ok {
		return d, nil
	}
	var p *datasets.Pair
	var err error
	if name == "cifar10-embedded" {
		p, err = datasets.Embedded()
	} else {
		p, err = datasets.LoadOrDownloadContext(ctx, name, e.DataDirs[name], datasets.DownloadOptions{})
	}
	if err != nil {
		return nil, err
	}
	p.Normalize()
	if e.data == nil {
		e.data = map[string]*datasets.Pair{}
	}
	e.data[name] = p
	return p, nil
}

// testSet is the test split, or its class-balanced first n images (as `dcbench eval
// --test-n`).
func (e *Executor) testSet(name string, test *datasets.Dataset, n int) *datasets.Dataset {
	if n <= 0 || n >= test.N {
		return test
	}
	key := fmt.Sprint(name, "|", n)
	if t, ok := e.tests[key]; ok {
		return t
	}
	t := BalancedHead(test, n)
	if e.tests == nil {
		e.tests = map[string]*datasets.Dataset{}
	}
	e.tests[key] = t
	return t
}

// BalancedHead keeps the first n/classes images of every class (at least one each).
func BalancedHead(d *datasets.Dataset, n int) *datasets.Dataset {
	return d.HeadPerClass(max(1, n/d.NumClasses()))
}

// set returns the run's condensed set: from memory, from the cache file, or condensed now
// and saved (atomically) to the cache. A condensation error is remembered, so the other
// runs of the same set fail at once with it.
func (e *Executor) set(ctx context.Context, r Run, data *datasets.Pair) *cachedSet {
	if cs, ok := e.sets[r.SetHash]; ok {
		return cs
	}
	c := r.Config
	path := e.Store.SetPath(r.SetHash)
	cs := &cachedSet{file: path}
	if s, err := dcbench.LoadSet(path); err == nil {
		if s.Method == c.Method && s.IPC == c.IPC && s.Seed == c.CondenseSeed {
			cs.set = s
			e.logf("set %s: loaded %s from the cache\n", r.SetHash, s)
		} else {
			e.logf("set %s: cache file holds %s, not %s ipc %d seed %d: condensing again\n", r.SetHash, s, c.Method, c.IPC, c.CondenseSeed)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		e.logf("set %s: cache file unreadable (%v): condensing again\n", r.SetHash, err)
	}
	if cs.set == nil {
		prog, done := e.progress(fmt.Sprintf("condense %s ipc %d", c.Method, c.IPC))
		s, err := dcbench.Condense(data.Train, dcbench.CondenseOptions{Method: c.Method, IPC: c.IPC, Seed: c.CondenseSeed,
			Backend: e.Backend, Params: c.CondenseParams, Progress: prog, Context: ctx, Source: c.Dataset})
		done()
		if err != nil {
			if ctx.Err() != nil {
				return &cachedSet{err: err} // interrupted: not remembered
			}
			cs.err = fmt.Errorf("condensing: %w", err)
		} else if err := s.Save(path); err != nil {
			cs.err = fmt.Errorf("saving the condensed set: %w", err)
		} else {
			cs.set = s
			e.logf("set %s: condensed %s in %.1f s, saved to %s\n", r.SetHash, s, s.Seconds, path)
		}
	}
	if e.sets == nil {
		e.sets = map[string]*cachedSet{}
	}
	e.sets[r.SetHash] = cs
	e.recent = append(e.recent, r.SetHash)
	if len(e.recent) > keepSets {
		delete(e.sets, e.recent[0])
		e.recent = e.recent[1:]
	}
	return cs
}

// cost condenses without the cache and times it (Table 8).
func (e *Executor) cost(ctx context.Context, r Run, data *datasets.Pair, out Outcome) (Outcome, error) {
	c := r.Config
	prog, done := e.progress(fmt.Sprintf("condense %s ipc %d (timed)", c.Method, c.IPC))
	start := time.Now()
	_, err := dcbench.Condense(data.Train, dcbench.CondenseOptions{Method: c.Method, IPC: c.IPC, Seed: c.CondenseSeed,
		Backend: e.Backend, Params: c.CondenseParams, Progress: prog, Context: ctx, Source: c.Dataset})
	done()
	out.Seconds = time.Since(start).Seconds()
	if err != nil {
		return out, err
	}
	out.Iterations = iterations(c)
	out.SecondsPerIter = out.Seconds / float64(max(out.Iterations, 1))
	return out, nil
}

// iterations is the iteration count a cost run divides by: the "iterations" param of the
// synthesis methods, K-Center's "max_iter" (as the paper: total time / 300), else 1.
func iterations(c results.Config) int {
	for _, k := range []string{"iterations", "max_iter"} {
		switch v := c.CondenseParams[k].(type) {
		case int:
			return v
		case int64:
			return int(v)
		case float64:
			return int(v)
		}
	}
	return 1
}

// full trains on the whole training set: the "real data" accuracy of DD-Ranking's
// hard-label recovery.
func (e *Executor) full(ctx context.Context, r Run, data *datasets.Pair, out Outcome) (Outcome, error) {
	c := r.Config
	cfg := c.Train(r.Seed).Defaults()
	if err := cfg.Validate(); err != nil {
		return out, err
	}
	d := data.Train
	start := time.Now()
	tr, err := train.New(e.Backend, cfg, d.NumClasses(), d.H, d.W, d.C, d.Mean, d.Std)
	if err != nil {
		return out, err
	}
	defer tr.Finalize()
	passes := cfg.NumPasses()
	prog, done := e.progress(fmt.Sprintf("train %s on the full training set, seed %d", c.Model, r.Seed))
	err = tr.Fit(ctx, d, func(ep, total int, loss float64) {
		if prog != nil {
			prog(ep, total, fmt.Sprintf("epoch %d/%d, loss %.4f", ep, total, loss))
		}
	})
	done()
	trainSecs := time.Since(start).Seconds()
	if err != nil {
		return out, err
	}
	acc, err := tr.Accuracy(e.testSet(c.Dataset, data.Test, c.TestN))
	if err != nil {
		return out, err
	}
	out.Accuracy, out.Seconds, out.SecondsPerEpoch = 100*acc, time.Since(start).Seconds(), trainSecs/float64(passes)
	return out, nil
}

// relative makes path relative to the store folder when it is inside it (records stay
// valid when the folder is mounted elsewhere).
func relative(store *results.Store, path string) string {
	if rel, err := filepath.Rel(store.Dir, path); err == nil && !filepath.IsAbs(rel) && rel != "" && rel[0] != '.' {
		return rel
	}
	return path
}
