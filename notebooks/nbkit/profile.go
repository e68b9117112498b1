// Package nbkit is the shared set-up of the dcbench notebooks (notebooks/*.ipynb): the
// "quick" and "paper" profiles, data loading, the environment report, condensing only the
// methods that are registered, and a small JSON store that carries results from one GoNB
// cell to the next (each cell runs as its own program).
//
// It holds no experiment logic: the loops that reproduce the DC-Bench appendix stay in the
// notebooks, where the reader sees them.
package nbkit

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/dcbench/dcbench/datasets"
	"github.com/dcbench/dcbench/dcbench"
)

// EnvProfile is the environment variable that overrides the profile chosen in a notebook.
const EnvProfile = "DCBENCH_PROFILE"

// EnvMethods overrides the methods a profile condenses: "all" (every registered method) or a
// comma-separated list of method names (e.g. "random,kcenter,dm").
const EnvMethods = "DCBENCH_METHODS"

// EnvDatasetDir names a folder or archive holding the full dataset for the paper profile
// (else it is looked for, and downloaded if missing, in the cache: $DCBENCH_DATA).
const EnvDatasetDir = "DCBENCH_DATASET_DIR"

// Profile is a set of experiment settings shared by the notebooks.
type Profile struct {
	// Name is "quick" or "paper".
	Name string
	// Embedded uses the embedded CIFAR-10 subset (100 train / 100 test images per class).
	Embedded bool
	// Dataset is the registry name of the dataset (see datasets.Names), when not Embedded.
	Dataset string
	// DataDir is the folder or archive of the dataset; "" uses the cache ($DCBENCH_DATA),
	// downloading the official archive there when missing.
	DataDir string
	// TestPerClass keeps only the first TestPerClass test images of every class; 0 keeps
	// the whole test split.
	TestPerClass int
	// Epochs of evaluation training; 0 means the reference (300, or 1000 with augmentation).
	Epochs int
	// NumEval is the number of evaluation runs (fresh networks) per result.
	NumEval int
	// BatchSize of evaluation training and testing; 0 means the reference 256.
	BatchSize int
	// Methods are the methods (paper names) the profile condenses, when registered; nil
	// means every registered method. $DCBENCH_METHODS overrides it (see Select).
	Methods []string
	// IPCs are the images-per-class values that sweeps use.
	IPCs []int
	// Seed of condensation and of the first evaluation run.
	Seed uint64
	// CondenseParams are passed to every condenser (merged under the notebook's own params).
	// The quick profile asks for a handful of iterations; the key names are the ones the
	// condensers document.
	CondenseParams map[string]any
	// CondenseTimeout cancels a condensation that runs longer (0: no limit); the notebooks
	// then show the row as not run.
	CondenseTimeout time.Duration
}

// Quick is the profile for a 2-core CPU: the embedded CIFAR-10 subset, IPC 1, 10 epochs, one
// run, 200 test images. It checks that everything runs end to end in a few minutes; its
// numbers are not comparable with the paper's.
func Quick() Profile {
	return Profile{
		Name:         "quick",
		Embedded:     true,
		Dataset:      "cifar10",
		TestPerClass: 20,
		Epochs:       10,
		NumEval:      1,
		// Batch 100 trains IPC ≤ 10 exactly as 256 does (the whole set is one batch) and
		// tests 200 images in two batches instead of one padded batch of 256.
		BatchSize: 100,
		// Only Random: on 2 CPU cores K-Center's embedding epoch and every DC/DSA/DM
		// iteration take tens of seconds, so the other methods are shown as skipped (the
		// notebooks about one method add it; $DCBENCH_METHODS=all runs them all).
		Methods: []string{"Random"},
		IPCs:    []int{1},
		Seed:    0,
		// A few iterations of the synthesis methods, with small real batches.
		CondenseParams:  map[string]any{"iterations": 3, "batch_real": 16},
		CondenseTimeout: 10 * time.Minute,
	}
}

// Paper is the reference setting of DC-Bench, for a GPU: full CIFAR-10, IPC 1/10/50, the
// reference schedule (300 epochs, 1000 with augmentation), 5 runs, the whole test split.
func Paper() Profile {
	return Profile{
		Name:    "paper",
		Dataset: "cifar10",
		DataDir: os.Getenv(EnvDatasetDir),
		NumEval: 5,
		IPCs:    []int{1, 10, 50},
		Seed:    0,
	}
}

// Select returns the profile called name ("quick" or "paper"); the environment variable
// DCBENCH_PROFILE, when set, wins over name, and DCBENCH_METHODS over its Methods.
func Select(name string) (Profile, error) {
	if env := strings.TrimSpace(os.Getenv(EnvProfile)); env != "" {
		name = env
	}
	var p Profile
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "quick", "":
		p = Quick()
	case "paper", "full":
		p = Paper()
	default:
		return Profile{}, fmt.Errorf("unknown profile %q (valid: quick, paper)", name)
	}
	if env := strings.TrimSpace(os.Getenv(EnvMethods)); env != "" {
		p.Methods = nil
		if !strings.EqualFold(env, "all") {
			for _, m := range strings.Split(env, ",") {
				if m = strings.TrimSpace(m); m != "" {
					p.Methods = append(p.Methods, m)
				}
			}
		}
	}
	return p, nil
}

