package sweep

import (
	"fmt"
	"sort"
	"strings"
)

// The appendix's axes.
var (
	paperDatasets = StringList{"cifar10", "cifar100", "tinyimagenet"}
	paperMethods  = StringList{"random", "kcenter", "dc", "dsa", "dm", "kip", "mtt"}
	paperIPC      = IntList{1, 10, 50}
	paperAugment  = StringList{"none", "imagenet_aug", "randaug", "autoaug", "dsa"}
)

// presets are the grids of the DC-Bench appendix experiments. A paper method that a build
// does not register is still part of the grids: the sweep records it as skipped and the
// report shows it as missing. MTT needs expert trajectories: give them with the spec's
// method_params ({"mtt": {"buffer": DIR}}), else its runs are recorded as failed with the
// reason.
var presets = map[string]Spec{
	// Table 4: ConvNet accuracy under each evaluation augmentation.
	"table4": {Name: "table4", Datasets: paperDatasets, Methods: paperMethods, IPC: paperIPC, Augment: paperAugment},
	// Table 5: cross-architecture transfer, DSA augmentation at evaluation.
	"table5": {Name: "table5", Datasets: paperDatasets, Methods: paperMethods, IPC: paperIPC, Augment: StringList{"dsa"},
		Models: StringList{"convnet", "mlp", "resnet18", "resnet152", "vit"}},
	// Table 6: CIFAR-10 at IPC 1 to 1000 (the methods it lists), ConvNet, DSA.
	"table6": {Name: "table6", Datasets: StringList{"cifar10"}, Methods: StringList{"random", "kcenter", "dc", "dsa", "dm"},
		IPC: IntList{1, 10, 50, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000}, Augment: StringList{"dsa"}},
	// Table 7: SGD vs Adam on CIFAR-10, ConvNet, DSA ("all IPCs (1, 10, 50)" says A.6).
	"table7": {Name: "table7", Datasets: StringList{"cifar10"}, Methods: paperMethods, IPC: paperIPC, Augment: StringList{"dsa"},
		Optimizers: StringList{"sgd", "adam"}},
	// Table 8: condensation cost on CIFAR-10: 100 iterations of the synthesis methods
	// (A.8), K-Center's 300 k-means iterations; time per iteration and peak memory.
	"table8": {Name: "table8", Kind: "cost", Datasets: StringList{"cifar10"}, Methods: StringList{"kcenter", "dc", "dsa", "dm", "mtt"},
		IPC: paperIPC, Seeds: SeedList{0, 1, 2}, MethodParams: map[string]map[string]any{
			"kcenter": {"max_iter": 300}, "dc": {"iterations": 100}, "dsa": {"iterations": 100}, "dm": {"iterations": 100}, "mtt": {"iterations": 100}}},
	// Table 9: K-Center with k-means on raw pixels vs ConvNet embeddings, ConvNet, DSA.
	"table9": {Name: "table9", Datasets: paperDatasets, Methods: StringList{"kcenter"}, IPC: paperIPC, Augment: StringList{"dsa"},
		CondenseParams: []map[string]any{{"features": "raw"}, {"features": "embedding"}}},
	// Figure 6 (A.4): DC and DSA on CIFAR-10 initialised from Random selection, K-Center and
	// Gaussian noise, ConvNet, DSA.
	"fig6": {Name: "fig6", Datasets: StringList{"cifar10"}, Methods: StringList{"dc", "dsa"}, IPC: paperIPC, Augment: StringList{"dsa"},
		CondenseParams: []map[string]any{{"init": "real"}, {"init": "kcenter"}, {"init": "noise"}}},
	// Figure 5 (A.3): Table 5's transfer on CIFAR-10 at IPC 10 and 50, drawn as bars per
	// model.
	"fig5": {Name: "fig5", Datasets: StringList{"cifar10"}, Methods: paperMethods, IPC: IntList{10, 50}, Augment: StringList{"dsa"},
		Models: StringList{"convnet", "mlp", "resnet18", "resnet152", "vit"}},
	// Figure 7 (A.7): the sets whose distribution against the real data is drawn with t-SNE
	// (CIFAR-10, IPC 50), each evaluated on ConvNet with DSA.
	"fig7": {Name: "fig7", Datasets: StringList{"cifar10"}, Methods: StringList{"random", "kcenter", "dc", "dsa", "dm", "mtt"},
		IPC: IntList{50}, Augment: StringList{"dsa"}},
	// Figure 8: example images of every method on CIFAR-10 at IPC 10, each set evaluated on
	// ConvNet with DSA (Table 4's dsa column).
	"fig8": {Name: "fig8", Datasets: StringList{"cifar10"}, Methods: paperMethods, IPC: IntList{10}, Augment: StringList{"dsa"}},
}

// Presets lists the preset names.
func Presets() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Preset returns the spec of an appendix experiment (see Presets).
func Preset(name string) (*Spec, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if f, ok := cutAny(n, "figure", "fig", "f"); ok {
		n = "fig" + f
	} else {
		f, _ = cutAny(n, "table", "t")
		n = "table" + f
	}
	p, ok := presets[n]
	if !ok {
		return nil, fmt.Errorf("unknown preset %q (valid: %s)", name, strings.Join(Presets(), ", "))
	}
	s := p
	s.MethodParams = nil
	merge(&s, Spec{MethodParams: p.MethodParams}) // a deep copy of the params
	return &s, nil
}

// cutAny returns s without the first of prefixes it starts with.
func cutAny(s string, prefixes ...string) (string, bool) {
	for _, p := range prefixes {
		if r, ok := strings.CutPrefix(s, p); ok {
			return r, true
		}
	}
	return s, false
}
