package results

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dcbench/dcbench/dcbench/reference"
	"github.com/dcbench/dcbench/dcbench/train"
	"github.com/dcbench/dcbench/kernelext"
)

// Cell gathers the runs of one setting: every record whose config is the same up to the
// condensation seed, i.e. all evaluation seeds × condensation seeds. The report shows a cell
// as the mean ± population std of its ok runs.
type Cell struct {
	// Config is the setting (CondenseSeed is that of the first run).
	Config Config
	// Key identifies the cell (the hash of Config without CondenseSeed).
	Key string
	// Runs are the settling records (see Latest), ordered by condensation seed then seed.
	Runs []Record
}

// CellKey is the identity of the cell of a config: its hash with the condensation seed
// left out.
func CellKey(c Config) string {
	c = c.Normalize()
	c.CondenseSeed = 0
	return Hash(c)
}

// Cells groups records into cells, one run per key (Latest), in a stable order (dataset,
// method in the paper's order, IPC, model, augmentation, then the rest).
func Cells(recs []Record) []*Cell {
	latest := Latest(recs)
	byKey := map[string]*Cell{}
	var cells []*Cell
	keys := make([]string, 0, len(latest))
	for k := range latest {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		r := latest[k]
		ck := CellKey(r.Config)
		c, ok := byKey[ck]
		if !ok {
			c = &Cell{Config: r.Config.Normalize(), Key: ck}
			byKey[ck] = c
			cells = append(cells, c)
		}
		c.Runs = append(c.Runs, r)
	}
	for _, c := range cells {
		sort.SliceStable(c.Runs, func(i, j int) bool {
			a, b := c.Runs[i], c.Runs[j]
			if a.CondenseSeed != b.CondenseSeed {
				return a.CondenseSeed < b.CondenseSeed
			}
			return a.Seed < b.Seed
		})
		c.Config.CondenseSeed = c.Runs[0].CondenseSeed
	}
	sort.SliceStable(cells, func(i, j int) bool { return lessConfig(cells[i].Config, cells[j].Config) })
	return cells
}

// Count returns the number of runs with the given status.
func (c *Cell) Count(status string) int {
	n := 0
	for _, r := range c.Runs {
		if r.Status == status {
			n++
		}
	}
	return n
}

// Values returns the accuracies (KindCost: seconds per iteration) of the ok runs.
func (c *Cell) Values() []float64 {
	var v []float64
	for _, r := range c.Runs {
		if r.Status == StatusOK {
			if c.Config.Kind == KindCost {
				v = append(v, r.SecondsPerIter)
			} else {
				v = append(v, r.Accuracy)
			}
		}
	}
	return v
}

// Stat is the mean ± population std (ddof=0, as the reference) of the ok runs.
func (c *Cell) Stat() kernelext.Stat { return kernelext.StatOf(c.Values()) }

// Status is the cell's state: StatusOK if any run is ok, else StatusOOM if any ran out of
// memory, else StatusFailed if any failed, else StatusSkipped.
func (c *Cell) Status() string {
	for _, s := range []string{StatusOK, StatusOOM, StatusFailed} {
		if c.Count(s) > 0 {
			return s
		}
	}
	return StatusSkipped
}

// Error returns the first error message of the cell's runs ("" if none).
func (c *Cell) Error() string {
	for _, r := range c.Runs {
		if r.Error != "" {
			return r.Error
		}
	}
	return ""
}

// PeakRSS is the largest peak RSS of the cell's runs, in bytes.
func (c *Cell) PeakRSS() int64 {
	var m int64
	for _, r := range c.Runs {
		m = max(m, r.PeakRSS)
	}
	return m
}

// Paper-order ranks for sorting.
var (
	methodOrder  = []string{"random", "kcenter", "herding", "dc", "dsa", "dm", "kip", "mtt"}
	augmentOrder = []string{"none", "imagenet_aug", "randaug", "autoaug", "dsa"}
	modelOrder   = []string{"convnet", "convnetd3", "convnetd4", "mlp", "resnet18", "resnet152", "vit"}
)

func rank(order []string, s string) int {
	for i, o := range order {
		if o == s {
			return i
		}
	}
	if s == MethodFull {
		return len(order) + 1000
	}
	return len(order)
}

