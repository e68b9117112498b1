package sweep

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench"
	"github.com/dcbench/dcbench/dcbench/augment"
	"github.com/dcbench/dcbench/dcbench/models"
	"github.com/dcbench/dcbench/dcbench/reference"
	"github.com/dcbench/dcbench/dcbench/results"
)

// Run is one point of a sweep: a normalised config and an evaluation seed.
type Run struct {
	Config results.Config
	Seed   uint64
	// Hash is Config.Hash(), Key the run's identity (results.RunKey), SetHash the
	// condensed set's (empty for kind cost and the full method).
	Hash, Key, SetHash string
}

// String names the run for logs.
func (r Run) String() string {
	c := r.Config
	if c.Kind == results.KindCost {
		return fmt.Sprintf("cost %s %s ipc %d seed %d%s", c.Dataset, c.Method, c.IPC, r.Seed, paramsSuffix(c.CondenseParams))
	}
	ipc := fmt.Sprintf("ipc %d", c.IPC)
	if c.Method == results.MethodFull {
		ipc = "all"
	}
	return fmt.Sprintf("%s %s %s%s %s/%s/%s seed %d", c.Dataset, c.Method, ipc, paramsSuffix(c.CondenseParams), c.Model, c.Augment, c.Optimizer, r.Seed)
}

func paramsSuffix(p map[string]any) string {
	if len(p) == 0 {
		return ""
	}
	return fmt.Sprintf(" %v", p)
}

func newRun(c results.Config, seed uint64) Run {
	c = c.Normalize()
	r := Run{Config: c, Seed: seed, Hash: c.Hash()}
	r.Key = results.RunKey(r.Hash, seed)
	if c.Kind == results.KindEval && c.Method != results.MethodFull {
		r.SetHash = c.SetHash()
	}
	return r
}

// Expand lists the runs of the spec, each once (grids may overlap), in grid order; it
// reports the first invalid value with the grid it is in.
func (s *Spec) Expand() ([]Run, error) {
	grids, err := s.flatten()
	if err != nil {
		return nil, err
	}
	var runs []Run
	seen := map[string]bool{}
	for _, g := range grids {
		rs, err := g.expand()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", strings.TrimSuffix(g.origin, ", "), err)
		}
		for _, r := range rs {
			if !seen[r.Key] {
				seen[r.Key] = true
				runs = append(runs, r)
			}
		}
	}
	return runs, nil
}

// DataDirs returns the dataset folders of the spec and its grids (dataset name → folder).
func (s *Spec) DataDirs() map[string]string {
	out := map[string]string{}
	for k, v := range s.Data {
		out[canonicalDataset(k)] = v
	}
	for _, g := range s.Grids {
		for k, v := range g.DataDirs() {
			out[k] = v
		}
	}
	if s.override != nil {
		for k, v := range s.override.Data {
			out[canonicalDataset(k)] = v
		}
	}
	return out
}

func canonicalDataset(name string) string {
	n := strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.ToLower(strings.TrimSpace(name)))
	if n == "embedded" || n == "cifar10embedded" {
		return "cifar10-embedded"
	}
	return n
}

// checkDataset returns the dataset's record name, or an error listing the valid names.
func checkDataset(name string) (string, error) {
	n := canonicalDataset(name)
	if n == "cifar10-embedded" || slices.Contains(datasets.Names(), n) {
		return n, nil
	}
	return "", fmt.Errorf("unknown dataset %q (valid: embedded, %s)", name, strings.Join(datasets.Names(), ", "))
}

// checkMethod returns the method's registry name: a registered condenser, "full", or one of
// the paper's methods that this build does not register (lower case, e.g. "kip").
func checkMethod(name string) (string, error) {
	if strings.EqualFold(strings.TrimSpace(name), results.MethodFull) {
		return results.MethodFull, nil
	}
	if c, err := dcbench.GetCondenser(name); err == nil {
		return c.Name(), nil
	}
	if p, ok := reference.NormalizeMethod(name); ok {
		return strings.ToLower(strings.ReplaceAll(p, "-", "")), nil
	}
	return "", fmt.Errorf("unknown method %q (registered: %s; or full)", name, strings.Join(dcbench.Methods(), ", "))
}

// Registered reports whether the run's method can run now (a registered condenser, or full).
// A paper method that a build does not register is part of the grids and is recorded as
// skipped.
func Registered(method string) bool {
	if method == results.MethodFull {
		return true
	}
	if hidden[method] {
		return false
	}
	_, err := dcbench.GetCondenser(method)
	return err == nil
}

// hidden lists registered methods that Registered reports as missing: the tests use it for
// the path of a paper method that is not registered (every paper method is registered now).
var hidden = map[string]bool{}