// WithMethods returns p allowed to condense methods too (when p limits its methods).
func (p Profile) WithMethods(methods ...string) Profile {
	if p.Methods != nil && os.Getenv(EnvMethods) == "" {
		p.Methods = append(append([]string(nil), p.Methods...), methods...)
	}
	return p
}

// Runs reports whether the profile condenses method (paper or registry name); it does not
// check that the method is registered.
func (p Profile) Runs(method string) bool {
	if p.Methods == nil {
		return true
	}
	for _, m := range p.Methods {
		if RegistryName(m) == RegistryName(method) {
			return true
		}
	}
	return false
}

// Comparable reports whether the profile's numbers can be set against the paper's: full
// dataset, reference schedule, 5 runs, whole test split.
func (p Profile) Comparable() bool {
	return !p.Embedded && p.Epochs == 0 && p.NumEval >= 5 && p.TestPerClass == 0 && p.BatchSize == 0
}

// DatasetLabel names the data the profile runs on, e.g. "CIFAR-10 (embedded subset)".
func (p Profile) DatasetLabel() string {
	if p.Embedded {
		return "CIFAR-10 (embedded 1,000-image subset)"
	}
	if info, err := datasets.Info(p.Dataset); err == nil {
		return info.Title
	}
	return p.Dataset
}

// Summary is a one-line description of the settings.
func (p Profile) Summary() string {
	ep := "reference epochs (300; 1000 with augmentation)"
	if p.Epochs > 0 {
		ep = fmt.Sprintf("%d epochs", p.Epochs)
	}
	test := "the whole test split"
	if p.TestPerClass > 0 {
		test = fmt.Sprintf("%d test images per class", p.TestPerClass)
	}
	return fmt.Sprintf("%s profile: %s, %s, %d run(s), %s, IPC %s", p.Name, p.DatasetLabel(), ep, p.NumEval, test, joinInts(p.IPCs))
}

// Caveat is the warning put in table titles and notes when the profile is not comparable
// with the paper ("" when it is).
func (p Profile) Caveat() string {
	if p.Comparable() {
		return ""
	}
	return fmt.Sprintf("%s — NOT comparable with the paper (full CIFAR-10, 300/1000 epochs, 5 runs)", p.Summary())
}

// Title appends the profile (and, when not comparable, a warning) to a table or chart title.
func (p Profile) Title(title string) string {
	if p.Comparable() {
		return fmt.Sprintf("%s — %s profile", title, p.Name)
	}
	return fmt.Sprintf("%s — %s profile, %s: not comparable with the paper", title, p.Name, p.DatasetLabel())
}

// ChartTitle is a short Title for charts (their titles are one line of SVG text): title and
// the profile, with "not comparable" when it is not.
func (p Profile) ChartTitle(title string) string {
	if p.Comparable() {
		return fmt.Sprintf("%s (%s profile)", title, p.Name)
	}
	return fmt.Sprintf("%s (%s profile: not comparable)", title, p.Name)
}

// Load returns the normalised train and test splits of the profile's data, the test split
// reduced to TestPerClass images per class.
func (p Profile) Load() (*datasets.Pair, error) {
	var pair *datasets.Pair
	var err error
	if p.Embedded {
		pair, err = datasets.Embedded()
	} else {
		pair, err = datasets.LoadOrDownload(p.Dataset, p.DataDir)
	}
	if err != nil {
		return nil, err
	}
	pair.Normalize()
	if p.TestPerClass > 0 {
		pair.Test = HeadPerClass(pair.Test, p.TestPerClass)
	}
	return pair, nil
}

// HeadPerClass keeps the first n images of every class of d (all of a smaller class), in
// class order.
func HeadPerClass(d *datasets.Dataset, n int) *datasets.Dataset { return d.HeadPerClass(n) }

// Eval returns the evaluation options of the profile (ConvNet, SGD, no augmentation unless
// the caller sets them).
func (p Profile) Eval() dcbench.EvalOptions {
	var o dcbench.EvalOptions
	o.NumEval = p.NumEval
	o.Epochs = p.Epochs
	o.BatchSize = p.BatchSize
	o.Seed = p.Seed
	return o
}

// Passes is the number of training passes (progress units) that Evaluate makes with opts:
// NumEval × (Epochs+1), with the reference defaults filled in.
func Passes(opts dcbench.EvalOptions) int {
	n := opts.NumEval
	if n == 0 {
		n = 5
	}
	return n * opts.Config.Defaults().NumPasses()
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}
