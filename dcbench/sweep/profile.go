package sweep

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// The profiles of an experiment (see WithProfile).
const (
	// ProfileQuick runs an appendix grid end to end in minutes on a 2-core CPU: the embedded
	// CIFAR-10 subset, one method (Random where the grid has it; Table 8 and Figs. 7 and 8 keep a few), the grid's smallest IPC (Table 6: 1 and 10), ConvNet, MLP and ResNet-18 of Table 5's models,
	// one seed, 10 epochs, 200 test images, 3 iterations of the synthesis methods. Its
	// numbers are not comparable with the paper's.
	ProfileQuick = "quick"
	// ProfilePaper is the grid as the paper ran it (for a GPU).
	ProfilePaper = "paper"
)

// Profiles lists the profile names.
func Profiles() []string { return []string{ProfileQuick, ProfilePaper} }

// synthesis lists the methods that learn images by iterations (quick runs 3 of them).
var synthesis = []string{"dc", "dsa", "dm", "mtt", "kip"}

// quickGrids are the presets whose quick grid keeps more than one method or IPC: what the
// experiment is about (Table 6: more than one IPC; Table 8: the cost of each synthesis
// method; Fig. 7: selection against synthesis).
var quickGrids = map[string]struct {
	methods, models []string
	ipc             IntList
}{
	"table5": {models: []string{"convnet", "mlp", "resnet18"}}, // ResNet-152 and ViT take minutes on a CPU
	"fig5":   {models: []string{"convnet", "mlp", "resnet18"}},
	"table6": {ipc: IntList{1, 10}},
	"table8": {methods: []string{"kcenter", "dc", "dsa", "dm"}},
	"fig7":   {methods: []string{"random", "kcenter", "dm"}, ipc: IntList{10}},
	"fig8":   {methods: []string{"random", "kcenter", "dm"}},
}

// WithProfile returns s in profile name: "paper" (or "") is s as it is; "quick" is s with
// every grid (its presets' and sub-grids', flattened) cut down to what a 2-core CPU runs in
// minutes (see ProfileQuick), then what Override set on s. s is not changed.
func WithProfile(s *Spec, name string) (*Spec, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", ProfilePaper:
		out := *s
		return &out, nil
	case ProfileQuick:
	default:
		return nil, fmt.Errorf("unknown profile %q (valid: %s)", name, strings.Join(Profiles(), ", "))
	}
	grids, err := s.flatten()
	if err != nil {
		return nil, err
	}
	out := &Spec{Name: s.Name}
	for _, g := range grids {
		q := g.Spec
		q.Datasets = StringList{"embedded"}
		q.Data = nil
		x := quickGrids[q.Name]
		switch {
		case x.methods != nil:
			q.Methods = slices.DeleteFunc(slices.Clone(q.Methods), func(m string) bool { return !slices.Contains(x.methods, m) })
		case slices.Contains(q.Methods, "random"):
			q.Methods = StringList{"random"}
		case len(q.Methods) > 0:
			q.Methods = q.Methods[:1]
		}
		if x.models != nil {
			q.Models = slices.Clone(x.models)
		}
		if x.ipc != nil {
			q.IPC = slices.Clone(x.ipc)
		} else if len(q.IPC) > 0 {
			q.IPC = IntList{slices.Min(q.IPC)}
		}
		if q.Kind == "cost" {
			q.Seeds = SeedList{0}
		} else {
			q.Seeds, q.Epochs, q.Batch, q.TestN = SeedList{0}, 10, 100, 200
		}
		q.CondenseSeeds = nil
		mp := map[string]map[string]any{}
		for m, p := range q.MethodParams {
			mp[m] = maps.Clone(p)
		}
		for _, m := range q.Methods {
			if slices.Contains(synthesis, m) {
				if mp[m] == nil {
					mp[m] = map[string]any{}
				}
				mp[m]["iterations"] = 3
				if m != "mtt" && m != "kip" {
					mp[m]["batch_real"] = 16
				}
			}
			if m == "kcenter" && mp[m] != nil && mp[m]["max_iter"] != nil {
				mp[m]["max_iter"] = 10
			}
		}
		q.MethodParams = mp
		out.Grids = append(out.Grids, q)
	}
	out.override = s.override // fields set with Override (the command line) win over the profile
	return out, nil
}