func (g grid) expand() ([]Run, error) {
	kind := strings.ToLower(strings.TrimSpace(g.Kind))
	switch kind {
	case "", "eval":
		kind = results.KindEval
	case results.KindCost:
	default:
		return nil, fmt.Errorf("unknown kind %q (valid: eval, cost)", g.Kind)
	}
	if len(g.Methods) == 0 {
		return nil, fmt.Errorf("no methods (set \"methods\", e.g. [\"random\"])")
	}
	ds := []string(g.Datasets)
	if len(ds) == 0 {
		ds = []string{"embedded"}
	}
	augs := orDefault(g.Augment, "none")
	mods := orDefault(g.Models, "convnet")
	opts := orDefault(g.Optimizers, "sgd")
	seeds := []uint64(g.Seeds)
	if len(seeds) == 0 {
		seeds = []uint64{0, 1, 2, 3, 4}
	}
	cseeds := []uint64(g.CondenseSeeds)
	if len(cseeds) == 0 {
		cseeds = []uint64{0}
	}
	cparams := g.CondenseParams
	if len(cparams) == 0 {
		cparams = []map[string]any{{}}
	}
	switch {
	case g.Epochs < 0:
		return nil, fmt.Errorf("epochs must be positive, got %d", g.Epochs)
	case g.Batch < 0:
		return nil, fmt.Errorf("batch must be positive, got %d", g.Batch)
	case g.LR < 0:
		return nil, fmt.Errorf("lr must be positive, got %g", g.LR)
	case g.TestN < 0:
		return nil, fmt.Errorf("test_n must be non-negative, got %d", g.TestN)
	}
	for i, a := range augs {
		a = strings.ToLower(strings.TrimSpace(a))
		if !slices.Contains(augment.Names(), a) {
			return nil, fmt.Errorf("unknown augmentation %q (valid: %s)", augs[i], strings.Join(augment.Names(), ", "))
		}
		augs[i] = a
	}
	for i, o := range opts {
		o = strings.ToLower(strings.TrimSpace(o))
		if o != "sgd" && o != "adam" {
			return nil, fmt.Errorf("unknown optimizer %q (valid: sgd, adam)", opts[i])
		}
		opts[i] = o
	}
	for i, m := range mods {
		mm, err := models.Get(m)
		if err != nil {
			return nil, err
		}
		mods[i] = mm.Name
	}
	for m := range g.MethodParams {
		if _, err := checkMethod(m); err != nil {
			return nil, fmt.Errorf("method_params: %w", err)
		}
	}
	var runs []Run
	for _, d := range ds {
		dataset, err := checkDataset(d)
		if err != nil {
			return nil, err
		}
		for _, m := range g.Methods {
			method, err := checkMethod(m)
			if err != nil {
				return nil, err
			}
			if method == results.MethodFull && kind == results.KindCost {
				return nil, fmt.Errorf("method full condenses nothing: it has no cost to time (kind cost)")
			}
			ipcs := []int(g.IPC)
			if method == results.MethodFull {
				ipcs = []int{0}
			} else if len(ipcs) == 0 {
				return nil, fmt.Errorf("no ipc (set \"ipc\", e.g. [1, 10, 50])")
			}
			mparams := map[string]any{}
			for mk, p := range g.MethodParams {
				if km, _ := checkMethod(mk); km == method {
					for k, v := range p {
						mparams[k] = v
					}
				}
			}
			for _, ipc := range ipcs {
				if ipc < 1 && method != results.MethodFull {
					return nil, fmt.Errorf("ipc must be at least 1, got %d", ipc)
				}
				for _, cp := range cparams {
					params := copyMap(mparams)
					for k, v := range cp {
						params[k] = v
					}
					base := results.Config{Kind: kind, Dataset: dataset, Method: method, IPC: ipc, CondenseParams: params}
					if kind == results.KindCost {
						for _, s := range seeds {
							c := base
							c.CondenseSeed = s
							runs = append(runs, newRun(c, s))
						}
						continue
					}
					cs := cseeds
					if method == results.MethodFull {
						cs = []uint64{0}
					}
					for _, csd := range cs {
						for _, model := range mods {
							for _, opt := range opts {
								for _, a := range augs {
									c := base
									c.CondenseSeed = csd
									c.Model, c.Augment, c.Optimizer = modelFor(dataset, model), a, opt
									c.ModelParams = copyMap(g.ModelParams)
									c.Epochs, c.Batch, c.LR, c.TestN, c.HostAugment = g.Epochs, g.Batch, g.LR, g.TestN, g.HostAugment
									if err := c.Normalize().Train(0).Defaults().Validate(); err != nil {
										return nil, err
									}
									for _, s := range seeds {
										runs = append(runs, newRun(c, s))
									}
								}
							}
						}
					}
				}
			}
		}
	}
	return runs, nil
}

func orDefault(l StringList, def string) []string {
	if len(l) == 0 {
		return []string{def}
	}
	return slices.Clone([]string(l))
}

// modelFor maps "convnet" to the paper's ConvNet for the dataset: depth 4 on the 64×64
// TinyImageNet, as the reference.
func modelFor(dataset, model string) string {
	if model == "convnet" && dataset == "tinyimagenet" {
		return "convnetd4"
	}
	return model
}