func lessConfig(a, b Config) bool {
	if a.Kind != b.Kind {
		return a.Kind < b.Kind
	}
	if a.Dataset != b.Dataset {
		return a.Dataset < b.Dataset
	}
	if ra, rb := rank(methodOrder, a.Method), rank(methodOrder, b.Method); ra != rb {
		return ra < rb
	}
	if a.Method != b.Method {
		return a.Method < b.Method
	}
	if a.IPC != b.IPC {
		return a.IPC < b.IPC
	}
	if ra, rb := rank(modelOrder, a.Model), rank(modelOrder, b.Model); ra != rb {
		return ra < rb
	}
	if a.Model != b.Model {
		return a.Model < b.Model
	}
	if ra, rb := rank(augmentOrder, a.Augment), rank(augmentOrder, b.Augment); ra != rb {
		return ra < rb
	}
	if a.Augment != b.Augment {
		return a.Augment < b.Augment
	}
	return Hash(a) < Hash(b)
}

// paperDataset maps a record's dataset to the paper's name; mark is "*" for the embedded
// subset, whose numbers are compared with the full dataset's.
func paperDataset(d string) (name, mark string) {
	if base, ok := strings.CutSuffix(d, "-embedded"); ok {
		d, mark = base, "*"
	}
	n, ok := reference.NormalizeDataset(d)
	if !ok {
		return "", ""
	}
	return n, mark
}

// isConvNet reports whether model is the paper's ConvNet for the dataset: ConvNet-3, or
// ConvNet-4 on the 64×64 TinyImageNet.
func isConvNet(dataset, model string) bool {
	switch model {
	case "convnet", "convnetd3":
		return true
	case "convnetd4":
		d, _ := paperDataset(dataset)
		return d == "TinyImageNet"
	}
	return false
}

// paperModel is the Table 5 name of model on dataset ("" if none).
func paperModel(dataset, model string) string {
	if isConvNet(dataset, model) {
		return "ConvNet"
	}
	m, _ := reference.NormalizeModel(model)
	return m
}

// describe lists how c departs from the reference protocol (ConvNet/SGD/lr/batch/epochs
// defaults), leaving out the fields named in skip ("model", "augment", "optimizer", "ipc",
// or a condense param): e.g. "epochs 2, test 100".
func describe(c Config, skip ...string) string {
	skipped := func(f string) bool {
		for _, s := range skip {
			if s == f {
				return true
			}
		}
		return false
	}
	var parts []string
	if c.Kind == KindEval {
		ref := Config{Model: c.Model, Augment: c.Augment, Optimizer: c.Optimizer}.Normalize()
		if c.Epochs != ref.Epochs {
			parts = append(parts, fmt.Sprintf("epochs %d", c.Epochs))
		}
		if c.Batch != ref.Batch {
			parts = append(parts, fmt.Sprintf("batch %d", c.Batch))
		}
		if !skipped("optimizer") && c.Optimizer != "sgd" {
			parts = append(parts, c.Optimizer)
		}
		if c.LR != ref.LR {
			parts = append(parts, fmt.Sprintf("lr %g", c.LR))
		}
		if c.Momentum != ref.Momentum {
			parts = append(parts, fmt.Sprintf("momentum %g", c.Momentum))
		}
		if c.WeightDecay != ref.WeightDecay {
			parts = append(parts, fmt.Sprintf("wd %g", c.WeightDecay))
		}
		if c.DSAStrategy != ref.DSAStrategy {
			parts = append(parts, "dsa "+c.DSAStrategy)
		}
		if c.HostAugment == train.HostAugmentPerImage {
			parts = append(parts, "per-image aug")
		}
		if len(c.ModelParams) > 0 {
			parts = append(parts, paramString(c.ModelParams))
		}
		if c.TestN > 0 {
			parts = append(parts, fmt.Sprintf("test %d", c.TestN))
		}
	}
	if len(c.CondenseParams) > 0 {
		p := map[string]any{}
		for k, v := range c.CondenseParams {
			if !skipped(k) {
				p[k] = v
			}
		}
		if len(p) > 0 {
			parts = append(parts, paramString(p))
		}
	}
	return strings.Join(parts, ", ")
}

// evalKey identifies the evaluation protocol of a config (everything but the condensed set),
// to find the random-selection and full-data cells a method is compared with.
func evalKey(c Config) string {
	c = c.Normalize()
	c.Method, c.IPC, c.CondenseSeed, c.CondenseParams = "", 0, 0, nil
	return Hash(c)
}
